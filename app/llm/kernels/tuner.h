#pragma once
// The self-tuning step: time every variant this CPU can run on the model's real shapes
// (warm-up, several runs, median), choose the fastest per operation, and print the table.
#include "../checkpoint.h"
#include "kernels.h"

namespace llm::kernels {

rt::ErrorOr<Plan> tune(Checkpoint const&, rt::CpuFeatures const&, rt::TextSink& report);

// The fastest-looking plan without measuring: the widest instruction set that can run.
Plan widest_plan(rt::CpuFeatures const&);

// Whether any of the model's matrix products is of `type`.
bool multiplies(Weights const&, TensorType);

// Whether the model runs `op` (a matrix type's product only if it has such matrices).
bool runs(Weights const&, Op);

// Writes the operations this model runs that a tune= plan did not name (they run the
// scalar reference) as "rmsnorm, gguf_q6_kx8"; returns how many.
size_t unnamed_operations(Plan const&, Weights const&, rt::TextSink&);

}
