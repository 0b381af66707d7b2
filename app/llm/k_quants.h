#pragma once
// ggml's k-quant super-blocks (256 values): dequantisation, and their products with an
// input quantised in groups of 32 (ops::quantize). The functions have internal linkage on
// purpose: each kernel file includes this inside its own target pragma, so every
// instruction set gets its own (auto-vectorised) copy and none can replace another's.
//
// Q4_K: f16 d, f16 dmin, 12 bytes of packed 6-bit sub-block scales and mins, 128 bytes of
// nibbles; value = d * scale * q - dmin * min, one scale and min per 32 values.
// Q6_K: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, f16 d;
// value = d * scale * (q - 32), one scale per 16 values.
#include "block_sum.h"
#include "ops.h"
#include "tensor.h"

namespace llm::k_quants {
namespace {

constexpr size_t q4_k_block_bytes = block_bytes(TensorType::Q4_K);
constexpr size_t q6_k_block_bytes = block_bytes(TensorType::Q6_K);

inline u16 read_half(const u8* p) { return u16(p[0] | p[1] << 8); }

// Sub-block j's 6-bit scale and min from Q4_K's 12 packed bytes.
inline void scale_and_min(i32 j, const u8* packed, u8& scale, u8& min)
{
    if (j < 4) {
        scale = packed[j] & 63;
        min = packed[j + 4] & 63;
    } else {
        scale = u8((packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4));
        min = u8((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
    }
}

// Q6_K group k (0..3) of a 128-value half: its 32 six-bit values minus 32. The low four
// bits come from `low` (groups 1 and 3 from its second 32 bytes, groups 2 and 3 from the
// high nibbles), the top two from bits 2k..2k+1 of `high`.
inline void q6_k_group_values(const u8* low, const u8* high, i32 k, i8* out)
{
    const u8* nibbles = low + (k & 1) * 32;
    i32 nibble_shift = (k >> 1) * 4, high_shift = 2 * k;
    for (i32 l = 0; l < 32; ++l)
        out[l] = i8(i32(((nibbles[l] >> nibble_shift) & 0xF) | (((high[l] >> high_shift) & 3) << 4)) - 32);
}

inline void dequantize_q4_k(const u8* block, float* out)
{
    float d = ops::half_to_float(read_half(block));
    float dmin = ops::half_to_float(read_half(block + 2));
    const u8* packed = block + 4;
    const u8* q = block + 16;
    for (i32 chunk = 0; chunk < 4; ++chunk, q += 32) {
        u8 scale, min;
        scale_and_min(2 * chunk, packed, scale, min);
        float d1 = d * float(scale), m1 = dmin * float(min);
        scale_and_min(2 * chunk + 1, packed, scale, min);
        float d2 = d * float(scale), m2 = dmin * float(min);
        for (i32 l = 0; l < 32; ++l)
            *out++ = d1 * float(q[l] & 0xF) - m1;
        for (i32 l = 0; l < 32; ++l)
            *out++ = d2 * float(q[l] >> 4) - m2;
    }
}

inline void dequantize_q6_k(const u8* block, float* out)
{
    const u8* low = block;
    const u8* high = block + 128;
    auto const* scales = reinterpret_cast<const i8*>(block + 192);
    float d = ops::half_to_float(read_half(block + 208));
    i8 values[32];
    for (i32 half = 0; half < 2; ++half, low += 64, high += 32, scales += 8)
        for (i32 k = 0; k < 4; ++k) {
            q6_k_group_values(low, high, k, values);
            for (i32 l = 0; l < 32; ++l)
                *out++ = d * float(scales[2 * k + l / 16]) * float(values[l]);
        }
}

// One Q4_K super-block against its 256 inputs (8 groups: int8 values xq, scales xs, sums
// xsums), added to `value`. Each group's integer part is exact whichever `dot_i8`
// computes it; its float term is
//   sum(x * (d*scale*q - dmin*min)) = xs * (d * float(scale * sum(xq * q)) - dmin * float(min * sum(xq)))
// and the eight terms are added as tree_sum8's tree, so every variant that follows this
// order (the SIMD ones compute all eight terms in one vector) gives the reference's bits.
template<typename DotI8>
float q4_k_block_dot(float value, const u8* block, const i8* xq, const float* xs, const i32* xsums, DotI8 dot_i8)
{
    float d = ops::half_to_float(read_half(block));
    float dmin = ops::half_to_float(read_half(block + 2));
    const u8* packed = block + 4;
    const u8* q = block + 16;
    alignas(32) i8 low[32], high[32];
    float terms[8];
    for (i32 chunk = 0; chunk < 4; ++chunk, q += 32) {
        for (i32 l = 0; l < 32; ++l) {
            low[l] = i8(q[l] & 0xF);
            high[l] = i8(q[l] >> 4);
        }
        for (i32 part = 0; part < 2; ++part) {
            i32 j = 2 * chunk + part;
            u8 scale, min;
            scale_and_min(j, packed, scale, min);
            i32 products = dot_i8(part ? high : low, xq + 32 * j, 32);
            terms[j] = (float(i32(scale) * products) * d - float(i32(min) * xsums[j]) * dmin) * xs[j];
        }
    }
    return value + tree_sum8(terms);
}

// One Q6_K super-block against its 256 inputs, in the same manner: the two 16-value
// halves of a group have their own scales, applied to exact integer sums; group j's term
// is float(products) * d * xs[j], and the eight terms are added as tree_sum8's tree.
template<typename DotI8>
float q6_k_block_dot(float value, const u8* block, const i8* xq, const float* xs, DotI8 dot_i8)
{
    const u8* low = block;
    const u8* high = block + 128;
    auto const* scales = reinterpret_cast<const i8*>(block + 192);
    float d = ops::half_to_float(read_half(block + 208));
    alignas(32) i8 values[32];
    float terms[8];
    for (i32 half = 0; half < 2; ++half, low += 64, high += 32, scales += 8)
        for (i32 k = 0; k < 4; ++k, xq += 32) {
            q6_k_group_values(low, high, k, values);
            i32 products = i32(scales[2 * k]) * dot_i8(values, xq, 16) + i32(scales[2 * k + 1]) * dot_i8(values + 16, xq + 16, 16);
            terms[4 * half + k] = float(products) * d * xs[4 * half + k];
        }
    return value + tree_sum8(terms);
}

}
}
