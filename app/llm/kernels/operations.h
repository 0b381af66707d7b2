#pragma once
// Every tunable operation and every instruction set, described once. kernels.h turns these
// lists into the Op enum, the names a tune= plan uses, the variant tables and the active
// set; x86/entry_points.h into each instruction set's entry points. Adding an operation is
// a line in BAREFLOW_KERNEL_FUNCTIONS (its signature), a line in BAREFLOW_OPERATIONS, its
// scalar reference in ops.h and its SIMD template in x86/simd_kernels.h.
#include "../candidate_sort.h"
#include "../rounded_units.h"
#include "../tail_binning.h"
#include <rt/types.h>

// The functions each instruction set provides (the scalar ones are llm::ops's):
// X(pointer type, return type, name, (parameters), (arguments), ...), where `...` passes on
// whatever follows X.
#define BAREFLOW_KERNEL_FUNCTIONS(X, ...)                                                                                      \
    /* out[d] = W[d][n] . x[n] */                                                                                       \
    X(MatmulF32, void, matmul, (float* out, const float* x, const float* w, i32 n, i32 d), (out, x, w, n, d), __VA_ARGS__)          \
    /* The int8 product of llama2.c's runq.c: x and W quantised in groups of `group` values (int8 values q, one     */ \
    /* float scale s per group); scales of W are indexed by flat position.                                          */ \
    X(MatmulQ8, void, matmul_q8, (float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group), \
        (out, xq, xs, wq, ws, n, d, group), __VA_ARGS__)                                                                              \
    /* The same product on int8 rows interleaved in groups of eight (Q8x8, interleaved_blocks.h), group 32, d a      */ \
    /* multiple of 8; xsums: the input's group sums, or null (the kernel then sums them itself where it needs them). */ \
    X(MatmulQ8x8, void, matmul_q8x8, (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* wq, const float* ws, i32 n, i32 d), \
        (out, xq, xs, xsums, wq, ws, n, d), __VA_ARGS__)                                                                              \
    X(Rmsnorm, void, rmsnorm, (float* out, const float* x, const float* weight, i32 size, float epsilon),              \
        (out, x, weight, size, epsilon), __VA_ARGS__)                                                                                 \
    /* In place, x = exp(x - max) / sum: returns the sum (the largest result is exactly 1 / sum, as the largest */  \
    /* exponential is exp(0) = 1), or NaN when an input was NaN or infinite (the results then mean nothing). */      \
    X(Softmax, float, softmax, (float* x, i32 size), (x, size), __VA_ARGS__)                                                        \
    /* llama2.c's candidate list: the values at or above `floor` (never NaN), in index order, as (value, index)  */  \
    /* pairs; returns how many. `out` has room for count + 16 (whole vectors are stored). Not in a plan: it runs */  \
    /* on the set chosen for softmax, whose output it reads (Active::select_candidates). */                         \
    X(SelectCandidates, size_t, select_candidates, (const float* values, i32 count, float floor, llm::Candidate* out),        \
        (values, count, floor, out), __VA_ARGS__)                                                                                     \
    /* The nucleus's rounded units (rounded_units.h) of tokens[0..count): `shifter` is 1.5 * 2^23 * u, no token */  \
    /* above 2^22 * u; blocks of rounded_units_block until the units reach `limit`. Not in a plan: on the set */      \
    /* chosen for softmax, as select_candidates (Active::rounded_units). */                                          \
    X(RoundedUnitsOf, llm::RoundedUnits, rounded_units, (const float* tokens, u32 count, float shifter, u64 limit),             \
        (tokens, count, shifter, limit), __VA_ARGS__)                                                                                 \
    /* The pass of the nucleus's binned tail (tail_binning.h): values[0..count) binned by value * scale (a power */   \
    /* of two) where at or above cutoff and below threshold, those at or above the threshold selected. Not in a */    \
    /* plan: on the set chosen for softmax, as select_candidates (Active::bin_tail). */                              \
    X(BinTail, void, bin_tail, (const float* values, i32 count, float cutoff, float threshold, float scale, llm::TailBinning& out), \
        (values, count, cutoff, threshold, scale, out), __VA_ARGS__)                                                                  \
    /* Attention over `count` cached positions `stride` floats apart, n values each: the scores are the query's */  \
    /* dot products with the keys over `scale`; the output the values' sum weighted by the softmaxed scores, */      \
    /* position by position (out = 0, then out += weight * value). */                                               \
    X(AttentionScores, void, attention_scores, (float* scores, const float* q, const float* keys, size_t stride, i32 count, i32 n, float scale), \
        (scores, q, keys, stride, count, n, scale), __VA_ARGS__)                                                                      \
    X(WeightedSum, void, weighted_sum, (float* out, const float* weights, const float* values, size_t stride, i32 count, i32 n),        \
        (out, weights, values, stride, count, n), __VA_ARGS__)                                                                        \
    X(Swiglu, void, swiglu, (float* hb, const float* hb2, i32 size), (hb, hb2, size), __VA_ARGS__)                                  \
    /* The matrix products' input in int8 groups of `group` values with one float scale each (ops::quantize). */     \
    X(Quantize, void, quantize, (i8* q, float* scales, const float* x, i32 n, i32 group), (q, scales, x, n, group), __VA_ARGS__)    \
    /* GGUF F16 and BF16 rows against the float input (converted exactly). */                                          \
    X(MatmulF16, void, matmul_f16, (float* out, const float* x, const u8* halves, i32 n, i32 d), (out, x, halves, n, d), __VA_ARGS__) \
    X(MatmulF16, void, matmul_bf16, (float* out, const float* x, const u8* halves, i32 n, i32 d), (out, x, halves, n, d), __VA_ARGS__) \
    /* GGUF Q8_0 / Q4_0 rows against an input quantised in groups of 32. */                                           \
    X(MatmulBlocks, void, matmul_q8_0, (float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d),    \
        (out, xq, xs, blocks, n, d), __VA_ARGS__)                                                                                     \
    X(MatmulBlocks, void, matmul_q4_0, (float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d),    \
        (out, xq, xs, blocks, n, d), __VA_ARGS__)                                                                                     \
    X(MatmulBlocks, void, matmul_iq4_nl, (float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d),  \
        (out, xq, xs, blocks, n, d), __VA_ARGS__)                                                                                     \
    /* GGUF Q4_K / Q6_K rows against an input quantised in groups of 32, with its group sums. */                       \
    X(MatmulKBlocks, void, matmul_q4_k,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q6_k,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    /* GGUF IQ4_XS rows (block_quants.h), with the same input. */                                                     \
    X(MatmulKBlocks, void, matmul_iq4_xs,                                                                               \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    /* GGUF Q5_0, Q5_1, Q4_1, Q5_K, Q3_K and Q2_K rows (q5_quants.h, q3_k.h, q2_k.h), same input. */                      \
    X(MatmulKBlocks, void, matmul_q5_0,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q5_1,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q4_1,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q5_k,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q3_k,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q2_k,                                                                                 \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    /* Q4_0, Q8_0, Q4_K, Q5_K and Q6_K rows interleaved in groups of eight (interleaved_blocks.h); d a multiple of 8. Q4_0 */   \
    /* takes the group sums for the offset of 8 of a whole block's eight rows at once, Q8_0 (with VNNI) for 128's. */      \
    X(MatmulKBlocks, void, matmul_q4_0x8,                                                                               \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q8_0x8,                                                                               \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q4_kx8,                                                                               \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q5_kx8,                                                                               \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)                                                                              \
    X(MatmulKBlocks, void, matmul_q6_kx8,                                                                               \
        (float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d),                  \
        (out, xq, xs, xsums, blocks, n, d), __VA_ARGS__)

// The operations a plan chooses a variant (and a core count) for, in plan order:
// X(Op enumerator, name in tune=, function type, entry point in each instruction set).
// `attention` is the pair {attention_scores, weighted_sum}, chosen together.
#define BAREFLOW_OPERATIONS(X)                                    \
    X(Matmul, matmul, MatmulF32, matmul)                          \
    X(MatmulQ8, matmul_q8, MatmulQ8, matmul_q8)                   \
    X(Rmsnorm, rmsnorm, Rmsnorm, rmsnorm)                         \
    X(Softmax, softmax, Softmax, softmax)                         \
    X(Attention, attention, AttentionKernels, attention)          \
    X(Swiglu, swiglu, Swiglu, swiglu)                             \
    X(GgufQ8_0, gguf_q8_0, MatmulBlocks, matmul_q8_0)             \
    X(GgufQ4_0, gguf_q4_0, MatmulBlocks, matmul_q4_0)             \
    X(GgufQ4_0x8, gguf_q4_0x8, MatmulKBlocks, matmul_q4_0x8)      \
    X(GgufQ8_0x8, gguf_q8_0x8, MatmulKBlocks, matmul_q8_0x8)      \
    X(GgufQ4K, gguf_q4_k, MatmulKBlocks, matmul_q4_k)             \
    X(GgufQ4Kx8, gguf_q4_kx8, MatmulKBlocks, matmul_q4_kx8)       \
    X(GgufQ6K, gguf_q6_k, MatmulKBlocks, matmul_q6_k)             \
    X(GgufQ6Kx8, gguf_q6_kx8, MatmulKBlocks, matmul_q6_kx8)       \
    X(GgufQ5_0, gguf_q5_0, MatmulKBlocks, matmul_q5_0)            \
    X(GgufQ5_1, gguf_q5_1, MatmulKBlocks, matmul_q5_1)            \
    X(GgufQ4_1, gguf_q4_1, MatmulKBlocks, matmul_q4_1)            \
    X(GgufQ5K, gguf_q5_k, MatmulKBlocks, matmul_q5_k)             \
    X(GgufQ5Kx8, gguf_q5_kx8, MatmulKBlocks, matmul_q5_kx8)       \
    X(GgufQ3K, gguf_q3_k, MatmulKBlocks, matmul_q3_k)             \
    X(GgufQ2K, gguf_q2_k, MatmulKBlocks, matmul_q2_k)             \
    X(GgufF16, gguf_f16, MatmulF16, matmul_f16)                   \
    X(GgufBf16, gguf_bf16, MatmulF16, matmul_bf16)                \
    X(GgufIq4Nl, gguf_iq4_nl, MatmulBlocks, matmul_iq4_nl)        \
    X(GgufIq4Xs, gguf_iq4_xs, MatmulKBlocks, matmul_iq4_xs)       \
    X(MatmulQ8x8, matmul_q8x8, MatmulQ8x8, matmul_q8x8)           \
    X(Quantize, quantize, Quantize, quantize)

// The instruction sets, scalar reference first (a variant's index is its identity in a
// plan): X(Isa enumerator, name in tune= and namespace of its entry points, ...), where
// `...` passes on whatever follows X (so a list per operation can name its entry point).
// Narrower sets before wider ones: without tuning, the last one a CPU can run is taken
// (widest_plan); avx2tcg (AVX2 shaped for QEMU's emulation, x86/avx2tcg.cpp) comes before
// avx2 so that a real CPU without tuning keeps avx2. The VNNI sets differ from the one before them only in the quantised row
// kernels' byte products (x86/vnni_products.h); their float operations are the same code.
#define BAREFLOW_INSTRUCTION_SETS(X, ...)  \
    X(Scalar, scalar, __VA_ARGS__)         \
    X(Sse2, sse2, __VA_ARGS__)             \
    X(Avx2Tcg, avx2tcg, __VA_ARGS__)       \
    X(Avx2, avx2, __VA_ARGS__)             \
    X(AvxVnni, avxvnni, __VA_ARGS__)       \
    X(Avx512, avx512, __VA_ARGS__)         \
    X(Avx512Vnni, avx512vnni, __VA_ARGS__)
