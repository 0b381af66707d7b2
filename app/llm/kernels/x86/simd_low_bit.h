#pragma once
// The SIMD variants of the Q5_0, Q5_1, Q4_1, Q5_K, Q3_K and Q2_K products, as templates over an
// instruction set's traits V (see simd_kernels.h): V's row kernels on the integer units
// where it has them (low_bit_rows.h, AVX2 and AVX-512), else q5_quants.h's, q3_k.h's and q2_k.h's row
// loops with SSE2 unpacking (low_bit_unpack.h, the same bytes as the scalar unpacking) and
// V's integer dot product. Either way the float order is the reference's, so the results
// are bit-identical to it. Included by sse2.cpp, avx2.cpp and avx512.cpp inside their
// target pragmas.
#include "../../q2_k.h"
#include "../../q3_k.h"
#include "../../q5_quants.h"
#include "low_bit_unpack.h"

namespace llm::kernels::simd {

// Each row through V's row kernel `row(first block)`; `bytes` per row.
template<typename Row>
void each_row(float* out, const u8* blocks, size_t bytes, i32 d, Row const& row)
{
    for (i32 i = 0; i < d; ++i)
        out[i] = row(blocks + size_t(i) * bytes);
}

// Rows whose kernel `row(first block, summary)` reads a summary of the input computed once
// per call by `summarise(summary)` (16 values per super-block), kept on the stack: rows of
// up to `most_blocks` super-blocks; false (nothing done) for wider ones, which take the
// generic path.
template<typename Summary, i32 most_blocks, typename Summarise, typename Row>
bool rows_with_input_summary(float* out, const u8* blocks, size_t block_bytes, i32 n, i32 d, Summarise const& summarise, Row const& row)
{
    if (n / 256 > most_blocks)
        return false;
    Summary summary[16 * most_blocks];
    summarise(summary);
    each_row(out, blocks, size_t(n / 256) * block_bytes, d, [&](const u8* first) { return row(first, summary); });
    return true;
}

template<typename V>
void matmul_q5_0(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_low_bit_rows) {
        each_row(out, blocks, size_t(n / 32) * q5_quants::q5_0_bytes, d,
            [&](const u8* row) { return V::template block_row<typename V::Q5_0>(xq, xs, xsums, row, n / 32); });
        return;
    }
    q5_quants::matmul_q5_0(out, xq, xs, blocks, n, d,
        [](const u8* block, i8* values) { x86::LowBitUnpack::unpack_five_bits(block + 2, block + 6, 16, values); }, V::dot_i8);
}

template<typename V>
void matmul_q5_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_low_bit_rows) {
        each_row(out, blocks, size_t(n / 32) * q5_quants::q5_1_bytes, d,
            [&](const u8* row) { return V::template block_row<typename V::Q5_1>(xq, xs, xsums, row, n / 32); });
        return;
    }
    q5_quants::matmul_q5_1(out, xq, xs, xsums, blocks, n, d,
        [](const u8* block, i8* values) { x86::LowBitUnpack::unpack_five_bits(block + 4, block + 8, 0, values); }, V::dot_i8);
}

template<typename V>
void matmul_q4_1(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_low_bit_rows) {
        each_row(out, blocks, size_t(n / 32) * q5_quants::q4_1_bytes, d,
            [&](const u8* row) { return V::template block_row<typename V::Q4_1>(xq, xs, xsums, row, n / 32); });
        return;
    }
    q5_quants::matmul_q4_1(out, xq, xs, xsums, blocks, n, d, x86::LowBitUnpack::q4_1_values, V::dot_i8);
}

template<typename V>
void matmul_q5_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_low_bit_rows) {
        // Two rows at a time (the last alone when d is odd).
        size_t row_bytes = size_t(n / 256) * q5_quants::q5_k_bytes;
        i32 i = 0;
        for (; i + 2 <= d; i += 2)
            V::template q5_k_rows<2>(out + i, xq, xs, xsums, blocks + size_t(i) * row_bytes, row_bytes, n / 256);
        if (i < d)
            V::template q5_k_rows<1>(out + i, xq, xs, xsums, blocks + size_t(i) * row_bytes, row_bytes, n / 256);
        return;
    }
    q5_quants::matmul_q5_k(out, xq, xs, xsums, blocks, n, d, x86::LowBitUnpack::q5_k_values, V::dot_i8);
}

template<typename V>
void matmul_q3_k(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    // The input's offsets, once per call (up to 8192 columns: 2 KiB of stack).
    if constexpr (V::has_low_bit_rows)
        if (rows_with_input_summary<i32, 32>(
                out, blocks, q3_k::q3_k_bytes, n, d, [&](i32* offsets) { V::q3_k_offsets(offsets, xq, n / 256); },
                [&](const u8* row, const i32* offsets) { return V::q3_k_row(xq, xs, offsets, row, n / 256); }))
            return;
    q3_k::matmul(out, xq, xs, blocks, n, d, x86::LowBitUnpack::q3_k_values, V::dot_i8);
}

template<typename V>
void matmul_q2_k(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    // The input's sums over each 16 values, once per call (up to 16384 columns: 2 KiB of
    // stack).
    if constexpr (V::has_low_bit_rows)
        if (rows_with_input_summary<i16, 64>(
                out, blocks, q2_k::q2_k_bytes, n, d, [&](i16* sums16) { V::q2_k_input_sums(sums16, xq, n / 256); },
                [&](const u8* row, const i16* sums16) { return V::q2_k_row(xq, xs, sums16, row, n / 256); }))
            return;
    q2_k::matmul(out, xq, xs, blocks, n, d, x86::LowBitUnpack::q2_k_values, V::dot_i8);
}

}
