#pragma once
// ggml's 32-value blocks (Q8_0: f16 scale + 32 int8; Q4_0 and IQ4_NL: f16 scale + 16 bytes of nibbles)
// against an input quantised in groups of 32: each block's integer dot product is exact,
// and the float accumulation below is the one order every variant uses, so the scalar
// reference and the SIMD kernels give the same bits: block b's term is
// float(integer) * d * xs[b]; each run of eight blocks is added as tree_sum8's tree (the
// SIMD kernels compute eight terms in one vector), the last per_row % 8 blocks one by one. Internal linkage, as in k_quants.h:
// each kernel file gets its own copy inside its target pragma.
#include "block_sum.h"
#include "ops.h"
#include "tensor.h"

namespace llm::block_quants {
namespace {

// Block b's float term: the block's integer dot with the input's group b, times the
// block's f16 scale d, times the group's scale.
inline float term(i32 integer, const u8* block, float x_scale)
{
    return float(integer) * ops::half_to_float(u16(block[0] | block[1] << 8)) * x_scale;
}

// One row's sum of its `per_row` terms (term_of(b)): runs of eight as tree_sum8's tree,
// the last per_row % 8 one by one.
template<typename TermOf>
float row_sum(i32 per_row, TermOf const& term_of)
{
    float value = 0.0f;
    i32 b = 0;
    for (; b + 8 <= per_row; b += 8) {
        float terms[8];
        for (i32 k = 0; k < 8; ++k)
            terms[k] = term_of(b + k);
        value += tree_sum8(terms);
    }
    for (; b < per_row; ++b)
        value += term_of(b);
    return value;
}

// Rows of `type` blocks; block_integer(block, b) is block b's integer dot with the input's
// group b (whatever instruction set computes it).
template<typename BlockInteger>
void rows(TensorType type, float* out, const float* xs, const u8* blocks, i32 n, i32 d, BlockInteger const& block_integer)
{
    size_t bytes = block_bytes(type);
    i32 per_row = n / 32;
    for (i32 i = 0; i < d; ++i) {
        const u8* row = blocks + size_t(i) * size_t(per_row) * bytes;
        out[i] = row_sum(per_row, [&](i32 b) {
            const u8* block = row + size_t(b) * bytes;
            return term(block_integer(block, b), block, xs[b]);
        });
    }
}

// IQ4_NL's 16 values, which its nibbles index: spaced more closely near zero, where
// weights cluster (ggml's kvalues_iq4nl).
inline constexpr i8 iq4_values[16] = { -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113 };

// IQ4_NL's nibbles as their values, in Q4_0's order.
inline void unpack_iq4(const u8* packed, i8* out)
{
    for (i32 k = 0; k < 16; ++k) {
        out[k] = iq4_values[packed[k] & 0xF];
        out[k + 16] = iq4_values[packed[k] >> 4];
    }
}

// IQ4_XS: super-blocks of 256 values (136 bytes: f16 d, 2 bytes of the scales' high bits,
// 4 bytes of their low nibbles, then eight groups of 16 bytes of IQ4_NL's nibbles). Group
// k's 6-bit scale l (0..63) counts as l - 32. Its term is float(integer * (l - 32)) * d *
// xs[k] (the integer product is exact in float: at most 32 * 127 * 127 * 32 < 2^24), and a
// super-block's eight terms are added as tree_sum8's tree.
namespace iq4_xs {
constexpr size_t bytes = 136, nibbles_at = 8;

// Group k's signed scale, l - 32.
inline i32 scale(const u8* block, i32 k)
{
    u32 high = u32(block[2] | block[3] << 8);
    u32 l = ((block[4 + k / 2] >> (4 * (k % 2))) & 0xF) | (((high >> (2 * k)) & 3) << 4);
    return i32(l) - 32;
}

// Rows of IQ4_XS super-blocks; group_integer(nibbles, g) is the integer dot of the 16
// bytes of nibbles with the input's group g (whatever instruction set computes it).
template<typename GroupInteger>
void rows(float* out, const float* xs, const u8* blocks, i32 n, i32 d, GroupInteger const& group_integer)
{
    i32 per_row = n / 256;
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * bytes;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += bytes) {
            float scale_d = ops::half_to_float(u16(block[0] | block[1] << 8));
            float terms[8];
            for (i32 k = 0; k < 8; ++k) {
                i32 g = 8 * b + k;
                terms[k] = float(group_integer(block + nibbles_at + 16 * k, g) * scale(block, k)) * scale_d * xs[g];
            }
            value += tree_sum8(terms);
        }
        out[i] = value;
    }
}
}

// Q4_0's nibbles as values -8..7: low nibbles are values 0..15, high ones 16..31.
inline void unpack_q4(const u8* packed, i8* out)
{
    for (i32 k = 0; k < 16; ++k) {
        out[k] = i8((packed[k] & 0xF) - 8);
        out[k + 16] = i8((packed[k] >> 4) - 8);
    }
}

}
}
