#pragma once
// The self-tuning step: time every variant this CPU can run on the model's real shapes
// (warm-up, several runs, median), choose the fastest per operation, and print the table.
#include "../checkpoint.h"
#include "kernels.h"

namespace llm::kernels {

rt::ErrorOr<Plan> tune(Checkpoint const&, rt::CpuFeatures const&, rt::TextSink& report);

// The tuner's scratch GGUF blocks: random bytes that every tuned block type reads as its
// blocks (of rows `columns` wide), each with small normal f16 scales as a model's have (a
// random half is subnormal, infinite or NaN one time in sixteen, which takes slow paths:
// microcode assists on CPUs, vcvtph2ps where avx2tcg converts scales by integer steps).
void fill_scratch_blocks(rt::Span<u8> data, i32 columns);

// The fastest-looking plan without measuring: the widest instruction set that can run.
Plan widest_plan(rt::CpuFeatures const&);

// Whether any of the model's matrix products is of `type`.
bool multiplies(Weights const&, TensorType);

// Whether greedy decoding would screen the model's classifier through an int8 copy in
// Q8x8 rows (screened_argmax.h), whose product and input quantisation are then tuned too.
bool screens_classifier(Weights const&);

// Whether the model runs `op` (a matrix type's product only if it has such matrices).
bool runs(Weights const&, Op);

// Writes the operations this model runs that a tune= plan did not name (they run the
// scalar reference) as "rmsnorm, gguf_q6_kx8"; returns how many.
size_t unnamed_operations(Plan const&, Weights const&, rt::TextSink&);

}
