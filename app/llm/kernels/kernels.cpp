#include "kernels.h"
#include "../ops.h"
#include "variants.h"
#include <rt/cmdline.h>

namespace llm::kernels {

namespace {

constexpr Variant<MatmulF32> matmul_table[] = {
    { "scalar", Isa::Scalar, ops::matmul }, { "sse2", Isa::Sse2, sse2::matmul },
    { "avx2", Isa::Avx2, avx2::matmul }, { "avx512", Isa::Avx512, avx512::matmul },
};
constexpr Variant<MatmulQ8> matmul_q8_table[] = {
    { "scalar", Isa::Scalar, ops::matmul_q8 }, { "sse2", Isa::Sse2, sse2::matmul_q8 },
    { "avx2", Isa::Avx2, avx2::matmul_q8 }, { "avx512", Isa::Avx512, avx512::matmul_q8 },
};
constexpr Variant<Rmsnorm> rmsnorm_table[] = {
    { "scalar", Isa::Scalar, ops::rmsnorm }, { "sse2", Isa::Sse2, sse2::rmsnorm },
    { "avx2", Isa::Avx2, avx2::rmsnorm }, { "avx512", Isa::Avx512, avx512::rmsnorm },
};
constexpr Variant<Softmax> softmax_table[] = {
    { "scalar", Isa::Scalar, ops::softmax }, { "sse2", Isa::Sse2, sse2::softmax },
    { "avx2", Isa::Avx2, avx2::softmax }, { "avx512", Isa::Avx512, avx512::softmax },
};
constexpr Variant<AttentionKernels> attention_table[] = {
    { "scalar", Isa::Scalar, { ops::dot, ops::axpy } }, { "sse2", Isa::Sse2, { sse2::dot, sse2::axpy } },
    { "avx2", Isa::Avx2, { avx2::dot, avx2::axpy } }, { "avx512", Isa::Avx512, { avx512::dot, avx512::axpy } },
};
constexpr Variant<Swiglu> swiglu_table[] = {
    { "scalar", Isa::Scalar, ops::swiglu }, { "sse2", Isa::Sse2, sse2::swiglu },
    { "avx2", Isa::Avx2, avx2::swiglu }, { "avx512", Isa::Avx512, avx512::swiglu },
};

constexpr Variant<MatmulBlocks> gguf_q8_0_table[] = {
    { "scalar", Isa::Scalar, ops::matmul_q8_0 }, { "sse2", Isa::Sse2, sse2::matmul_q8_0 },
    { "avx2", Isa::Avx2, avx2::matmul_q8_0 }, { "avx512", Isa::Avx512, avx512::matmul_q8_0 },
};
constexpr Variant<MatmulBlocks> gguf_q4_0_table[] = {
    { "scalar", Isa::Scalar, ops::matmul_q4_0 }, { "sse2", Isa::Sse2, sse2::matmul_q4_0 },
    { "avx2", Isa::Avx2, avx2::matmul_q4_0 }, { "avx512", Isa::Avx512, avx512::matmul_q4_0 },
};

constexpr Variant<MatmulKBlocks> gguf_q4_k_table[] = {
    { "scalar", Isa::Scalar, ops::matmul_q4_k }, { "sse2", Isa::Sse2, sse2::matmul_q4_k },
    { "avx2", Isa::Avx2, avx2::matmul_q4_k }, { "avx512", Isa::Avx512, avx512::matmul_q4_k },
};
constexpr Variant<MatmulKBlocks> gguf_q6_k_table[] = {
    { "scalar", Isa::Scalar, ops::matmul_q6_k }, { "sse2", Isa::Sse2, sse2::matmul_q6_k },
    { "avx2", Isa::Avx2, avx2::matmul_q6_k }, { "avx512", Isa::Avx512, avx512::matmul_q6_k },
};

Active active_kernels { ops::matmul, ops::matmul_q8, ops::rmsnorm, ops::softmax, { ops::dot, ops::axpy }, ops::swiglu,
    ops::matmul_q8_0, ops::matmul_q4_0, ops::matmul_q4_k, ops::matmul_q6_k, {} };

template<typename T, size_t N>
rt::Span<const T> span_of(T const (&array)[N]) { return { array, N }; }

}

bool can_run(Isa isa, rt::CpuFeatures const& cpu)
{
    switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Sse2: return cpu.sse2;
    case Isa::Avx2: return cpu.avx2 && cpu.fma; // already false unless XCR0 enables AVX state
    case Isa::Avx512: return cpu.avx512f && cpu.avx512bw;
    }
    return false;
}

rt::Span<const Variant<MatmulF32>> matmul_variants() { return span_of(matmul_table); }
rt::Span<const Variant<MatmulQ8>> matmul_q8_variants() { return span_of(matmul_q8_table); }
rt::Span<const Variant<Rmsnorm>> rmsnorm_variants() { return span_of(rmsnorm_table); }
rt::Span<const Variant<Softmax>> softmax_variants() { return span_of(softmax_table); }
rt::Span<const Variant<AttentionKernels>> attention_variants() { return span_of(attention_table); }
rt::Span<const Variant<Swiglu>> swiglu_variants() { return span_of(swiglu_table); }
rt::Span<const Variant<MatmulBlocks>> gguf_q8_0_variants() { return span_of(gguf_q8_0_table); }
rt::Span<const Variant<MatmulBlocks>> gguf_q4_0_variants() { return span_of(gguf_q4_0_table); }
rt::Span<const Variant<MatmulKBlocks>> gguf_q4_k_variants() { return span_of(gguf_q4_k_table); }
rt::Span<const Variant<MatmulKBlocks>> gguf_q6_k_variants() { return span_of(gguf_q6_k_table); }

// Every op has the same four instruction sets in the same order.
size_t variant_count(Op) { return max_variants; }
const char* variant_name(Op, size_t index) { return matmul_table[index].name; }
Isa variant_isa(Op, size_t index) { return matmul_table[index].isa; }

void Plan::format(rt::TextSink& sink) const
{
    for (size_t op = 0; op < op_count; ++op)
    {
        rt::format_to(sink, "{}{}:{}", op ? "," : "", op_names[op], variant_name(Op(op), choice[op]));
        if (workers[op])
            rt::format_to(sink, "@{}", workers[op]);
    }
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
            return rt::Error::format("tune: unknown operation \"{}\" (matmul, matmul_q8, rmsnorm, softmax, attention, swiglu, gguf_q8_0, gguf_q4_0, gguf_q4_k, gguf_q6_k)", op_name);
        size_t index = 0;
        while (index < max_variants && !(variant == variant_name(Op(op), index)))
            ++index;
        if (index == max_variants)
            return rt::Error::format("tune: unknown variant \"{}\" for {} (scalar, sse2, avx2, avx512)", variant, op_name);
        if (!can_run(variant_isa(Op(op), index), cpu))
            return rt::Error::format("tune: this CPU cannot run {}:{}", op_name, variant);
        plan.choice[op] = u8(index);
        plan.workers[op] = workers;
    }
    return plan;
}

Active const& active() { return active_kernels; }

void activate(Plan const& plan)
{
    active_kernels.matmul = matmul_table[plan.choice[size_t(Op::Matmul)]].function;
    active_kernels.matmul_q8 = matmul_q8_table[plan.choice[size_t(Op::MatmulQ8)]].function;
    active_kernels.rmsnorm = rmsnorm_table[plan.choice[size_t(Op::Rmsnorm)]].function;
    active_kernels.softmax = softmax_table[plan.choice[size_t(Op::Softmax)]].function;
    active_kernels.attention = attention_table[plan.choice[size_t(Op::Attention)]].function;
    active_kernels.swiglu = swiglu_table[plan.choice[size_t(Op::Swiglu)]].function;
    active_kernels.gguf_q8_0 = gguf_q8_0_table[plan.choice[size_t(Op::GgufQ8_0)]].function;
    active_kernels.gguf_q4_0 = gguf_q4_0_table[plan.choice[size_t(Op::GgufQ4_0)]].function;
    active_kernels.gguf_q4_k = gguf_q4_k_table[plan.choice[size_t(Op::GgufQ4K)]].function;
    active_kernels.gguf_q6_k = gguf_q6_k_table[plan.choice[size_t(Op::GgufQ6K)]].function;
    for (size_t op = 0; op < op_count; ++op)
        active_kernels.workers[op] = plan.workers[op];
}

}
