#pragma once
// ggml's Q2_K super-block (84 bytes per 256 values): dequantisation, and its product with
// an input quantised in groups of 32. Internal linkage, as in k_quants.h (each kernel file
// gets its own copy inside its target pragma).
//
// Layout: 16 bytes of scales and mins, 64 bytes of 2-bit values (qs), f16 d, f16 dmin. The
// 256 values are two halves of 128, each four groups of 32: value l of group k in half h is
// bits 2k..2k+1 of qs[32h + l] (0..3). Each 16 values (sub-block 8h + 2k + l / 16) have a
// byte whose low nibble is their scale and high nibble their min:
//   value = d * scale * q - dmin * min.
#include "block_sum.h"
#include "ops.h"
#include "tensor.h"

namespace llm::q2_k {
namespace {

constexpr size_t q2_k_bytes = block_bytes(TensorType::Q2_K);
constexpr size_t values_at = 16, d_at = 80, dmin_at = 82;

inline float half_at(const u8* at) { return ops::half_to_float(u16(at[0] | at[1] << 8)); }

// Group g's (0..7) 32 values, 0..3.
inline void group_values(const u8* block, i32 g, i8* out)
{
    const u8* pairs = block + values_at + 32 * (g / 4);
    i32 shift = 2 * (g % 4);
    for (i32 l = 0; l < 32; ++l)
        out[l] = i8((pairs[l] >> shift) & 3);
}

inline void dequantize(const u8* block, float* out)
{
    float d = half_at(block + d_at), dmin = half_at(block + dmin_at);
    i8 values[32];
    for (i32 g = 0; g < 8; ++g, out += 32) {
        group_values(block, g, values);
        for (i32 l = 0; l < 32; ++l) {
            u8 scale_and_min = block[2 * g + l / 16];
            out[l] = d * float(scale_and_min & 0xF) * float(values[l]) - dmin * float(scale_and_min >> 4);
        }
    }
}

// The input's sum over 16 values (a sub-block's).
inline i32 sum16(const i8* xq)
{
    i32 sum = 0;
    for (i32 l = 0; l < 16; ++l)
        sum += xq[l];
    return sum;
}

// One super-block against its 256 inputs, added to `value`, in Q4_K's manner: per group
// of 32, the exact integer sums of its two 16-value halves times their scales, and the
// input's sums over the same halves times their mins; the group's float term is
//   (float(scaled products) * d - float(scaled input sums) * dmin) * xs
// and the eight terms are added as tree_sum8's tree (block_sum.h), the order every variant
// follows.
template<typename Values, typename DotI8>
float block_dot(float value, const u8* block, const i8* xq, const float* xs, Values const& values_of, DotI8 const& dot_i8)
{
    float d = half_at(block + d_at), dmin = half_at(block + dmin_at);
    alignas(32) i8 values[32];
    float terms[8];
    for (i32 g = 0; g < 8; ++g, xq += 32) {
        values_of(block, g, values);
        u8 first = block[2 * g], second = block[2 * g + 1];
        i32 products = i32(first & 0xF) * dot_i8(values, xq, 16) + i32(second & 0xF) * dot_i8(values + 16, xq + 16, 16);
        i32 sums = i32(first >> 4) * sum16(xq) + i32(second >> 4) * sum16(xq + 16);
        terms[g] = (float(products) * d - float(sums) * dmin) * xs[g];
    }
    return value + tree_sum8(terms);
}

template<typename Values, typename DotI8>
void matmul(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d, Values const& values_of, DotI8 const& dot_i8)
{
    rows_of_256(out, blocks, q2_k_bytes, n, d,
        [&](float value, const u8* block, i32 b) { return block_dot(value, block, xq + 256 * b, xs + 8 * b, values_of, dot_i8); });
}

}
}
