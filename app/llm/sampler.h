#pragma once
// Picks the next token from the logits: greedy (temperature 0), or sampling at a
// temperature, optionally restricted to the smallest set of tokens whose probability
// reaches top-p (nucleus sampling), optionally after keeping only the top-k. Same xorshift generator and the same algorithm as
// llama2.c's sampler, so equal settings and seed give equal tokens.
#include "candidate_sort.h"
#include "nucleus.h"
#include <rt/error.h>
#include <rt/heap.h>

namespace llm {

class Random {
public:
    explicit Random(u64 seed) : m_state(seed) {}
    u32 next_u32()
    {
        m_state ^= m_state >> 12;
        m_state ^= m_state << 25;
        m_state ^= m_state >> 27;
        return u32((m_state * 0x2545F4914F6CDD1Dull) >> 32);
    }
    // Uniform in [0, 1) with 24 bits of resolution.
    float next_float() { return float(next_u32() >> 8) / 16777216.0f; }

private:
    u64 m_state;
};

class Sampler {
public:
    // top_k > 0 keeps only the k most probable tokens (then top-p among them).
    static rt::ErrorOr<Sampler> create(i32 vocab_size, float temperature, float top_p, u64 seed, i32 top_k = 0);

    // May modify `logits` (scaled and turned into probabilities in place). Logits that
    // hold NaN or infinity (weights that do) are an error, found in the pass that reads
    // them anyway, rather than a run of arbitrary tokens.
    rt::ErrorOr<i32> sample(float* logits);
    // Other settings between stories (a prompt's /temp, /topp, /topk): the random sequence
    // goes on; reseed starts it over, as a new run with that seed= would.
    void change(float temperature, float top_p, i32 top_k);
    void reseed(u64 seed) { m_random = Random(seed); }
    // Temperature 0: the pick is the largest logit, which Transformer::forward_argmax can
    // find without computing them all.
    bool greedy() const { return m_temperature == 0.0f; }
    // Such a pick made elsewhere (argmax()'s index): the token, or sample()'s error for
    // logits that were not finite (-1).
    static rt::ErrorOr<i32> greedy_pick(i32 argmax_index);

private:
    Sampler(i32 vocab_size, float temperature, float top_p, u64 seed)
        : m_vocab_size(vocab_size), m_temperature(temperature), m_top_p(top_p), m_random(seed) {}
    i32 sample_top_k(const float* probabilities, float coin);

    i32 m_vocab_size;
    float m_temperature;
    float m_top_p;
    i32 m_top_k { 0 };
    Random m_random;
    rt::HeapArray<Candidate> m_candidates;
    rt::HeapArray<Candidate> m_sort_scratch;
    rt::HeapArray<u32> m_histogram; // top-k: the floor's bucket counts, then the radix sort's digit counts
    rt::HeapArray<float> m_sums;    // running sums of the sorted candidates, for the pick
    Nucleus m_nucleus;              // top-p without top-k

};

// The index of the largest value, or -1 when a value is NaN or infinite.
i32 argmax(const float* values, i32 count);
// Whether no value is NaN or infinite.
bool all_finite(const float* values, i32 count);

}
