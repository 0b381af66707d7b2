#pragma once
// Q8x8 rows (llama2.c int8 interleaved in groups of eight, interleaved_blocks.h) against a
// batch of up to four tokens at a time: each 32-byte weight vector is loaded once and
// multiplied with every token's broadcast input slice, where the one-token kernel
// (interleaved_rows.h's q8x8_group) loads it once per token. Each (row, token) keeps that
// kernel's arithmetic: the same exact integer group sums (VNNI: the stored w + 128 with
// 128 * sum(x) taken off; otherwise |w| and sign(x, w) through pmaddubsw, pairs at most
// 32512, then pmaddwd), then value += float(sum) * ws * xs lane for lane in group order,
// so a batch gives the one-token bits. Unlike the other batch kernels this one exists in
// the VNNI sets too (their byte products are what makes it pay). Included inside a
// target pragma that enables AVX2, after tensor.h (for MatmulInput).
#include "byte_products.h"
#include "token_blocks.h"
#include "../../interleaved_blocks.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

template<typename Pieces>
struct Q8x8BatchWith {
    // `d` rows (d a multiple of 8, wq and ws at a group of eight rows) against `tokens`
    // inputs; token t's row i at out[t * out_stride + i]. With VNNI the inputs' group
    // sums are used where they come with the inputs.
    static void q8x8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* wq, const float* ws, i32 n, i32 d)
    {
        if constexpr (Pieces::exact_byte_products)
            if (in[0].sums) {
                rows_batch_with<true>(out, out_stride, in, tokens, wq, ws, n, d);
                return;
            }
        rows_batch_with<false>(out, out_stride, in, tokens, wq, ws, n, d);
    }

    // The eight rows' exact integer sums of one 32-value group (chunks at `chunks`, Q8x8's
    // order) with the input group g of `Tokens` tokens: with Offset (VNNI) the stored
    // w + 128 against x, 128 * sum(x) taken off; otherwise |w| and sign(x, w). Q8_0x8's
    // batches take these too (interleaved_batch.h).
    template<i32 Tokens, bool Offset>
    static void group_integers(const u8* chunks, const MatmulInput* in, i32 g, __m256i (&sums)[Tokens])
    {
        __m256i flip = _mm256_set1_epi8(char(0x80));
        for (auto& s : sums)
            s = _mm256_setzero_si256();
        for (i32 c = 0; c < 8; ++c) {
            __m256i w = Pieces::load(chunks + 32 * c);
            if constexpr (Offset) {
                for (i32 t = 0; t < Tokens; ++t)
                    sums[t] = Pieces::add_byte_products(sums[t], w, broadcast(in[t].q + 32 * g + 4 * c));
            } else {
                w = _mm256_xor_si256(w, flip);
                __m256i magnitudes = _mm256_abs_epi8(w);
                for (i32 t = 0; t < Tokens; ++t)
                    sums[t] = _mm256_add_epi32(sums[t], Pieces::byte_products(magnitudes, _mm256_sign_epi8(broadcast(in[t].q + 32 * g + 4 * c), w)));
            }
        }
        if constexpr (Offset)
            for (i32 t = 0; t < Tokens; ++t)
                sums[t] = _mm256_sub_epi32(sums[t], _mm256_set1_epi32(128 * in[t].sums[g]));
    }

private:
    template<bool Offset>
    static void rows_batch_with(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* wq, const float* ws, i32 n, i32 d)
    {
        i32 groups = n / q8x8::values_per_group;
        size_t rows_bytes = size_t(q8x8::group_rows) * size_t(n), scales_count = size_t(q8x8::group_rows) * size_t(groups);
        for (i32 i = 0; i < d; i += q8x8::group_rows) {
            const u8* rows = wq + size_t(i / q8x8::group_rows) * rows_bytes;
            const float* scales = ws + size_t(i / q8x8::group_rows) * scales_count;
            float* at = out + i;
            in_token_blocks(tokens, [&](auto count, i32 t) {
                group<decltype(count)::value, Offset>(at + size_t(t) * out_stride, out_stride, in + t, rows, scales, groups);
            });
        }
    }

    static __m256i broadcast(const i8* at)
    {
        i32 word;
        __builtin_memcpy(&word, at, 4);
        return _mm256_set1_epi32(word);
    }

    // One group of eight rows, `Tokens` tokens.
    template<i32 Tokens, bool Offset>
    static void group(float* out, size_t out_stride, const MatmulInput* in, const u8* rows, const float* scales, i32 groups)
    {
        __m256 values[Tokens];
        for (auto& v : values)
            v = _mm256_setzero_ps();
        for (i32 g = 0; g < groups; ++g) {
            __m256i sums[Tokens];
            group_integers<Tokens, Offset>(rows + q8x8::group_bytes * size_t(g), in, g, sums);
            __m256 row_scales = _mm256_loadu_ps(scales + 8 * g);
            for (i32 t = 0; t < Tokens; ++t) {
                __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(sums[t]), row_scales);
                values[t] = _mm256_add_ps(values[t], _mm256_mul_ps(scaled, _mm256_set1_ps(in[t].s[g])));
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            _mm256_storeu_ps(out + size_t(t) * out_stride, values[t]);
    }
};

}
}
