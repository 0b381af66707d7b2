#pragma once
// How the row kernels ask for the weights ahead of the ones they multiply (x86/prefetch.h):
// not at all (the hardware prefetcher alone), into the first-level cache, into the second,
// or both: far ahead into the second level and, nearer, from there into the first. Which
// is fastest depends on the machine and on the model's kernels, so a plan carries it and
// whole tokens choose it (prefetch_check.h). TinyLlama shape, one thread, tok/s with none,
// first level and second level (8 KB ahead): on a Xeon, Q4_K_M 11.0-11.6 without, 15.2-15.9
// with the first level; on a 2-core EPYC VM, Q4_K_M 14.1, 13.8, 16.8, Q5_K_M 13.0, 11.6,
// 14.1 and Q8_0 14.2, 9.1, 11.8. On a Xeon VM (AVX-512 VNNI, 480 MB L3) the second level
// alone left the loads waiting for the lines' last step into the first: both levels (2 KB
// ahead into the first) took Q4_K_M from 17.0 to 18.7 tok/s and Q4_0 from 21.5 to 24.5,
// Q8_0 alike (13.9); a single Q4_0x8 product streaming from memory, 12.9 to 14.0 GB/s. So
// both is the default; the whole-token check keeps another mode where one is clearly faster.
#include <rt/types.h>

namespace llm::kernels {

enum class Prefetch : u8 { none, first_level, second_level, both_levels };
constexpr size_t prefetch_count = 4;
constexpr Prefetch default_prefetch = Prefetch::both_levels;
// Their names in a plan ("prefetch:l2"), in enumerator order.
constexpr const char* prefetch_names[prefetch_count] = { "none", "l1", "l2", "both" };

// The mode the kernels follow, set by activate(): a variable, not a member of Active, so
// the kernels' prefetch step reads it with one load rather than a call.
extern Prefetch active_prefetch;

}
