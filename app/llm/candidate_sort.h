#pragma once
// Tokens sorted by probability, descending, equal ones in index order: the order a stable
// sort of llama2.c's candidate list gives. For the top-k cut, and for the nucleus's buckets
// too large to sort by insertion.
#include <rt/types.h>

namespace llm {

struct Candidate {
    float probability; // non-negative
    i32 index;
};

// Digit counts of the radix sort: three passes of up to 12 bits.
using RadixHistogram = u32[3][4096];

// Sorts tokens[0..count) in place by insertion: stable, and the cheapest for a few.
void insertion_sort(Candidate* tokens, size_t count);

// Sorts source[0..count) (using scratch, as large); returns where the sorted list is, source
// or scratch.
Candidate* sort_descending(Candidate* source, Candidate* scratch, RadixHistogram& histogram, size_t count);

}
