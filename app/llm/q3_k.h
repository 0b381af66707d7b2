#pragma once
// ggml's Q3_K super-block (110 bytes per 256 values): dequantisation, and its product with
// an input quantised in groups of 32. Internal linkage, as in k_quants.h (each kernel file
// gets its own copy inside its target pragma).
//
// Layout: 32 bytes of high bits (hmask), 64 bytes of 2-bit pairs (qs), 12 bytes of packed
// 6-bit scales, f16 d. The 256 values are two halves of 128, each four groups of 32:
// value l of group k in half h takes bits 2k..2k+1 of qs[32h + l] as its low two bits, and
// is lowered by 4 unless bit 4h + k of hmask[l] is set (values -4..3). Each 16 values
// (sub-block 8h + 2k + l / 16) have a signed scale: value = d * (scale - 32) * q.
// Scale j's low four bits are nibble j / 8 of byte j % 8; its top two are bits
// 2 * (j / 4) of byte 8 + j % 4.
#include "block_sum.h"
#include "ops.h"
#include "tensor.h"

namespace llm::q3_k {
namespace {

constexpr size_t q3_k_bytes = block_bytes(TensorType::Q3_K);

// The sixteen scales, as signed values -32..31.
inline void scales(const u8* block, i32* out)
{
    const u8* packed = block + 96;
    for (i32 j = 0; j < 16; ++j) {
        i32 low = (packed[j % 8] >> (4 * (j / 8))) & 0xF;
        i32 high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (low | high << 4) - 32;
    }
}

inline float d_of(const u8* block) { return ops::half_to_float(u16(block[108] | block[109] << 8)); }

// Group g's (0..7) 32 values, -4..3.
inline void group_values(const u8* block, i32 g, i8* out)
{
    i32 half = g / 4, k = g % 4;
    const u8* hmask = block;
    const u8* pairs = block + 32 + 32 * half;
    i32 high_bit = 4 * half + k;
    for (i32 l = 0; l < 32; ++l)
        out[l] = i8(i32((pairs[l] >> (2 * k)) & 3) - (((hmask[l] >> high_bit) & 1) ? 0 : 4));
}

inline void dequantize(const u8* block, float* out)
{
    float d = d_of(block);
    i32 scale[16];
    scales(block, scale);
    i8 values[32];
    for (i32 g = 0; g < 8; ++g, out += 32) {
        group_values(block, g, values);
        for (i32 l = 0; l < 32; ++l)
            out[l] = d * float(scale[2 * g + l / 16]) * float(values[l]);
    }
}

// One super-block against its 256 inputs, added to `value`: per group of 32, the two
// 16-value halves' exact integer sums times their scales, then one float term (as Q6_K's);
// the eight terms are added as tree_sum8's tree (block_sum.h), the order every variant
// follows.
template<typename Values, typename DotI8>
float block_dot(float value, const u8* block, const i8* xq, const float* xs, Values const& values_of, DotI8 const& dot_i8)
{
    float d = d_of(block);
    i32 scale[16];
    scales(block, scale);
    alignas(32) i8 values[32];
    float terms[8];
    for (i32 g = 0; g < 8; ++g, xq += 32) {
        values_of(block, g, values);
        i32 products = scale[2 * g] * dot_i8(values, xq, 16) + scale[2 * g + 1] * dot_i8(values + 16, xq + 16, 16);
        terms[g] = float(products) * d * xs[g];
    }
    return value + tree_sum8(terms);
}

template<typename Values, typename DotI8>
void matmul(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d, Values const& values_of, DotI8 const& dot_i8)
{
    rows_of_256(out, blocks, q3_k_bytes, n, d,
        [&](float value, const u8* block, i32 b) { return block_dot(value, block, xq + 256 * b, xs + 8 * b, values_of, dot_i8); });
}

}
}
