// The scalar references of the Q5_0, Q5_1, Q4_1, Q5_K, Q3_K and Q2_K products: q5_quants.h's,
// q3_k.h's and q2_k.h's row loops with plain unpacking and a plain integer dot product.
#include "ops.h"
#include "q2_k.h"
#include "q3_k.h"
#include "q5_quants.h"

namespace llm::ops {

void dequantize_q5_0(const u8* block, float* out) { q5_quants::dequantize_q5_0(block, out); }
void dequantize_q5_1(const u8* block, float* out) { q5_quants::dequantize_q5_1(block, out); }
void dequantize_q4_1(const u8* block, float* out) { q5_quants::dequantize_q4_1(block, out); }
void dequantize_q5_k(const u8* block, float* out) { q5_quants::dequantize_q5_k(block, out); }
void dequantize_q3_k(const u8* block, float* out) { q3_k::dequantize(block, out); }
void dequantize_q2_k(const u8* block, float* out) { q2_k::dequantize(block, out); }

void matmul_q5_0(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    q5_quants::matmul_q5_0(out, xq, xs, blocks, n, d, q5_quants::q5_0_values, dot_i8);
}

void matmul_q5_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    q5_quants::matmul_q5_1(out, xq, xs, xsums, blocks, n, d, q5_quants::q5_1_values, dot_i8);
}

void matmul_q4_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    q5_quants::matmul_q4_1(out, xq, xs, xsums, blocks, n, d, q5_quants::q4_1_values, dot_i8);
}

void matmul_q5_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    q5_quants::matmul_q5_k(out, xq, xs, xsums, blocks, n, d, q5_quants::q5_k_values, dot_i8);
}

void matmul_q3_k(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    q3_k::matmul(out, xq, xs, blocks, n, d, q3_k::group_values, dot_i8);
}

void matmul_q2_k(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    q2_k::matmul(out, xq, xs, blocks, n, d, q2_k::group_values, dot_i8);
}

}
