#pragma once
// Whole tokens timed, for the checks that choose between plans by running them
// (core_count_check.h, prefetch_check.h): forward passes at the first positions, whose KV
// cache entries are written again when generation starts.
#include "transformer.h"
#include <rt/cycles.h>

namespace llm {

// Cycles for `positions` forward passes from position 0.
inline u64 time_tokens(Transformer& transformer, i32 positions)
{
    u64 start = rt::read_cycles();
    for (i32 position = 0; position < positions; ++position)
        transformer.forward(1, position);
    return rt::read_cycles() - start;
}

// The median of `count` samples (reordered).
inline u64 median(u64* values, size_t count)
{
    for (size_t i = 1; i < count; ++i) // insertion sort: a handful of values
        for (size_t j = i; j > 0 && values[j] < values[j - 1]; --j) {
            u64 larger = values[j - 1];
            values[j - 1] = values[j];
            values[j] = larger;
        }
    return values[count / 2];
}

inline double milliseconds(u64 cycles) { return rt::CycleClock::to_microseconds(cycles) / 1000.0; }

}
