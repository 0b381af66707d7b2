#pragma once
// How the row kernels ask for the weights ahead of the ones they multiply (x86/prefetch.h):
// not at all (the hardware prefetcher alone), into the first-level cache, or into the
// second. Which is fastest depends on the machine and on the model's kernels, so a plan
// carries it and whole tokens choose it (prefetch_check.h). TinyLlama shape, one thread,
// tok/s with none, first level and second level (8 KB ahead): on a Xeon, Q4_K_M 11.0-11.6
// without, 15.2-15.9 with the first level; on a 2-core EPYC VM, Q4_K_M 14.1, 13.8, 16.8,
// Q5_K_M 13.0, 11.6, 14.1 and Q8_0 14.2, 9.1, 11.8. The second level wins or ties where it
// was measured against the first, so it is the default.
#include <rt/types.h>

namespace llm::kernels {

enum class Prefetch : u8 { none, first_level, second_level };
constexpr size_t prefetch_count = 3;
constexpr Prefetch default_prefetch = Prefetch::second_level;
// Their names in a plan ("prefetch:l2"), in enumerator order.
constexpr const char* prefetch_names[prefetch_count] = { "none", "l1", "l2" };

// The mode the kernels follow, set by activate(): a variable, not a member of Active, so
// the kernels' prefetch step reads it with one load rather than a call.
extern Prefetch active_prefetch;

}
