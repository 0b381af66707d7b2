#pragma once
// The hot operations, each in several implementations: the scalar reference (llm::ops,
// the oracle) and SIMD variants for SSE2, AVX2+FMA and AVX-512. Which one runs is a
// Plan, chosen at boot by measurement (the tuner) or given on the command line.
#include <rt/cpu_features.h>
#include <rt/error.h>
#include <rt/span.h>

namespace llm::kernels {

enum class Isa : u8 { Scalar, Sse2, Avx2, Avx512 };
bool can_run(Isa, rt::CpuFeatures const&);

// out[d] = W[d][n] . x[n]
using MatmulF32 = void (*)(float* out, const float* x, const float* w, i32 n, i32 d);
// The int8 product of llama2.c's runq.c: x and W quantised in groups of `group` values
// (int8 values q, one float scale s per group); scales of W are indexed by flat position.
using MatmulQ8 = void (*)(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group);
using Rmsnorm = void (*)(float* out, const float* x, const float* weight, i32 size, float epsilon);
using Softmax = void (*)(float* x, i32 size);
// Attention: scores are dot products, the output a weighted sum (y += a * x).
using Dot = float (*)(const float* a, const float* b, i32 n);
using Axpy = void (*)(float* y, float a, const float* x, i32 n);
using Swiglu = void (*)(float* hb, const float* hb2, i32 size);
// GGUF Q8_0 / Q4_0 rows against an input quantised in groups of 32.
using MatmulBlocks = void (*)(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);
// GGUF Q4_K / Q6_K rows against an input quantised in groups of 32, with its group sums.
using MatmulKBlocks = void (*)(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);

template<typename Function>
struct Variant {
    const char* name;
    Isa isa;
    Function function;
};

struct AttentionKernels {
    Dot dot;
    Axpy axpy;
};

enum class Op : u8 { Matmul, MatmulQ8, Rmsnorm, Softmax, Attention, Swiglu, GgufQ8_0, GgufQ4_0, GgufQ4K, GgufQ6K };
constexpr size_t op_count = 10;
constexpr const char* op_names[op_count] = { "matmul", "matmul_q8", "rmsnorm", "softmax", "attention", "swiglu", "gguf_q8_0", "gguf_q4_0",
    "gguf_q4_k", "gguf_q6_k" };
constexpr size_t max_variants = 4;

// Variant tables, scalar reference first; a variant's index is its identity in a Plan.
rt::Span<const Variant<MatmulF32>> matmul_variants();
rt::Span<const Variant<MatmulQ8>> matmul_q8_variants();
rt::Span<const Variant<Rmsnorm>> rmsnorm_variants();
rt::Span<const Variant<Softmax>> softmax_variants();
rt::Span<const Variant<AttentionKernels>> attention_variants();
rt::Span<const Variant<Swiglu>> swiglu_variants();
rt::Span<const Variant<MatmulBlocks>> gguf_q8_0_variants();
rt::Span<const Variant<MatmulBlocks>> gguf_q4_0_variants();
rt::Span<const Variant<MatmulKBlocks>> gguf_q4_k_variants();
rt::Span<const Variant<MatmulKBlocks>> gguf_q6_k_variants();

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

    // "matmul:avx2@2,matmul_q8:avx2,rmsnorm:sse2,..." (the format tune= takes; @N only
    // where a core count was chosen).
    void format(rt::TextSink&) const;
    static rt::ErrorOr<Plan> parse(rt::StringView, rt::CpuFeatures const&);
};

// The functions the transformer calls, set from a Plan.
struct Active {
    MatmulF32 matmul;
    MatmulQ8 matmul_q8;
    Rmsnorm rmsnorm;
    Softmax softmax;
    AttentionKernels attention;
    Swiglu swiglu;
    MatmulBlocks gguf_q8_0;
    MatmulBlocks gguf_q4_0;
    MatmulKBlocks gguf_q4_k;
    MatmulKBlocks gguf_q6_k;
    u8 workers[op_count]; // cores per operation (0: all), for WorkPool::parallel_for
    size_t workers_for(Op op) const { return workers[size_t(op)]; }
};
Active const& active();
void activate(Plan const&);

}
