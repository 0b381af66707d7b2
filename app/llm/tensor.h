#pragma once
// A weight tensor as the forward pass sees it: a typed view {type, rows, cols, data} of a
// row-major matrix (or a vector: one row), whatever file it came from. Every type's layout
// is one entry of a traits table (tensor.cpp): adding a type is that entry plus its kernels.
#include "kernels/kernels.h"
#include <rt/types.h>

namespace llm {

enum class TensorType : u8 {
    F32,  // floats (llama2.c fp32, GGUF F32)
    F16,  // IEEE halves
    Q8,   // llama2.c int8: `group` values share a float scale, scales apart from the values
    Q8_0, // GGUF blocks: f16 scale + 32 int8
    Q4_0, // GGUF blocks: f16 scale + 32 4-bit values
    Q4_K, // GGUF k-quant super-blocks of 256 values (k_quants.h)
    Q6_K,
};

struct Tensor {
    TensorType type { TensorType::F32 };
    i32 rows { 0 };
    i32 cols { 0 };
    const u8* data { nullptr };
    // Q8 only: one scale per `group` consecutive values, indexed by flat position.
    const float* scales { nullptr };
    i32 group { 0 };

    const float* floats() const { return reinterpret_cast<const float*>(data); }
    const i8* int8() const { return reinterpret_cast<const i8*>(data); }
    size_t row_bytes() const;
    const u8* row(size_t index) const { return data + index * row_bytes(); }
};

// The input vector of a matrix product, in every form a tensor type reads: the floats, and
// (when the model's matrices want it) its int8 quantisation in groups with their scales
// and, for GGUF's k-quants, the groups' sums.
struct MatmulInput {
    const float* x;
    const i8* q;
    const float* s;
    const i32* sums;
};

struct TensorTypeTraits {
    const char* name;
    u32 block_values; // values per block (1 for F32, F16 and Q8, whose group size the tensor carries)
    u32 block_bytes;  // bytes per block (Q8: one int8 value; its scales lie apart)
    // The operation whose tuned variant multiplies this type, and its core count.
    kernels::Op op;
    // Rows [begin, end) of out = W . x with the active variant of `op`.
    void (*rows)(float* out, MatmulInput const&, Tensor const&, size_t begin, size_t end);
    // Row `row` as floats (n = cols values).
    void (*dequantize_row)(Tensor const&, size_t row, float* out);
};

// What the traits table points at (tensor.cpp): each type's rows and row dequantiser.
namespace by_type {
#define BAREFLOW_TENSOR_FUNCTIONS(type)                                                                \
    void type##_rows(float* out, MatmulInput const&, Tensor const&, size_t begin, size_t end); \
    void type##_row(Tensor const&, size_t row, float* out);
BAREFLOW_TENSOR_FUNCTIONS(f32)
BAREFLOW_TENSOR_FUNCTIONS(f16)
BAREFLOW_TENSOR_FUNCTIONS(q8)
BAREFLOW_TENSOR_FUNCTIONS(q8_0)
BAREFLOW_TENSOR_FUNCTIONS(q4_0)
BAREFLOW_TENSOR_FUNCTIONS(q4_k)
BAREFLOW_TENSOR_FUNCTIONS(q6_k)
#undef BAREFLOW_TENSOR_FUNCTIONS
}

// In TensorType's order. The block layouts are constants the kernels use too.
inline constexpr TensorTypeTraits tensor_types[] = {
    { "F32", 1, 4, kernels::Op::Matmul, by_type::f32_rows, by_type::f32_row },
    { "F16", 1, 2, kernels::Op::Matmul, by_type::f16_rows, by_type::f16_row }, // the reference only, on matmul's cores
    { "Q8", 1, 1, kernels::Op::MatmulQ8, by_type::q8_rows, by_type::q8_row },
    { "Q8_0", 32, 2 + 32, kernels::Op::GgufQ8_0, by_type::q8_0_rows, by_type::q8_0_row },    // f16 scale + 32 int8
    { "Q4_0", 32, 2 + 16, kernels::Op::GgufQ4_0, by_type::q4_0_rows, by_type::q4_0_row },    // f16 scale + 32 nibbles
    { "Q4_K", 256, 144, kernels::Op::GgufQ4K, by_type::q4_k_rows, by_type::q4_k_row },       // see k_quants.h
    { "Q6_K", 256, 210, kernels::Op::GgufQ6K, by_type::q6_k_rows, by_type::q6_k_row },
};
static_assert(sizeof tensor_types / sizeof tensor_types[0] == size_t(TensorType::Q6_K) + 1);

constexpr TensorTypeTraits const& traits(TensorType type) { return tensor_types[size_t(type)]; }
constexpr size_t block_bytes(TensorType type) { return traits(type).block_bytes; }
constexpr size_t block_values(TensorType type) { return traits(type).block_values; }
// Bytes of one row of `cols` values (Q8: its int8 values; the scales lie apart).
constexpr size_t row_bytes(TensorType type, i32 cols) { return size_t(cols) / block_values(type) * block_bytes(type); }
inline size_t Tensor::row_bytes() const { return llm::row_bytes(type, cols); }
inline const char* name(TensorType type) { return traits(type).name; }

// Dequantises row `row` of a tensor into `out` (cols floats).
inline void dequantize_row(Tensor const& t, size_t row, float* out) { traits(t.type).dequantize_row(t, row, out); }

// out[rows] = W . x: rows split between the cores (in multiples of kernels::row_granule,
// and of Q8's group so each chunk starts a scale group), each run by the tuned kernel of
// the tensor's type on as many cores as the plan gives that operation.
void matmul(float* out, MatmulInput const&, Tensor const&);

}
