#pragma once
// Tokens sorted by probability, descending, equal ones in index order: the order a stable
// sort of llama2.c's candidate list gives. For the top-k cut (candidates: probability and
// index), and for the nucleus's buckets (bare probabilities: nucleus.h says why).
#include <rt/types.h>

namespace llm {

struct Candidate {
    float probability; // non-negative
    i32 index;
};

inline float probability_of(Candidate const& candidate) { return candidate.probability; }
inline float probability_of(float probability) { return probability; }

// Digit counts of the radix sort: three passes of up to 12 bits.
using RadixHistogram = u32[3][4096];

// Sorts tokens[0..count) in place by insertion: stable, and the cheapest for a few.
// Token: Candidate or float.
template<typename Token>
void insertion_sort(Token* tokens, size_t count);

// Sorts source[0..count) (using scratch, as large); returns where the sorted list is, source
// or scratch.
template<typename Token>
Token* sort_descending(Token* source, Token* scratch, RadixHistogram& histogram, size_t count);

}
