#pragma once
// The tuner's core counts, checked on whole tokens.
//
// The tuner times each operation alone, back to back: the other cores wait for its next
// job spinning, with warm caches. In a token the cores also wait through the steps that run
// on one core (norms, rope, sampling), and on a VM whose vCPUs outnumber the host's cores,
// a spinning vCPU takes a host core from one with work: stories260K under QEMU with -smp 4
// on two host cores ran slower than with -smp 1 although every operation had timed faster
// on four. So the plan as tuned runs a few whole tokens against the same plan with every
// core count capped at 1, 2, 4 ... cores, and the fastest is kept, fewer cores unless more
// are clearly faster: a model never runs slower with more cores than with one. Timing alone
// can also err the other way: the tuner times a product on one matrix, where a token joins
// several (Q, K and V; the gate and up projections) in one fork-join, so the plan with every
// operation on all cores runs too (random 15M int8 on two threads: the tuner timed its
// product 13% slower on two, whole tokens ran 1.5x faster).
#include "kernels/kernels.h"
#include "transformer.h"

namespace llm {

// `plan` with no operation on more than `cap` cores (0, every core, counts as `cores`);
// those that never split their work keep their 0.
kernels::Plan capped(kernels::Plan const& plan, size_t cap, size_t cores);

// `plan` with every operation that splits its work on all `cores`.
kernels::Plan widened(kernels::Plan const& plan, size_t cores);

// The most cores any operation the model runs gets in `plan`.
size_t most_cores(kernels::Plan const& plan, Weights const&, size_t cores);

// Which of `count` candidates (ordered by core count, fewest first) to keep, given their
// times: the first unless a later one is faster by more than a sixteenth than the kept.
size_t fastest_with_fewest_cores(u64 const* times, size_t count);

// Times whole tokens with `tuned`, its capped plans and its widened one (forward passes at the first
// positions: their KV cache entries are written again when generation starts) and
// activates and returns the fastest. Prints the figures to `report`, or why it was not
// checked: one core, or tokens too slow for it to matter (their operations are long enough
// for the tuner's timing to be right).
kernels::Plan check_core_counts(Transformer&, kernels::Plan const& tuned, Weights const&, rt::TextSink& report);

}
