#pragma once
// ggml's 5-bit formats: dequantisation, and their products with an input quantised in
// groups of 32 (ops::quantize, with ops::group_sums). Internal linkage on purpose, as in
// k_quants.h: each kernel file includes this inside its own target pragma, so every
// instruction set gets its own copy and none can replace another's.
//
// Q5_0 (22 bytes per 32 values): f16 d, 4 bytes of fifth bits (bit k for value k), 16
//   bytes of nibbles (values 0..15 in the low nibbles, 16..31 in the high ones);
//   value = d * (q - 16).
// Q5_1 (24 bytes per 32 values): f16 d, f16 m, then as Q5_0; value = d * q + m.
// Q4_1 (20 bytes per 32 values): Q5_1 without the fifth bits: f16 d, f16 m, 16 bytes of
//   nibbles as Q5_0's; value = d * q + m (q 0..15). Here for its likeness to Q5_1.
// Q5_K (176 bytes per 256 values): f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales
//   and mins packed as Q4_K's, 32 bytes of fifth bits, 128 bytes of nibbles. Values come
//   in four chunks of 64: chunk c's low nibbles (qs[32c..32c+31]) are its first 32 values,
//   the high nibbles the next 32; their fifth bits are bits 2c and 2c+1 of qh[0..31].
//   value = d * scale * q - dmin * min, one scale and min per 32 values.
//
// Every product below turns exact integer sums (whatever `dot_i8` computes them) into one
// float term per 32 values and adds the terms in one fixed order, block_sum.h's: eight
// groups (a Q5_K super-block, or eight Q5_0/Q5_1 blocks, the last per_row % 8 of those one
// by one) as tree_sum8's tree, so the reference and every SIMD variant (which computes the
// eight terms in one vector, x86/low_bit_rows.h) agree bit for bit.
#include "block_quants.h"
#include "block_sum.h"
#include "k_quants.h"
#include "ops.h"
#include "tensor.h"

namespace llm::q5_quants {
namespace {

constexpr size_t q5_0_bytes = block_bytes(TensorType::Q5_0);
constexpr size_t q5_1_bytes = block_bytes(TensorType::Q5_1);
constexpr size_t q4_1_bytes = block_bytes(TensorType::Q4_1);
constexpr size_t q5_k_bytes = block_bytes(TensorType::Q5_K);

inline float half_at(const u8* p) { return ops::half_to_float(u16(p[0] | p[1] << 8)); }
inline u32 u32_at(const u8* p) { return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24; }

// A 32-value block's 5-bit values (0..31) minus `offset`, from its fifth bits and nibbles.
inline void unpack_five_bits(const u8* high_bits, const u8* nibbles, i32 offset, i8* out)
{
    u32 high = u32_at(high_bits);
    for (i32 k = 0; k < 16; ++k) {
        out[k] = i8(i32((nibbles[k] & 0xF) | ((high >> k) & 1) << 4) - offset);
        out[k + 16] = i8(i32((nibbles[k] >> 4) | ((high >> (k + 16)) & 1) << 4) - offset);
    }
}

inline void q5_0_values(const u8* block, i8* out) { unpack_five_bits(block + 2, block + 6, 16, out); }
inline void q5_1_values(const u8* block, i8* out) { unpack_five_bits(block + 4, block + 8, 0, out); }
inline void q4_1_values(const u8* block, i8* out)
{
    const u8* nibbles = block + 4;
    for (i32 k = 0; k < 16; ++k) {
        out[k] = i8(nibbles[k] & 0xF);
        out[k + 16] = i8(nibbles[k] >> 4);
    }
}

// Sub-block j's 6-bit scale and min: packed as Q4_K's.
using k_quants::scale_and_min;

// Q5_K sub-block j's 32 values (0..31).
inline void q5_k_values(const u8* block, i32 j, i8* out)
{
    const u8* high = block + 16;
    const u8* nibbles = block + 48 + 32 * (j / 2);
    i32 nibble_shift = 4 * (j % 2);
    for (i32 l = 0; l < 32; ++l)
        out[l] = i8(((nibbles[l] >> nibble_shift) & 0xF) | ((high[l] >> j) & 1) << 4);
}

inline void dequantize_q5_0(const u8* block, float* out)
{
    float d = half_at(block);
    i8 values[32];
    q5_0_values(block, values);
    for (i32 k = 0; k < 32; ++k)
        out[k] = d * float(values[k]);
}

// Q5_1 and Q4_1: value = d * q + m.
inline void dequantize_with_min(const u8* block, float* out, void (*values_of)(const u8*, i8*))
{
    float d = half_at(block), m = half_at(block + 2);
    i8 values[32];
    values_of(block, values);
    for (i32 k = 0; k < 32; ++k)
        out[k] = d * float(values[k]) + m;
}
inline void dequantize_q5_1(const u8* block, float* out) { dequantize_with_min(block, out, q5_1_values); }
inline void dequantize_q4_1(const u8* block, float* out) { dequantize_with_min(block, out, q4_1_values); }

inline void dequantize_q5_k(const u8* block, float* out)
{
    float d = half_at(block), dmin = half_at(block + 2);
    i8 values[32];
    for (i32 j = 0; j < 8; ++j, out += 32) {
        u8 scale, min;
        scale_and_min(j, block + 4, scale, min);
        q5_k_values(block, j, values);
        float step = d * float(scale), offset = dmin * float(min);
        for (i32 l = 0; l < 32; ++l)
            out[l] = step * float(values[l]) - offset;
    }
}

// Rows of 32-value blocks of `bytes` bytes; term(block, b) is block b's float term against
// the input's group b, added in block_quants::row_sum's order (runs of eight as
// tree_sum8's tree, the rest one by one).
template<typename Term>
void rows_of_32(float* out, const u8* blocks, size_t bytes, i32 n, i32 d, Term const& term)
{
    i32 per_row = n / 32;
    for (i32 i = 0; i < d; ++i) {
        const u8* row = blocks + size_t(i) * size_t(per_row) * bytes;
        out[i] = block_quants::row_sum(per_row, [&](i32 b) { return term(row + size_t(b) * bytes, b); });
    }
}

// sum(x * d * (q - 16)) = xs * d * sum(xq * (q - 16))
template<typename Values, typename DotI8>
void matmul_q5_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d, Values const& values_of, DotI8 const& dot_i8)
{
    alignas(32) i8 values[32];
    rows_of_32(out, blocks, q5_0_bytes, n, d, [&](const u8* block, i32 b) {
        values_of(block, values);
        return float(dot_i8(values, xq + 32 * b, 32)) * half_at(block) * xs[b];
    });
}

// Q5_1 and Q4_1 (`bytes` a block): sum(x * (d * q + m)) = xs * (d * sum(xq * q) + m * sum(xq))
template<typename Values, typename DotI8>
void matmul_with_min(size_t bytes, float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d,
    Values const& values_of, DotI8 const& dot_i8)
{
    alignas(32) i8 values[32];
    rows_of_32(out, blocks, bytes, n, d, [&](const u8* block, i32 b) {
        values_of(block, values);
        float products = float(dot_i8(values, xq + 32 * b, 32)) * half_at(block);
        return (products + float(xsums[b]) * half_at(block + 2)) * xs[b];
    });
}

template<typename Values, typename DotI8>
void matmul_q5_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d, Values const& values_of,
    DotI8 const& dot_i8)
{
    matmul_with_min(q5_1_bytes, out, xq, xs, xsums, blocks, n, d, values_of, dot_i8);
}

template<typename Values, typename DotI8>
void matmul_q4_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d, Values const& values_of,
    DotI8 const& dot_i8)
{
    matmul_with_min(q4_1_bytes, out, xq, xs, xsums, blocks, n, d, values_of, dot_i8);
}

// One Q5_K super-block against its 256 inputs, added to `value`, in Q4_K's order (its
// eight terms as tree_sum8's tree):
// sum(x * (d*scale*q - dmin*min)) = xs * (d * scale * sum(xq * q) - dmin * min * sum(xq))
template<typename Values, typename DotI8>
float q5_k_block_dot(float value, const u8* block, const i8* xq, const float* xs, const i32* xsums, Values const& values_of,
    DotI8 const& dot_i8)
{
    float d = half_at(block), dmin = half_at(block + 2);
    alignas(32) i8 values[32];
    float terms[8];
    for (i32 j = 0; j < 8; ++j) {
        u8 scale, min;
        scale_and_min(j, block + 4, scale, min);
        values_of(block, j, values);
        i32 products = dot_i8(values, xq + 32 * j, 32);
        terms[j] = (float(i32(scale) * products) * d - float(i32(min) * xsums[j]) * dmin) * xs[j];
    }
    return value + tree_sum8(terms);
}

template<typename Values, typename DotI8>
void matmul_q5_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d, Values const& values_of,
    DotI8 const& dot_i8)
{
    i32 per_row = n / 256;
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * q5_k_bytes;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += q5_k_bytes)
            value = q5_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, xsums + 8 * b, values_of, dot_i8);
        out[i] = value;
    }
}

}
}
