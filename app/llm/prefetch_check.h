#pragma once
// The row kernels' prefetch mode (kernels/prefetch_mode.h), chosen on whole tokens.
//
// What the mode changes is how fast a token streams its weights from memory, and that
// depends on the machine and on the model's kernels: on one EPYC VM, prefetching into the
// second-level cache made TinyLlama-shape Q4_K_M 20% faster than no software prefetch and
// Q8_0 20% slower. The tuner times each operation on scratch matrices that stay in the
// caches, where the mode makes no difference, so instead a few whole tokens run with each
// mode, interleaved, and the fastest median is kept: the plan's own mode unless another is
// faster by more than a sixteenth. Prefetching never changes a result, only its speed.
#include "kernels/kernels.h"
#include "transformer.h"
#include <rt/format.h>

namespace llm {

// Tokens outside these bounds are not checked: faster, the weights are few enough to stay
// in the caches and there is nothing to prefetch; slower, the check would take seconds
// (under QEMU's emulation, where prefetches do nothing, a TinyLlama-shape token takes two).
struct PrefetchCheckBounds {
    double fastest_ms { 1.0 };
    double slowest_ms { 250.0 };
};

// Whether the plan runs a row kernel on avx2tcg's emulated integer steps (emulated_rows.h),
// which the tuner picks only where they win: under QEMU's emulation, where a prefetch is an
// instruction that does nothing.
bool plan_runs_emulated_rows(kernels::Plan const&);

// Which of the modes' times (indexed by kernels::Prefetch) to keep: `planned` unless another
// is faster by more than a sixteenth, then the fastest.
kernels::Prefetch fastest_prefetch(u64 const (&times)[kernels::prefetch_count], kernels::Prefetch planned);

// Times whole tokens with `plan` in each mode, then activates and returns the plan with the
// fastest. Prints the figures to `report`, or why it did not check. A plan that runs
// emulated rows gets no prefetch, unchecked: a TinyLlama-shape token under QEMU is too long
// to time, and its Q4_K_M rows ran 12-22% faster without the prefetch loops (three boots of
// each side by side on a Zen 5 EPYC: 0.59/0.45/0.50 against 0.66/0.55/0.62 tok/s).
kernels::Plan check_prefetch(Transformer&, kernels::Plan const& plan, rt::TextSink& report, PrefetchCheckBounds bounds = {});

}
