#pragma once
// The float order shared by the GGUF block products (k_quants.h, block_quants.h): eight
// per-group terms are added as one fixed tree before they reach the row's running sum.
// The tree is the one a 256-bit vector's horizontal sum takes (halves, then pairs, then
// the last two), so the SIMD kernels add eight groups' terms with three vector steps and
// the scalar reference, written out here, gives the same bits.
#include <rt/types.h>

namespace llm {

inline float tree_sum8(const float* t)
{
    return ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
}

// Rows of 256-value super-blocks of `bytes` each: row i's value is its blocks'
// block_dot(value so far, block, b) in turn, from 0 (b: the block's place in the row, whose
// inputs are 256 * b on).
template<typename BlockDot>
void rows_of_256(float* out, const u8* blocks, size_t bytes, i32 n, i32 d, BlockDot const& block_dot)
{
    i32 per_row = n / 256;
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * bytes;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += bytes)
            value = block_dot(value, block, b);
        out[i] = value;
    }
}

}
