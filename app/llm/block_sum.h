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

}
