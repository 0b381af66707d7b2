#pragma once
// The batch row kernels (batch_rows.h) of the x86 instruction sets that have them (AVX2,
// AVX-512): `d` rows against `tokens` inputs, token t's row i at out[t * out_stride + i].
// Which set runs follows the one-token choice of the type's operation (llm/batch_kernels.cpp).
#include "../../tensor.h"

// X(name, (parameters), (arguments))
#define BAREFLOW_BATCH_KERNEL_FUNCTIONS(X)                                                                                \
    /* llama2.c int8 rows in groups of 32 (n a multiple of 32); ws: the first row's scales. */                         \
    X(q8_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const i8* wq, const float* ws, i32 n, i32 d), \
        (out, out_stride, inputs, tokens, wq, ws, n, d))                                                                  \
    X(q4_k_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(q6_k_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    /* Q5_K needs the inputs' group sums (GGUF models have them); Q3_K and Q2_K rows of at most 32 super-blocks. */ \
    X(q3_k_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(q2_k_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(q5_k_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    /* Q4_0, Q5_0, Q5_1 and Q4_1 need the inputs' group sums. */                                                   \
    X(q4_0_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(q5_0_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(q5_1_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(q4_1_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),         \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(iq4_nl_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),       \
        (out, out_stride, inputs, tokens, blocks, n, d))                                                                  \
    X(iq4_xs_rows_batch, (float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d),       \
        (out, out_stride, inputs, tokens, blocks, n, d))

// F32, F16 and BF16 rows run the set's own vector width (simd_kernels.h's matmul_batch_any);
// x: the tokens' float inputs.
#define BAREFLOW_FLOAT_BATCH_KERNEL_FUNCTIONS(X)                                                                          \
    X(f32_rows_batch, (float* out, size_t out_stride, const float* const* x, i32 tokens, const float* w, i32 n, i32 d), \
        (out, out_stride, x, tokens, w, n, d), FloatRows, w)                                                             \
    X(f16_rows_batch, (float* out, size_t out_stride, const float* const* x, i32 tokens, const u8* halves, i32 n, i32 d), \
        (out, out_stride, x, tokens, halves, n, d), HalfRows, reinterpret_cast<const u16*>(halves))              \
    X(bf16_rows_batch, (float* out, size_t out_stride, const float* const* x, i32 tokens, const u8* halves, i32 n, i32 d), \
        (out, out_stride, x, tokens, halves, n, d), BfloatRows, reinterpret_cast<const u16*>(halves))

#define BAREFLOW_DECLARE_BATCH_KERNEL(name, parameters, arguments, ...) void name parameters;
namespace llm::kernels::avx2 {
BAREFLOW_BATCH_KERNEL_FUNCTIONS(BAREFLOW_DECLARE_BATCH_KERNEL)
BAREFLOW_FLOAT_BATCH_KERNEL_FUNCTIONS(BAREFLOW_DECLARE_BATCH_KERNEL)
}
namespace llm::kernels::avx512 {
BAREFLOW_BATCH_KERNEL_FUNCTIONS(BAREFLOW_DECLARE_BATCH_KERNEL)
BAREFLOW_FLOAT_BATCH_KERNEL_FUNCTIONS(BAREFLOW_DECLARE_BATCH_KERNEL)
}
#undef BAREFLOW_DECLARE_BATCH_KERNEL

// Q2_K, IQ4_NL and IQ4_XS rows with the tokens in the vector lanes (token_lanes.h), any
// row length; each unit of 256 inputs is transposed once for every `token_lanes_rows`
// rows. IQ4_NL and IQ4_XS need the inputs' group sums (GGUF inputs have them).
namespace llm::kernels::avx512vnni {
constexpr i32 token_lanes_rows = 32;
void q2_k_token_lanes_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d);
void iq4_nl_token_lanes_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d);
void iq4_xs_token_lanes_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d);
}

// The batch kernels every set has, the VNNI sets included (their byte products are what
// makes a batch pay): Q8x8 rows (q8x8_batch.h), `d` rows (a multiple of 8) from a group
// of eight rows' values `wq` and scales `ws`, with VNNI the inputs' group sums when given;
// Q4_0x8, Q8_0x8, Q4_Kx8, Q5_Kx8 and Q6_Kx8 rows (interleaved_batch.h), d a multiple of 8, with the
// group sums (Q6_Kx8: the 16-value sums); and Q8_0 rows (batch_rows.h).
#define BAREFLOW_INTERLEAVED_BATCH_KERNELS(X) X(q4_0x8_rows_batch) X(q8_0x8_rows_batch) X(q4_kx8_rows_batch) X(q5_kx8_rows_batch) X(q6_kx8_rows_batch)
#define BAREFLOW_DECLARE_INTERLEAVED_BATCH(name) \
    void name(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d);
#define BAREFLOW_DECLARE_EVERY_SET_BATCH(isa)                                                                                                   \
    namespace llm::kernels::isa {                                                                                                              \
    void q8x8_rows_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* wq, const float* ws, i32 n, i32 d); \
    BAREFLOW_INTERLEAVED_BATCH_KERNELS(BAREFLOW_DECLARE_INTERLEAVED_BATCH)                                                                     \
    void q8_0_rows_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d);         \
    }
BAREFLOW_DECLARE_EVERY_SET_BATCH(avx2)
BAREFLOW_DECLARE_EVERY_SET_BATCH(avxvnni)
BAREFLOW_DECLARE_EVERY_SET_BATCH(avx512)
BAREFLOW_DECLARE_EVERY_SET_BATCH(avx512vnni)
#undef BAREFLOW_DECLARE_EVERY_SET_BATCH
#undef BAREFLOW_DECLARE_INTERLEAVED_BATCH
// Their definitions in a set's file (inside its namespace and target pragma), with its
// pieces and its kernels for groups of eight rows (groups_batch.h's GroupsBatchWith<Pieces>
// unless the set has wider ones).
#define BAREFLOW_INTERLEAVED_BATCH_ENTRY_POINT(name)                                                                     \
    void name(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d) \
    {                                                                                                                    \
        GroupsBatch::name(out, out_stride, inputs, tokens, blocks, n, d);                                                \
    }
#define BAREFLOW_EVERY_SET_BATCH_ENTRY_POINTS(Pieces, Groups)                                                                                             \
    void q8x8_rows_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* wq, const float* ws, i32 n, i32 d) \
    {                                                                                                                                          \
        Groups::q8x8_rows_batch(out, out_stride, inputs, tokens, wq, ws, n, d);                                                                \
    }                                                                                                                                          \
    using GroupsBatch = Groups;                                                                                                               \
    BAREFLOW_INTERLEAVED_BATCH_KERNELS(BAREFLOW_INTERLEAVED_BATCH_ENTRY_POINT)                                                                \
    void q8_0_rows_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d)          \
    {                                                                                                                                          \
        x86::BatchRows::q8_0_rows_batch_with<Pieces>(out, out_stride, inputs, tokens, blocks, n, d);                                          \
    }

// Defines them in an instruction set's file (inside its namespace and target pragma).
#define BAREFLOW_BATCH_ENTRY_POINT(name, parameters, arguments) \
    void name parameters { x86::BatchRows::name arguments; }
#define BAREFLOW_BATCH_ENTRY_POINTS BAREFLOW_BATCH_KERNEL_FUNCTIONS(BAREFLOW_BATCH_ENTRY_POINT)
// The float ones, with the set's vector interface V (after simd_kernels.h).
#define BAREFLOW_FLOAT_BATCH_ENTRY_POINT(name, parameters, arguments, Rows, weights) \
    void name parameters { simd::matmul_batch_any<BAREFLOW_FLOAT_BATCH_V, simd::Rows<BAREFLOW_FLOAT_BATCH_V>>(out, out_stride, x, tokens, weights, n, d); }
#define BAREFLOW_FLOAT_BATCH_ENTRY_POINTS BAREFLOW_FLOAT_BATCH_KERNEL_FUNCTIONS(BAREFLOW_FLOAT_BATCH_ENTRY_POINT)
