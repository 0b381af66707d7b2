#pragma once
// The one pass over the probabilities that the nucleus's binned tail needs (nucleus_tail.h),
// computed by ops::bin_tail and the instruction sets' variants (kernels/operations.h), all
// with the same result: each token's bin, the values above the tail (the nucleus needs no
// more of them: nucleus.h), and the tail's tokens that lie exactly on a bin's edge (listed apart: they round differently).
#include <rt/types.h>

namespace llm {

// Bins are below 2^14; a token outside the tail, or exact, gets spare_bin + its index % 8
// (eight spare bins, so that counting them does not make one wait for the next).
constexpr u32 tail_bin_bits = 14;
constexpr u16 spare_bin = u16(1u << tail_bin_bits);

struct TailBinning {
    u16* bins;        // one per token
    float* above;     // the values at or above the threshold, in index order (room for count + 16)
    u32* exact;       // the indices of the exact tokens, in index order
    u32 most_exact;   // room in `exact`
    u32 above_count { 0 };
    u32 exact_count { 0 }; // all of them, though only most_exact are listed
};

// The exact tokens of a block from `first`, by their mask (a bit per token; rare: the
// variants' one branch a block), as many as the list has room for.
inline void list_exact(TailBinning& out, i32 first, u32 mask)
{
    for (; mask; mask &= mask - 1)
        if (out.exact_count++ < out.most_exact)
            out.exact[out.exact_count - 1] = u32(first + __builtin_ctz(mask));
}

// Where ops::bin_tail and its variants put one token: `scaled` is its value times the scale.
inline void bin_tail_token(TailBinning& out, i32 index, float value, float cutoff, float threshold, float scaled)
{
    u16 spare = u16(spare_bin + u32(index) % 8);
    if (value >= threshold) {
        out.above[out.above_count++] = value;
        out.bins[index] = spare;
        return;
    }
    u32 bin = u32(scaled);
    bool exact = float(bin) == scaled;
    if (value >= cutoff && exact && out.exact_count++ < out.most_exact)
        out.exact[out.exact_count - 1] = u32(index);
    out.bins[index] = value >= cutoff && !exact ? u16(bin) : spare;
}

}
