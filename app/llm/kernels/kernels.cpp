#include "kernels.h"
#include "../ops.h"
#include "x86/entry_points.h"
#include <rt/cmdline.h>

// The scalar "instruction set" is llm::ops, under the names the tables use.
namespace llm::kernels::scalar {
using namespace llm::ops;
constexpr AttentionKernels attention { ops::attention_scores, ops::weighted_sum };
}

namespace llm::kernels {

namespace {

// One table per operation, one row per instruction set:
// matmul_table[] = { { "scalar", Isa::Scalar, scalar::matmul }, { "sse2", Isa::Sse2, sse2::matmul }, ... }
#define BAREFLOW_VARIANT(isa, isa_name, entry) { #isa_name, Isa::isa, isa_name::entry },
#define BAREFLOW_VARIANT_TABLE(op, name, type, entry) \
    constexpr Variant<type> name##_table[] = { BAREFLOW_INSTRUCTION_SETS(BAREFLOW_VARIANT, entry) };
BAREFLOW_OPERATIONS(BAREFLOW_VARIANT_TABLE)
BAREFLOW_VARIANT_TABLE(SelectCandidates, select_candidates, SelectCandidates, select_candidates)
BAREFLOW_VARIANT_TABLE(RoundedUnitsOf, rounded_units, RoundedUnitsOf, rounded_units)
BAREFLOW_VARIANT_TABLE(BinTail, bin_tail, BinTail, bin_tail)
#undef BAREFLOW_VARIANT_TABLE
#undef BAREFLOW_VARIANT

// Until a plan is activated, the scalar reference.
#define BAREFLOW_REFERENCE(op, name, type, entry) scalar::entry,
Active active_kernels { BAREFLOW_OPERATIONS(BAREFLOW_REFERENCE) {}, scalar::select_candidates, scalar::rounded_units, scalar::bin_tail };
#undef BAREFLOW_REFERENCE

// "matmul, matmul_q8, ..." and "scalar, sse2, ...", for error messages.
#define BAREFLOW_LISTED(first, name, ...) ", " #name
constexpr const char* all_op_names = &(BAREFLOW_OPERATIONS(BAREFLOW_LISTED))[2];
constexpr const char* all_variant_names = &(BAREFLOW_INSTRUCTION_SETS(BAREFLOW_LISTED, ))[2];
#undef BAREFLOW_LISTED

template<typename T, size_t N>
rt::Span<const T> span_of(T const (&array)[N]) { return { array, N }; }

}

bool can_run(Isa isa, rt::CpuFeatures const& cpu)
{
    switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Sse2: return cpu.sse2;
    // F16C converts halves: the GGUF block scales and F16 weights (every AVX2 CPU has it; so
    // does QEMU's -cpu max). Already false unless XCR0 enables AVX state.
    case Isa::Avx2Tcg:
    case Isa::Avx2: return cpu.avx2 && cpu.fma && cpu.f16c;
    case Isa::AvxVnni: return cpu.avx2 && cpu.fma && cpu.f16c && cpu.avx_vnni;
    case Isa::Avx512: return cpu.avx512f && cpu.avx512bw && cpu.f16c;
    // VL: its vpdpbusd works on 256-bit vectors.
    case Isa::Avx512Vnni: return cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512_vnni && cpu.f16c;
    }
    return false;
}

#define BAREFLOW_VARIANTS_ACCESSOR(op, name, type, entry) \
    rt::Span<const Variant<type>> name##_variants() { return span_of(name##_table); }
BAREFLOW_OPERATIONS(BAREFLOW_VARIANTS_ACCESSOR)
#undef BAREFLOW_VARIANTS_ACCESSOR
rt::Span<const Variant<SelectCandidates>> select_candidates_variants() { return span_of(select_candidates_table); }
rt::Span<const Variant<RoundedUnitsOf>> rounded_units_variants() { return span_of(rounded_units_table); }
rt::Span<const Variant<BinTail>> bin_tail_variants() { return span_of(bin_tail_table); }

size_t variant_count(Op) { return max_variants; }
const char* variant_name(Op, size_t index) { return matmul_table[index].name; }
Isa variant_isa(Op, size_t index) { return matmul_table[index].isa; }

Prefetch active_prefetch = default_prefetch;

void Plan::format(rt::TextSink& sink) const
{
    for (size_t op = 0; op < op_count; ++op)
    {
        rt::format_to(sink, "{}{}:{}", op ? "," : "", op_names[op], variant_name(Op(op), choice[op]));
        if (workers[op])
            rt::format_to(sink, "@{}", workers[op]);
    }
    rt::format_to(sink, ",prefetch:{}", prefetch_names[size_t(prefetch)]);
}

rt::ErrorOr<Plan> Plan::parse(rt::StringView text, rt::CpuFeatures const& cpu)
{
    Plan plan;
    size_t start = 0;
    while (start < text.length()) {
        size_t comma = text.find(',', start);
        rt::StringView item = text.substring(start, comma - start);
        start = comma + 1;
        size_t colon = item.find(':');
        if (colon == item.length())
            return rt::Error::format("tune: \"{}\" is not op:variant (e.g. matmul:avx2)", item);
        rt::StringView op_name = item.substring(0, colon), variant = item.substring(colon + 1);
        if (op_name == "prefetch") {
            size_t mode = 0;
            while (mode < prefetch_count && !(variant == prefetch_names[mode]))
                ++mode;
            if (mode == prefetch_count)
                return rt::Error::format("tune: \"{}\": prefetch is none, l1, l2 or both", item);
            plan.prefetch = Prefetch(mode);
            continue;
        }
        // "avx2@4": four cores share this operation.
        size_t at = variant.find('@');
        u8 workers = 0;
        if (at < variant.length()) {
            auto count = rt::parse_integer(variant.substring(at + 1));
            if (count.is_error() || count.value() < 1 || count.value() > 255)
                return rt::Error::format("tune: \"{}\" needs a core count from 1 to 255 after @", item);
            workers = u8(count.value());
            variant = variant.substring(0, at);
        }
        size_t op = 0;
        while (op < op_count && !(op_name == op_names[op]))
            ++op;
        if (op == op_count)
            return rt::Error::format("tune: unknown operation \"{}\" ({}, prefetch)", op_name, all_op_names);
        size_t index = 0;
        while (index < max_variants && !(variant == variant_name(Op(op), index)))
            ++index;
        if (index == max_variants)
            return rt::Error::format("tune: unknown variant \"{}\" for {} ({})", variant, op_name, all_variant_names);
        if (!can_run(variant_isa(Op(op), index), cpu))
            return rt::Error::format("tune: this CPU cannot run {}:{}", op_name, variant);
        plan.choice[op] = u8(index);
        plan.workers[op] = workers;
        plan.named[op] = true;
    }
    return plan;
}

Active const& active() { return active_kernels; }

void activate(Plan const& plan)
{
#define BAREFLOW_ACTIVATE(op, name, type, entry) active_kernels.name = name##_table[plan.choice[size_t(Op::op)]].function;
    BAREFLOW_OPERATIONS(BAREFLOW_ACTIVATE)
#undef BAREFLOW_ACTIVATE
    for (size_t op = 0; op < op_count; ++op)
        active_kernels.workers[op] = plan.workers[op];
    active_kernels.select_candidates = select_candidates_table[plan.choice[size_t(Op::Softmax)]].function;
    active_kernels.rounded_units = rounded_units_table[plan.choice[size_t(Op::Softmax)]].function;
    active_kernels.bin_tail = bin_tail_table[plan.choice[size_t(Op::Softmax)]].function;
    active_prefetch = plan.prefetch;
}

}
