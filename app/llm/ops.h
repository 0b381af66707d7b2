#pragma once
// The transformer's building blocks, scalar reference versions: plain loops, kept as the
// oracle that faster variants are tested against. The float operations follow the order of
// fp32_order.h (sums in 16 lanes, no fused multiply-add, one exp polynomial), which every
// SIMD variant follows too, so all variants give the same bits.
#include "candidate_sort.h"
#include "rounded_units.h"
#include "tail_binning.h"
#include <rt/types.h>

namespace llm::ops {

// out = weight * x / sqrt(mean(x^2) + epsilon)
void rmsnorm(float* out, const float* x, const float* weight, i32 size, float epsilon);

// In place: x = exp(x - max) / sum(exp(x - max)). Returns that sum (the largest result is
// exactly 1 / sum: the largest exponential is exp(0) = 1), or NaN when an input was NaN or
// infinite (the results then mean nothing).
float softmax(float* x, i32 size);
// The values at or above `floor`, in index order, as candidates; returns how many
// (kernels/operations.h).
size_t select_candidates(const float* values, i32 count, float floor, Candidate* out);
// The nucleus's sum of rounded units (rounded_units.h, kernels/operations.h).
RoundedUnits rounded_units(const float* tokens, u32 count, float shifter, u64 limit);
// The nucleus tail's pass (tail_binning.h, kernels/operations.h).
void bin_tail(const float* values, i32 count, float cutoff, float threshold, float scale, TailBinning& out);

// out[d] = W[d][n] . x[n]: the matrix-vector product that dominates inference.
void matmul(float* out, const float* x, const float* w, i32 n, i32 d);

// Rotary position embedding on interleaved pairs of q (dim) and k (kv_dim).
void rope(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, i32 position);
// The same in steps: each pair's frequency (rotary / 2 of them, the same for every
// position), the rotation of each pair for a position (cosines and sines, the same for
// every layer), then applying it to the first `rotary` dimensions of each head (all of
// them: head_size; Config::rope_dim). Results equal rope()'s.
void rope_frequencies(float* frequencies, i32 rotary, float theta = 10000.0f);
void rope_angles(float* cosines, float* sines, const float* frequencies, i32 rotary, i32 position);
void rope_apply(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, i32 rotary, const float* cosines, const float* sines);
// The same turning dimensions i and i + rotary / 2 of each head together (Config::rope_halves).
void rope_apply_halves(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, i32 rotary, const float* cosines, const float* sines);
// out[i] += bias[i]: a projection's bias (Qwen2's queries, keys and values).
void add_bias(float* out, const float* bias, i32 size);

// hb = silu(hb) * hb2 (the SwiGLU gate)
void swiglu(float* hb, const float* hb2, i32 size);
// hb = gelu(hb) * hb2 (Gemma's gate: GELU in its tanh form, gelu_pytorch_tanh)
void geglu(float* hb, const float* hb2, i32 size);

// values[i] = cap * tanh(values[i] / cap): Gemma 2's soft cap on attention scores and
// logits (Config::attention_softcap, final_softcap); near zero the identity, never beyond +-cap.
void soft_cap(float* values, i32 count, float cap);

// x += y
void accumulate(float* x, const float* y, i32 size);

// Attention over `count` positions `stride` floats apart (n values each): scores[t] =
// (q . keys[t]) / scale, each dot in fp32_order.h's lanes; out = the weights' sum of the
// values, added position by position (out = 0, then out += weights[t] * values[t]).
void attention_scores(float* scores, const float* q, const float* keys, size_t stride, i32 count, i32 n, float scale);
void weighted_sum(float* out, const float* weights, const float* values, size_t stride, i32 count, i32 n);

// llama2.c's int8 scheme (runq.c): groups of `group` values, scale = max|x| / 127,
// q = round(x / scale). Only whole groups are quantised, exactly as runq.c does.
void quantize(i8* q, float* scales, const float* x, i32 n, i32 group);
// out[i] = sum over whole groups g of row i: float(sum q_x * q_w) * s_w[(i*n + g*group)/group] * s_x[g]
void matmul_q8(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group);
// The same on Q8x8 rows (interleaved_blocks.h; group 32, d a multiple of 8): the bits of
// matmul_q8 on the rows before the repack (xsums unused here).
void matmul_q8x8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* wq, const float* ws, i32 n, i32 d);
// GGUF block formats against an input quantised with quantize(..., 32): Q8_0 blocks are
// an f16 scale and 32 int8; Q4_0 an f16 scale and 32 4-bit values (offset 8), low nibbles
// first. F16 and BF16 rows are used with the float input.
void matmul_q8_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);
void matmul_q4_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);
// IQ4_NL: Q4_0's layout, its nibbles indices into block_quants::iq4_values.
void matmul_iq4_nl(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);
// IQ4_XS super-blocks (block_quants.h), xsums unused here.
void matmul_iq4_xs(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_f16(float* out, const float* x, const u8* halves, i32 n, i32 d);
void matmul_bf16(float* out, const float* x, const u8* halves, i32 n, i32 d);
// The k-quant super-blocks of 256 values (ggml's layouts, see k_quants.h).
void dequantize_q4_k(const u8* block, float* out);
void dequantize_q6_k(const u8* block, float* out);
// Sums of the quantised input's groups (Q4_K's mins multiply them).
// The plain integer dot product of n int8 pairs: the references' block sums.
i32 dot_i8(const i8* a, const i8* b, i32 n);
void group_sums(i32* sums, const i8* xq, i32 n, i32 group);
// Rows of k-quant blocks against an input quantised in groups of 32 with its group sums:
// exact integer sums per group, scaled in float (the "Q8 activation" scheme).
void matmul_q4_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q6_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
// Q5_0, Q5_1, Q4_1 (32-value blocks), Q5_K, Q3_K and Q2_K (256-value super-blocks) in the same
// way (layouts in q5_quants.h, q3_k.h and q2_k.h; defined in ops_low_bit.cpp).
void dequantize_q5_0(const u8* block, float* out);
void dequantize_q5_1(const u8* block, float* out);
void dequantize_q4_1(const u8* block, float* out);
void dequantize_q5_k(const u8* block, float* out);
void dequantize_q3_k(const u8* block, float* out);
void dequantize_q2_k(const u8* block, float* out);
void matmul_q5_0(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q5_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q4_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q5_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q3_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q2_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
// Q4_0 rows interleaved in groups of eight (interleaved_blocks.h), d a multiple of 8: the
// bits of matmul_q4_0 on the same rows before the repack (xsums unused here).
void matmul_q4_0x8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
// Q8_0 rows interleaved likewise: the bits of matmul_q8_0 on the plain rows.
void matmul_q8_0x8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
// Q4_K, Q5_K and Q6_K rows interleaved likewise: the bits of matmul_q4_k, matmul_q5_k and
// matmul_q6_k on the plain rows.
void matmul_q4_kx8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q5_kx8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);
void matmul_q6_kx8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d);

// bfloat16 to float, exactly: its bits are the float's upper half (NaN stays NaN).
inline float bfloat16_to_float(u16 h) { return __builtin_bit_cast(float, u32(h) << 16); }

// IEEE half to float, exactly (inline: the block kernels convert a scale per 32 values).
inline float half_to_float(u16 h)
{
    u32 sign = u32(h & 0x8000) << 16;
    u32 exponent = (h >> 10) & 0x1F;
    u32 mantissa = h & 0x3FF;
    u32 bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else { // subnormal: normalise
            exponent = 127 - 15 + 1;
            while (!(mantissa & 0x400)) {
                mantissa <<= 1;
                --exponent;
            }
            bits = sign | exponent << 23 | (mantissa & 0x3FF) << 13;
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | mantissa << 13;
    } else {
        bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
    }
    return __builtin_bit_cast(float, bits);
}

// roundf(): halves away from zero, without a C library.
float round_half_away(float);

}
