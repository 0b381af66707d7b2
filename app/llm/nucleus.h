#pragma once
// llama2.c's nucleus (top-p) pick, bit for bit, without sorting the nucleus.
//
// llama2.c keeps the tokens whose probability is at least (1 - top_p) / (n - 1), sorts them
// by probability (descending; a stable sort keeps equal ones in index order), adds them up in
// that order until the running float sum passes top_p (that token is the last kept), and
// returns the first token whose running sum passes coin * that sum. On a flat distribution
// (a random-weight model's) tens of thousands of tokens are kept, and sorting them and adding
// them one after the other cost far more than the rest of a token.
//
// Here the tokens are counted into buckets by the bits of their probability (a float's bits
// order non-negative floats), one pass to count and one to place them, so the buckets come in
// descending order and each holds its tokens in index order. Counted first are the tokens
// within 2^-10 of the largest probability (a peaked distribution's nucleus lies there;
// those few are selected first, by the kernels' select_candidates, and counted and placed
// from that list), and placed only the buckets that can hold the nucleus, by the least
// their tokens add up to; every candidate, should those not suffice. The running sum is then carried
// over whole runs of buckets at once, exactly: while the sum S stays in one binade
// [2^e, 2^(e+1)), every addition S + p rounds to a multiple of S's ulp u, and as S is one
// already, S + p = S + round(p / u) * u, whatever S is, unless p / u lies exactly halfway
// between two integers (then the rounding to even depends on S). So the sum of a run of
// tokens is S plus the integer sum of their rounded p / u, a sum in any order, which vector
// instructions compute; it is taken as long as the run has no halfway case, the sum stays
// in S's binade and does not pass top_p. Where it would not (a binade boundary, the cut at
// top_p, a halfway token) and in the bucket of the picked token, that bucket alone is sorted
// and added one by one, as llama2.c does. The sums, the cut and the pick are those of llama2.c's sorted list.
//
// On a flat distribution most of the nucleus is not even placed: once the tokens above a
// threshold add up to 2^e, those below it are only counted into bins of one width and added
// up bin by bin (nucleus_tail.h), and only the picked token's bin is read again.
//
// The buckets hold bare probabilities, not (probability, index) pairs: after a forward pass
// the caches hold none of the places they go to, and half the bytes are half the lines
// fetched to write them (the placing pass's largest cost). Only the picked token's index is
// needed, and it follows from its value: equal values are adjacent in a sorted bucket and in
// index order in llama2.c's stable sort, so the k-th of them is the k-th token of that value.
#include "candidate_sort.h"
#include "nucleus_tail.h"
#include <rt/error.h>
#include <rt/heap.h>

namespace llm {

class Nucleus {
public:
    Nucleus() = default; // empty: create() makes a usable one
    static rt::ErrorOr<Nucleus> create(i32 vocab_size);

    // The token llama2.c's top-p sampling picks from `probabilities` (non-negative, at most
    // 1, not all below the cutoff) for this top_p (between 0 and 1) and coin (in [0, 1)).
    // -1 when no probability reaches the cutoff (llama2.c reads outside its list then).
    i32 pick(const float* probabilities, float top_p, float coin);
    // The same, told the largest probability (a softmax's is 1 / its sum: no pass to find it).
    i32 pick(const float* probabilities, float top_p, float coin, float largest_probability);
    // How many picks went on through the binned tail (nucleus_tail.h), for the record.
    u64 tail_picks() const { return m_tail_picks; }

private:
    // Bucket b holds the candidates whose bits are bits(1) - d with d >> m_shift == b, so the
    // buckets come in descending order of probability; count_tokens returns how many there
    // are, nucleus_buckets how many can hold the nucleus.
    // From the bucket of `largest` (the largest token to be counted) on.
    u32 empty_buckets(float cutoff, float largest = 1.0f);
    u32 select_and_count(const float* probabilities, float floor);
    // The buckets of tokens[0..selected) (Candidate or float), counted; placed.
    template<typename Token>
    void count_selected(Token const* tokens, u32 selected);
    template<typename Token>
    void place_selected(Token const* tokens, u32 selected, u32 buckets, float lowest);
    u32 count_tokens(const float* probabilities, float cutoff, float floor);
    u32 nucleus_buckets(u32 buckets, float cutoff, float top_p) const;
    void place_tokens(const float* probabilities, u32 buckets, float floor);
    void sort_bucket(u32 bucket);
    i32 index_of(const float* probabilities, u32 place) const;
    u32 run_end(u32 first, u32 buckets, float room) const;
    bool small_enough(u32 first, float sum) const;
    u32 add_run(u32 first, u32 end, float& sum, float top_p, bool& halfway) const;
    // Where llama2.c's first loop stops: its sum, the runs it took (m_run_*), the last kept
    // token's place in m_tokens (~0 when the sum never passes top_p) and its bucket.
    struct Cut {
        float sum;
        u32 runs, last, last_bucket;
    };
    Cut first_loop(u32 buckets, float top_p);
    // llama2.c's second loop, for r = coin * its sum: the first token whose running sum
    // passes r, as far as the last kept one (the cut's; every candidate's when there is none).
    i32 pick_in_buckets(const float* probabilities, Cut cut, u32 buckets, float r);
    // The pick with the tail binned (nucleus_tail.h), or no_tail where that does not apply.
    static constexpr i32 no_tail = -2;
    i32 pick_with_tail(const float* probabilities, float cutoff, float top_p, float coin);

    i32 m_vocab_size { 0 };
    u32 m_shift { 0 };
    u32 m_first_bucket { 0 }; // the buckets below it hold no token (empty_buckets)
    rt::HeapArray<u32> m_counts;   // candidates per bucket
    rt::HeapArray<u32> m_starts;   // where each bucket's candidates begin in m_tokens
    rt::HeapArray<u16> m_bucket_of; // each candidate's bucket (below max_buckets + 8), from the counting pass
    rt::HeapArray<u16> m_masks;     // the candidates of each block of 16 tokens, from the same
    rt::HeapArray<Candidate> m_selected; // select_and_count's tokens, in index order (their buckets in m_bucket_of)
    rt::HeapArray<float> m_tokens; // the candidates' probabilities, bucket after bucket
    // The runs of the first loop: their first bucket, the running sum before them, and
    // whether they were added token by token.
    rt::HeapArray<u32> m_run_first;
    rt::HeapArray<float> m_run_sums;
    rt::HeapArray<bool> m_run_sorted;
    // Room to radix-sort a large bucket.
    rt::HeapArray<float> m_large_scratch;
    rt::HeapArray<u32> m_histogram;
    NucleusTail m_tail;
    u64 m_tail_picks { 0 };
};

}
