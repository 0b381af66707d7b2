#pragma once
// The hot operations, each in several implementations: the scalar reference (llm::ops,
// the oracle) and SIMD variants for SSE2, AVX2 and AVX-512 (x86/), all giving the
// reference's bits. Which one runs is a Plan, chosen at boot by measurement (the tuner)
// or given on the command line. The
// operations and instruction sets are listed once, in operations.h; everything here is
// generated from those lists.
#include "operations.h"
#include "prefetch_mode.h"
#include <rt/cpu_features.h>
#include <rt/error.h>
#include <rt/span.h>

namespace llm::kernels {

#define BAREFLOW_ISA_ENUMERATOR(isa, name, ...) isa,
enum class Isa : u8 { BAREFLOW_INSTRUCTION_SETS(BAREFLOW_ISA_ENUMERATOR, ) };
#undef BAREFLOW_ISA_ENUMERATOR
bool can_run(Isa, rt::CpuFeatures const&);

#define BAREFLOW_FUNCTION_TYPE(type, result, name, parameters, ...) using type = result(*) parameters;
BAREFLOW_KERNEL_FUNCTIONS(BAREFLOW_FUNCTION_TYPE, )
#undef BAREFLOW_FUNCTION_TYPE

struct AttentionKernels {
    AttentionScores scores;
    WeightedSum weighted_sum;
};

template<typename Function>
struct Variant {
    const char* name;
    Isa isa;
    Function function;
};

#define BAREFLOW_OP_ENUMERATOR(op, name, type, entry) op,
enum class Op : u8 { BAREFLOW_OPERATIONS(BAREFLOW_OP_ENUMERATOR) };
#undef BAREFLOW_OP_ENUMERATOR

#define BAREFLOW_COUNT(...) +1
constexpr size_t op_count = 0 BAREFLOW_OPERATIONS(BAREFLOW_COUNT);
constexpr size_t max_variants = 0 BAREFLOW_INSTRUCTION_SETS(BAREFLOW_COUNT, );
#undef BAREFLOW_COUNT

#define BAREFLOW_OP_NAME(op, name, type, entry) #name,
constexpr const char* op_names[op_count] = { BAREFLOW_OPERATIONS(BAREFLOW_OP_NAME) };
#undef BAREFLOW_OP_NAME

// Variant tables, scalar reference first; a variant's index is its identity in a Plan:
// matmul_variants(), matmul_q8_variants(), ...
#define BAREFLOW_VARIANTS_ACCESSOR(op, name, type, entry) rt::Span<const Variant<type>> name##_variants();
BAREFLOW_OPERATIONS(BAREFLOW_VARIANTS_ACCESSOR)
#undef BAREFLOW_VARIANTS_ACCESSOR
// select_candidates, rounded_units and bin_tail in every set, in the same order (not operations of a
// plan).
rt::Span<const Variant<SelectCandidates>> select_candidates_variants();
rt::Span<const Variant<RoundedUnitsOf>> rounded_units_variants();
rt::Span<const Variant<BinTail>> bin_tail_variants();

// Every op has the same instruction sets in the same order.
size_t variant_count(Op);
const char* variant_name(Op, size_t index);
Isa variant_isa(Op, size_t index);

// Matrix rows are split between cores in multiples of this many: 16 floats of output are
// one cache line, so two cores never write the same line.
constexpr size_t row_granule = 16;

// One chosen variant per operation, and for the operations split between cores (matrix
// products, attention) how many cores share them.
struct Plan {
    u8 choice[op_count] {};  // all zero: the scalar reference
    u8 workers[op_count] {}; // 0: every core; small models run faster on fewer
    bool named[op_count] {};  // parse: which operations the text named
    Prefetch prefetch { default_prefetch }; // how the row kernels read ahead

    // "matmul:avx2@2,matmul_q8:avx2,rmsnorm:sse2,...,prefetch:l2" (the format tune= takes;
    // @N only where a core count was chosen).
    void format(rt::TextSink&) const;
    static rt::ErrorOr<Plan> parse(rt::StringView, rt::CpuFeatures const&);
};

// The functions the transformer calls, set from a Plan: one member per operation, named
// as in the plan (matmul, matmul_q8, ..., attention.scores, gguf_q4_k ...).
struct Active {
#define BAREFLOW_ACTIVE_MEMBER(op, name, type, entry) type name;
    BAREFLOW_OPERATIONS(BAREFLOW_ACTIVE_MEMBER)
#undef BAREFLOW_ACTIVE_MEMBER
    u8 workers[op_count]; // cores per operation (0: all), for WorkPool::parallel_for
    size_t workers_for(Op op) const { return workers[size_t(op)]; }
    // Top-k's candidate list (the sampler's), from the set chosen for softmax: it reads
    // softmax's output right after it (tuning it apart would time the same vector loads).
    SelectCandidates select_candidates;
    // The nucleus's sums of rounded units, from the same set: they read what the sampler
    // wrote after softmax.
    RoundedUnitsOf rounded_units;
    // The nucleus tail's pass over softmax's output, from the same set.
    BinTail bin_tail;
};
Active const& active();
void activate(Plan const&);

}
