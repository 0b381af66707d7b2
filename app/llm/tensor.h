#pragma once
// A weight tensor as the forward pass sees it: a typed view {type, rows, cols, data} of a
// row-major matrix (or a vector: one row), whatever file it came from. Every type's layout
// is one line of BAREFLOW_TENSOR_TYPES below: adding a type is that line plus its kernels
// (its by_type functions in tensor.cpp and, for tuned ones, an operation in operations.h).
#include "kernels/kernels.h"
#include <rt/span.h>
#include <rt/types.h>

namespace llm {

// Every tensor type, once: X(Name, id, values per block, bytes per block, the operation
// that multiplies it, its ggml type number in GGUF files or -1).
//   F32   floats (llama2.c fp32, GGUF F32)
//   F16   IEEE halves (GGUF F16; converted with F16C where the CPU has it)
//   BF16  bfloat16: a float's upper 16 bits (GGUF BF16; a shift makes it the float again)
//   Q8    llama2.c int8: `group` values share a float scale, kept apart from the values
//   Q8_0  GGUF blocks: f16 scale + 32 int8
//   Q4_0  GGUF blocks: f16 scale + 32 4-bit values
//   Q4_K, Q6_K  GGUF k-quant super-blocks of 256 values (k_quants.h)
//   Q5_0, Q5_1, Q5_K  GGUF 5-bit blocks, Q4_1  Q5_1 without the fifth bits (q5_quants.h); Q3_K  3-bit super-blocks (q3_k.h)
//   Q2_K  GGUF 2-bit super-blocks with 4-bit scales and mins (q2_k.h)
//   IQ4_NL  GGUF blocks: f16 scale + 32 4-bit indices into a table of 16 values (block_quants.h)
//   IQ4_XS  GGUF super-blocks of eight IQ4_NL groups with 6-bit scales (block_quants.h)
//   Q4_0x8, Q8_0x8, Q4_Kx8, Q5_Kx8, Q6_Kx8  Q4_0, Q8_0, Q4_K, Q5_K and Q6_K rows repacked at load in groups of eight
//         (interleaved_blocks.h): no file
//         holds it; a group takes the bytes of its eight plain rows, so row(i) still
//         points at group i / 8 when i is a multiple of 8
//   Q8x8  Q8 rows (group 32) repacked likewise, their scales too (interleaved_blocks.h)
#define BAREFLOW_TENSOR_TYPES(X)          \
    X(F32, f32, 1, 4, Matmul, 0)          \
    X(F16, f16, 1, 2, GgufF16, 1)         \
    X(Q8, q8, 1, 1, MatmulQ8, -1)         \
    X(Q8_0, q8_0, 32, 2 + 32, GgufQ8_0, 8) \
    X(Q4_0, q4_0, 32, 2 + 16, GgufQ4_0, 2) \
    X(Q4_K, q4_k, 256, 144, GgufQ4K, 12)  \
    X(Q6_K, q6_k, 256, 210, GgufQ6K, 14)  \
    X(Q5_0, q5_0, 32, 22, GgufQ5_0, 6)    \
    X(Q5_1, q5_1, 32, 24, GgufQ5_1, 7)    \
    X(Q4_1, q4_1, 32, 20, GgufQ4_1, 3)    \
    X(Q5_K, q5_k, 256, 176, GgufQ5K, 13)  \
    X(Q3_K, q3_k, 256, 110, GgufQ3K, 11)   \
    X(Q2_K, q2_k, 256, 84, GgufQ2K, 10)    \
    X(BF16, bf16, 1, 2, GgufBf16, 30)     \
    X(IQ4_NL, iq4_nl, 32, 2 + 16, GgufIq4Nl, 20) \
    X(IQ4_XS, iq4_xs, 256, 136, GgufIq4Xs, 23)   \
    X(Q4_0x8, q4_0x8, 32, 2 + 16, GgufQ4_0x8, -1) \
    X(Q8_0x8, q8_0x8, 32, 2 + 32, GgufQ8_0x8, -1) \
    X(Q4_Kx8, q4_kx8, 256, 144, GgufQ4Kx8, -1)   \
    X(Q5_Kx8, q5_kx8, 256, 176, GgufQ5Kx8, -1) \
    X(Q6_Kx8, q6_kx8, 256, 210, GgufQ6Kx8, -1) \
    X(Q8x8, q8x8, 1, 1, MatmulQ8x8, -1)

enum class TensorType : u8 {
#define BAREFLOW_TENSOR_ENUM(name, id, values, bytes, op, ggml) name,
    BAREFLOW_TENSOR_TYPES(BAREFLOW_TENSOR_ENUM)
#undef BAREFLOW_TENSOR_ENUM
};

struct Tensor {
    TensorType type { TensorType::F32 };
    i32 rows { 0 };
    i32 cols { 0 };
    const u8* data { nullptr };
    // Q8 only: one scale per `group` consecutive values, indexed by flat position (Q8x8:
    // those of a group of eight rows reordered among themselves).
    const float* scales { nullptr };
    i32 group { 0 };

    const float* floats() const { return reinterpret_cast<const float*>(data); }
    const i8* int8() const { return reinterpret_cast<const i8*>(data); }
    size_t row_bytes() const;
    const u8* row(size_t index) const { return data + index * row_bytes(); }
};

// The input vector of a matrix product, in every form a tensor type reads: the floats, and
// (when the model's matrices want it) its int8 quantisation in groups with their scales
// and, for GGUF's k-quants, the groups' sums; with Q6_Kx8 rows in the model also the
// sums of each 16 values (the batch kernel's offsets; null otherwise).
struct MatmulInput {
    const float* x;
    const i8* q;
    const float* s;
    const i32* sums;
    const i32* sums16 { nullptr };
};

struct TensorTypeTraits {
    const char* name;
    u32 block_values; // values per block (1 for F32, F16, BF16 and Q8, whose group size the tensor carries)
    u32 block_bytes;  // bytes per block (Q8: one int8 value; its scales lie apart)
    // The operation whose tuned variant multiplies this type, and its core count.
    kernels::Op op;
    // Rows [begin, end) of out = W . x with the active variant of `op`.
    void (*rows)(float* out, MatmulInput const&, Tensor const&, size_t begin, size_t end);
    // Row `row` as floats (n = cols values).
    void (*dequantize_row)(Tensor const&, size_t row, float* out);
    i32 ggml_type; // its number in GGUF files, -1 for llama2.c's own
};

// What the traits table points at (tensor.cpp): each type's rows and row dequantiser.
namespace by_type {
#define BAREFLOW_TENSOR_FUNCTIONS(name, id, values, bytes, op, ggml)                               \
    void id##_rows(float* out, MatmulInput const&, Tensor const&, size_t begin, size_t end); \
    void id##_row(Tensor const&, size_t row, float* out);
BAREFLOW_TENSOR_TYPES(BAREFLOW_TENSOR_FUNCTIONS)
#undef BAREFLOW_TENSOR_FUNCTIONS
}

// In TensorType's order. The block layouts are constants the kernels use too.
inline constexpr TensorTypeTraits tensor_types[] = {
#define BAREFLOW_TENSOR_TRAITS(name, id, values, bytes, op, ggml) \
    { #name, values, bytes, kernels::Op::op, by_type::id##_rows, by_type::id##_row, ggml },
    BAREFLOW_TENSOR_TYPES(BAREFLOW_TENSOR_TRAITS)
#undef BAREFLOW_TENSOR_TRAITS
};
constexpr size_t tensor_type_count = sizeof tensor_types / sizeof tensor_types[0];

constexpr TensorTypeTraits const& traits(TensorType type) { return tensor_types[size_t(type)]; }
constexpr size_t block_bytes(TensorType type) { return traits(type).block_bytes; }
constexpr size_t block_values(TensorType type) { return traits(type).block_values; }
// Bytes of one row of `cols` values (Q8: its int8 values; the scales lie apart).
constexpr size_t row_bytes(TensorType type, i32 cols) { return size_t(cols) / block_values(type) * block_bytes(type); }
inline size_t Tensor::row_bytes() const { return llm::row_bytes(type, cols); }
inline const char* name(TensorType type) { return traits(type).name; }

// Dequantises row `row` of a tensor into `out` (cols floats).
inline void dequantize_row(Tensor const& t, size_t row, float* out) { traits(t.type).dequantize_row(t, row, out); }

// Where a tensor's rows may be split between cores: multiples of kernels::row_granule, and
// of Q8's group so each chunk starts a scale group.
inline size_t row_granule(Tensor const& w) { return w.group > 0 && size_t(w.group) > kernels::row_granule ? size_t(w.group) : kernels::row_granule; }

// Several products of one input split between the cores as one range of rows (their rows
// one after another): possible when they share a type and group and each but the last ends
// on the granule, so every chunk starts where a product's own split could.
struct JoinedRows {
    size_t granule;
    size_t total;
    bool joinable;
};
template<typename Products> // Product or BatchProduct: what matters is .weights
JoinedRows joined_rows(Products const& products)
{
    Tensor const& first = *products[0].weights;
    JoinedRows joined { row_granule(first), 0, true };
    for (size_t i = 0; i < products.size(); ++i) {
        Tensor const& w = *products[i].weights;
        joined.joinable = joined.joinable && w.type == first.type && w.group == first.group
            && (i + 1 == products.size() || size_t(w.rows) % joined.granule == 0);
        joined.total += size_t(w.rows);
    }
    return joined;
}

// out[rows] = W . x: rows split between the cores (in multiples of kernels::row_granule,
// and of Q8's group so each chunk starts a scale group), each run by the tuned kernel of
// the tensor's type on as many cores as the plan gives that operation.
void matmul(float* out, MatmulInput const&, Tensor const&);

// Several products of one input (Q, K and V; the FFN's gate and up) in one fork-join
// instead of one each: their rows are split between the cores as one range. Every row is
// still computed whole by the same kernel at the same offset within its matrix, so the
// results are those of separate matmuls. Matrices of different types, or row counts that
// would put a chunk start off the granule, take one matmul each.
struct Product {
    float* out;
    Tensor const* weights;
};
void matmul(rt::Span<const Product>, MatmulInput const&);

}
