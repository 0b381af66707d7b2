#pragma once
// The tuner's stopwatch: the median cycles of a few calls of each candidate (an operation's
// variants, or its core counts), the candidates taking turns.
#include <rt/cycles.h>
#include <rt/types.h>

namespace llm::kernels {

constexpr int warmup_rounds = 1;
constexpr int timed_rounds = 7;
// At most this many candidates are timed against each other: an operation's variants (one
// per instruction set) or its core counts (1, 2, 4 ... 255).
constexpr size_t max_timed_candidates = 16;

// The median cycles of `timed_rounds` calls of each of `count` candidates (`call(i)` runs
// candidate i) after a warm-up round, into `medians`. Each round calls every candidate
// once: a slow stretch of a shared host then falls on all of them alike. Timed one after
// the other, seven calls each, a stretch that began part-way fell on the candidates timed
// last (a 42M fp32 run kept sse2 for its matrix products, the AVX-512 variants timed after
// it 12% slower, and ran 25% slower than the runs that kept avx512).
template<typename Call>
void median_cycles(size_t count, Call const& call, u64 (&medians)[max_timed_candidates])
{
    if (count > max_timed_candidates)
        count = max_timed_candidates;
    u64 samples[max_timed_candidates][timed_rounds];
    for (int round = -warmup_rounds; round < timed_rounds; ++round)
        for (size_t i = 0; i < count; ++i) {
            u64 start = rt::read_cycles();
            call(i);
            if (round >= 0)
                samples[i][round] = rt::read_cycles() - start;
        }
    for (size_t c = 0; c < count; ++c) {
        u64* runs = samples[c];
        for (int i = 1; i < timed_rounds; ++i) // insertion sort: seven values
            for (int j = i; j > 0 && runs[j] < runs[j - 1]; --j) {
                u64 t = runs[j];
                runs[j] = runs[j - 1];
                runs[j - 1] = t;
            }
        medians[c] = runs[timed_rounds / 2];
    }
}

}
