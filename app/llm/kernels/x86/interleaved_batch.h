#pragma once
// Rows interleaved in groups of eight (interleaved_blocks.h) against a batch of tokens,
// for batch_rows.h: each weight vector is loaded and its nibbles unpacked once and
// multiplied with `Tokens` tokens' broadcast inputs, instead of once per token as the
// one-token kernels (interleaved_rows.h) do. Each (row, token) keeps the one-token
// kernel's arithmetic: the same exact integer sums (int16 pairs within the bounds stated
// there, then pmaddwd; integer addition in any order gives the same sums), the same float
// terms lane for lane and tree_sum8's tree, so a batch gives the one-token bits.
// Included inside a target pragma that enables AVX2, after tensor.h (for MatmulInput).
#include "byte_products.h"
#include "interleaved_rows.h"
#include "token_blocks.h"
#include "../../interleaved_blocks.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct InterleavedBatchRows : BytePieces {
    static __m256i broadcast(const i8* at)
    {
        i32 word;
        __builtin_memcpy(&word, at, 4);
        return _mm256_set1_epi32(word);
    }
    // tree_sum8's tree of eight lane-wise terms.
    static __m256 tree(__m256 const (&t)[8])
    {
        __m256 even = _mm256_add_ps(_mm256_add_ps(t[0], t[4]), _mm256_add_ps(t[2], t[6]));
        __m256 odd = _mm256_add_ps(_mm256_add_ps(t[1], t[5]), _mm256_add_ps(t[3], t[7]));
        return _mm256_add_ps(even, odd);
    }

    // `d` interleaved rows (d a multiple of 8, `blocks` at a group) against `tokens` inputs.
    static void q4_0x8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        size_t group_bytes = size_t(per_row) * q4_0x8::group_rows * q4_0x8::plain_bytes;
        for (i32 i = 0; i < d; i += q4_0x8::group_rows)
            in_token_blocks(tokens, [&](auto count, i32 t) {
                q4_0x8_group<decltype(count)::value>(out + size_t(t) * out_stride + i, out_stride, in + t,
                    blocks + size_t(i / q4_0x8::group_rows) * group_bytes, per_row);
            });
    }
    static void q4_kx8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        size_t group_bytes = size_t(per_row) * q4_kx8::octet_bytes;
        for (i32 i = 0; i < d; i += q4_kx8::group_rows)
            in_token_blocks(tokens, [&](auto count, i32 t) {
                q4_kx8_group<decltype(count)::value>(out + size_t(t) * out_stride + i, out_stride, in + t,
                    blocks + size_t(i / q4_kx8::group_rows) * group_bytes, per_row);
            });
    }

    // One group of eight Q4_0x8 rows, `Tokens` tokens (token t's rows at out + t * out_stride).
    template<i32 Tokens>
    static void q4_0x8_group(float* out, size_t out_stride, const MatmulInput* in, const u8* group, i32 per_row)
    {
        __m256i mask = _mm256_set1_epi8(0x0F);
        __m256 values[Tokens], terms[Tokens][8];
        for (auto& v : values)
            v = _mm256_setzero_ps();
        i32 full_runs = per_row / 8 * 8;
        for (i32 b = 0; b < per_row; ++b) {
            auto block = q4_0x8::block_of(group, per_row, b);
            __m256i low[4], high[4];
            for (i32 c = 0; c < 4; ++c) {
                __m256i w = load(block.chunks + 32 * c);
                low[c] = _mm256_and_si256(w, mask);
                high[c] = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
            }
            __m256 scales = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block.scales)));
            for (i32 t = 0; t < Tokens; ++t) {
                const i8* x = in[t].q + 32 * b;
                __m256i pairs = _mm256_setzero_si256();
                for (i32 c = 0; c < 4; ++c) {
                    pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(low[c], broadcast(x + 4 * c)));
                    pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(high[c], broadcast(x + 16 + 4 * c)));
                }
                __m256i integers = _mm256_sub_epi32(pair_sums(pairs), _mm256_set1_epi32(8 * in[t].sums[b]));
                __m256 term = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), scales), _mm256_set1_ps(in[t].s[b]));
                if (b < full_runs)
                    terms[t][b % 8] = term;
                else
                    values[t] = _mm256_add_ps(values[t], term);
            }
            if (b < full_runs && b % 8 == 7)
                for (i32 t = 0; t < Tokens; ++t)
                    values[t] = _mm256_add_ps(values[t], tree(terms[t]));
        }
        for (i32 t = 0; t < Tokens; ++t)
            _mm256_storeu_ps(out + size_t(t) * out_stride, values[t]);
    }

    // One group of eight Q4_Kx8 rows, `Tokens` tokens: interleaved_rows.h's q4_kx8_terms
    // with each slice unpacked once for all of them.
    template<i32 Tokens>
    static void q4_kx8_group(float* out, size_t out_stride, const MatmulInput* in, const u8* group, i32 per_row)
    {
        __m256i mask = _mm256_set1_epi8(0x0F);
        __m256 values[Tokens];
        for (auto& v : values)
            v = _mm256_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            const u8* octet = q4_kx8::octet(group, b);
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(octet)));
            __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(octet + 16)));
            __m256i packed[3];
            for (i32 k = 0; k < 3; ++k)
                packed[k] = load(octet + q4_kx8::scales_at + 32 * k);
            __m256 terms[Tokens][8];
            for (i32 c = 0; c < 4; ++c) {
                const u8* slices = octet + q4_kx8::nibbles_at + 256 * c;
                __m256i low[Tokens], high[Tokens];
                for (i32 t = 0; t < Tokens; ++t)
                    low[t] = _mm256_setzero_si256(), high[t] = _mm256_setzero_si256();
                for (i32 s = 0; s < 8; ++s) {
                    __m256i w = load(slices + 32 * s);
                    __m256i w_low = _mm256_and_si256(w, mask), w_high = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
                    for (i32 t = 0; t < Tokens; ++t) {
                        const i8* x = in[t].q + 256 * b + 64 * c + 4 * s;
                        low[t] = _mm256_add_epi16(low[t], _mm256_maddubs_epi16(w_low, broadcast(x)));
                        high[t] = _mm256_add_epi16(high[t], _mm256_maddubs_epi16(w_high, broadcast(x + 32)));
                    }
                }
                for (i32 part = 0; part < 2; ++part) {
                    i32 j = 2 * c + part;
                    __m256i scale, min;
                    InterleavedRowsWith<BytePieces>::q4_kx8_scale_and_min(packed, j, scale, min);
                    for (i32 t = 0; t < Tokens; ++t) {
                        __m256i sums = pair_sums(part ? high[t] : low[t]);
                        __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(scale, sums)), d);
                        __m256 offset = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(min, _mm256_set1_epi32(in[t].sums[8 * b + j]))), dmin);
                        terms[t][j] = _mm256_mul_ps(_mm256_sub_ps(scaled, offset), _mm256_set1_ps(in[t].s[8 * b + j]));
                    }
                }
            }
            for (i32 t = 0; t < Tokens; ++t)
                values[t] = _mm256_add_ps(values[t], tree(terms[t]));
        }
        for (i32 t = 0; t < Tokens; ++t)
            _mm256_storeu_ps(out + size_t(t) * out_stride, values[t]);
    }
};

}
}
