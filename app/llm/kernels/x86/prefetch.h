#pragma once
// Software prefetch for the row kernels, which stream each weight once: the lines
// `prefetch_distance` bytes ahead of the ones being multiplied are asked for now, so they
// arrive while the integer work on the current ones runs, into the cache level the plan
// chose (prefetch_mode.h), or not at all. The hardware prefetcher alone kept too few lines
// in flight on a Xeon whose single thread reads 11-14 GB/s (TinyLlama shape, tok/s without
// and with, one thread): Q4_K_M 11.0-11.6 and 15.2-15.9 (14.1-14.7 with 2.3 KB ahead,
// 15.4-15.8 with 4.6 and 9.2 KB), Q5_K_M 8.4-8.6 and 14.3-14.9, Q4_0 12.3-14.5 and
// 16.5-20.1; 110M fp32 26 and 28.5-32.5. On an EPYC VM the second level at 4, 8, 16 and
// 32 KB ahead ran alike. Prefetches past a stream's end are harmless (they never fault)
// and cost one instruction per cache line.
#include "../prefetch_mode.h"
#include <rt/types.h>
#include <xmmintrin.h>

namespace llm::kernels::x86 {
namespace {

constexpr size_t prefetch_distance = 8192;
// With Prefetch::both_levels, the lines this far ahead are also asked into the first level
// (the second has them by then): near enough that they are not evicted before their loads,
// far enough to cover the second level's latency (1 KB to 8 KB ran alike).
constexpr size_t near_prefetch_distance = 2048;

// The cache lines of [at, at + bytes), `prefetch_distance` ahead.
inline void prefetch_ahead(const void* at, size_t bytes)
{
    Prefetch mode = active_prefetch;
    if (mode == Prefetch::none)
        return;
    // As an address, not a pointer into the weights: it may lie past their end.
    uptr ahead = reinterpret_cast<uptr>(at) + prefetch_distance;
    uptr near = reinterpret_cast<uptr>(at) + near_prefetch_distance;
    for (size_t line = 0; line < bytes; line += 64) {
        const char* address = reinterpret_cast<const char*>(ahead + line);
        if (mode == Prefetch::first_level) {
            _mm_prefetch(address, _MM_HINT_T0);
            continue;
        }
        _mm_prefetch(address, _MM_HINT_T1);
        if (mode == Prefetch::both_levels)
            _mm_prefetch(reinterpret_cast<const char*>(near + line), _MM_HINT_T0);
    }
}

}
}
