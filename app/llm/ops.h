#pragma once
// The transformer's building blocks, scalar reference versions: plain loops in the order
// llama2.c's run.c uses, kept as the oracle that faster variants are tested against.
#include <rt/types.h>

namespace llm::ops {

// out = weight * x / sqrt(mean(x^2) + epsilon)
void rmsnorm(float* out, const float* x, const float* weight, i32 size, float epsilon);

// In place: x = exp(x - max) / sum(exp(x - max))
void softmax(float* x, i32 size);

// out[d] = W[d][n] . x[n]: the matrix-vector product that dominates inference.
void matmul(float* out, const float* x, const float* w, i32 n, i32 d);

// Rotary position embedding on interleaved pairs of q (dim) and k (kv_dim).
void rope(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, i32 position);
// The same in two steps: the rotation of each pair for a position (head_size / 2 cosines
// and sines, the same for every layer), then applying it. Results equal rope()'s.
void rope_angles(float* cosines, float* sines, i32 head_size, i32 position, float theta = 10000.0f);
void rope_apply(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, const float* cosines, const float* sines);

// hb = silu(hb) * hb2 (the SwiGLU gate)
void swiglu(float* hb, const float* hb2, i32 size);

// x += y
void accumulate(float* x, const float* y, i32 size);

// Attention's pieces: a . b, and y += a * x.
float dot(const float* a, const float* b, i32 n);
void axpy(float* y, float a, const float* x, i32 n);

// llama2.c's int8 scheme (runq.c): groups of `group` values, scale = max|x| / 127,
// q = round(x / scale). Only whole groups are quantised, exactly as runq.c does.
void quantize(i8* q, float* scales, const float* x, i32 n, i32 group);
// out[i] = sum over whole groups g of row i: float(sum q_x * q_w) * s_w[(i*n + g*group)/group] * s_x[g]
void matmul_q8(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group);
// GGUF block formats against an input quantised with quantize(..., 32): Q8_0 blocks are
// an f16 scale and 32 int8; Q4_0 an f16 scale and 32 4-bit values (offset 8), low nibbles
// first. F16 rows are used with the float input.
void matmul_q8_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);
void matmul_q4_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);
void matmul_f16(float* out, const float* x, const u8* halves, i32 n, i32 d);
float half_to_float(u16);
// The k-quant super-blocks of 256 values (ggml's layouts): Q4_K is f16 d, f16 dmin, 12
// bytes of packed 6-bit sub-block scales and mins, 128 bytes of nibbles; Q6_K is 128 bytes
// of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, f16 d.
void dequantize_q4_k(const u8* block, float* out);
void dequantize_q6_k(const u8* block, float* out);
// Rows of k-quant blocks against the float input (dequantised block by block).
void matmul_q4_k(float* out, const float* x, const u8* blocks, i32 n, i32 d);
void matmul_q6_k(float* out, const float* x, const u8* blocks, i32 n, i32 d);

// roundf(): halves away from zero, without a C library.
float round_half_away(float);

}
