#pragma once
// The tail of a flat distribution's nucleus, added up without sorting or placing its tokens.
//
// A random-weight model's distribution keeps ~25,000 of 32,000 tokens in its nucleus; counting
// them into buckets and placing them there (nucleus_buckets.cpp) touches each twice through
// memory the forward pass has just evicted. But once llama2.c's running sum S is at least
// 2^e, its ulp is at least 2w, for w = 2^(e - 24), and then what adding a token p does to S
// depends only on k = floor(p / w) and on whether p is exactly k * w: with S a multiple of
// 2w, (S + p) / w = M + f for an integer M = S / w + k and f = p / w - k in [0, 1), and
// rounding that to a multiple of 2^i (i >= 1) goes up or down by M alone when f > 0
// (a tie needs f = 0). So every token below a threshold t counts into bin k, alone, and
// llama2.c's sums over the tokens below t follow from the bins: bin after bin downwards, each
// bin's inexact tokens (all alike: (k + 1/2) * w stands for each) and then its exact ones.
// While S stays in one binade, each inexact token of bin k adds round(p / u) ulps u = 2^j w,
// which is (k + 2^(j-1)) >> j: whole blocks of bins are added at once.
//
// The tokens at or above t (a few thousand on a flat distribution, no more than the bins' width
// allows: t = bins * w) are summed exactly first by the buckets; the tail applies when their
// sum reaches 2^e, which the caller checks. Only the bin of the picked token is read again,
// to find which of its tokens that is.
#include "candidate_sort.h"
#include "tail_binning.h"
#include <rt/error.h>
#include <rt/heap.h>

namespace llm {

class NucleusTail {
public:
    NucleusTail() = default; // empty: create() makes a usable one
    static rt::ErrorOr<NucleusTail> create(i32 vocab_size);

    // Chooses the threshold for these probabilities: the highest that leaves the tokens above
    // it likely to add up to the sum the bins need (estimated from a sample). False when none
    // would leave a tail worth binning.
    bool plan(const float* probabilities, float cutoff);
    float threshold() const { return m_threshold; }
    // The least sum of the tokens above the threshold for which the bins are exact.
    float least_sum() const { return m_least_sum; }

    // The pass over the probabilities (the kernels' bin_tail): each tail token's bin, the
    // values at or above the threshold in index order (above()); returns how many, or ~0u
    // when too many tail tokens are exact to list.
    u32 bin(const float* probabilities, float cutoff);
    float const* above() const { return m_above.data(); }
    // The bins' counts from that pass; false when the tail holds no token.
    bool count();

    // A token's place in the tail: its bin, and how many of that bin's tokens come before it
    // in llama2.c's order.
    struct Place {
        u32 bin, rank;
    };
    static bool before(Place a, Place b) { return a.bin > b.bin || (a.bin == b.bin && a.rank < b.rank); }
    // Where llama2.c's running sum, `sum` before the tail (at least least_sum()), first
    // passes `limit` (that token included in `sum`), or the sum of the whole tail.
    struct Stop {
        float sum;
        Place place;
        bool passed;
    };
    Stop first_passing(float sum, float limit);
    // The same from the sum before the tail that the last first_passing() began with, for a
    // lower limit: resumed from the last block that walk found at or below it.
    Stop first_passing_again(float limit);
    Place last_place() const; // the tail's last token (count() returned true)

    // The token at `place` (its index in the probabilities), read from its bin's tokens.
    i32 token_at(const float* probabilities, Place place);

private:
    struct Added {
        u32 copies;
        bool passed;
    };
    Added add_copies(float& sum, float value, u32 copies, float limit) const;
    // Where a walk through the bins stands: the bins below `end` are still to be added to
    // `sum`; m_exact[next_exact] is the first exact token among them.
    struct Walk {
        u32 end;
        float sum;
        u32 next_exact;
    };
    Stop walk(Walk from, float limit, bool record);
    Stop walk_block(Walk& at, u32 begin, float limit) const;
    u32 block_units(u32 begin, u32 j) const;

    i32 m_vocab_size { 0 };
    float m_cutoff { 0.0f }, m_threshold { 0.0f }, m_least_sum { 0.0f }, m_width { 0.0f };
    u32 m_lowest_bin { 0 }; // bins from this one up can hold tokens
    rt::HeapArray<u16> m_bins;   // each token's bin, from bin()
    rt::HeapArray<float> m_above; // the values above the tail, from bin()
    rt::HeapArray<u32> m_counts; // inexact tokens per bin
    rt::HeapArray<u32> m_exact_index; // the exact tokens' indices, from bin()
    rt::HeapArray<u32> m_exact;       // their bins, descending after count()
    u32 m_exact_count { 0 };
    // The walk of first_passing() at the start of each block of bins it added at once.
    rt::HeapArray<Walk> m_blocks;
    u32 m_block_count { 0 };
    rt::HeapArray<Candidate> m_bin_tokens, m_bin_scratch; // the picked token's bin
    rt::HeapArray<u32> m_histogram;
};

}
