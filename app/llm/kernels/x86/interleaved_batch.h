#pragma once
// Rows interleaved in groups of eight (interleaved_blocks.h) against a batch of tokens:
// each weight vector is loaded and unpacked once and multiplied with four tokens'
// broadcast inputs (token_blocks.h), where the one-token kernels (interleaved_rows.h) unpack it once per
// token. Each (row, token) keeps the one-token kernel's arithmetic: the same exact integer
// sums (integer addition in any order gives the same sums), the same float terms lane for
// lane and tree_sum8's tree, so a batch gives the one-token bits.
//
// The byte products come from `Pieces` (byte_products.h, vnni_products.h): with VNNI,
// vpdpbusd adds four products into each int32 lane in one instruction, which halves the
// work per token; without, pmaddubsw's int16 pairs are added in int16 within the bounds
// interleaved_rows.h states (Q4_0x8 and Q4_Kx8: eight pair vectors, |sum| <= 30720;
// Q5_Kx8: four, |sum| <= 31744; Q6_Kx8: two, |sum| <= 32256) and widened with pmaddwd. Included inside a target pragma
// that enables AVX2, after tensor.h (for MatmulInput).
#include "byte_products.h"
#include "interleaved_rows.h"
#include "q8x8_batch.h"
#include "token_blocks.h"
#include "../../interleaved_blocks.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

template<typename Pieces>
struct InterleavedBatchWith {
    // `d` interleaved rows (d a multiple of 8, `blocks` at a group) against `tokens`
    // inputs, token t's row i at out[t * out_stride + i]. Q4_0x8, Q4_Kx8 and Q5_Kx8 need the
    // inputs' group sums (MatmulInput::sums), Q6_Kx8 their 16-value sums (sums16).
    static void q4_0x8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        groups_batch(out, out_stride, in, tokens, blocks, size_t(per_row) * q4_0x8::group_rows * q4_0x8::plain_bytes, d,
            [&](auto count, float* at, const MatmulInput* first, const u8* group) {
                constexpr i32 block_tokens = decltype(count)::value;
                blocks_group<block_tokens, q4_0x8::Layout>(at, out_stride, first, group, per_row, [&](const u8* chunks, i32 b, __m256i (&integers)[block_tokens]) {
                    q4_0x8_integers<block_tokens>(chunks, first, b, integers);
                });
            });
    }
    // Q8_0x8: each block's integers as Q8x8's (q8x8_batch.h; with VNNI from the inputs'
    // group sums where they come with the inputs), the terms and tree as Q4_0x8's.
    static void q8_0x8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        auto run = [&]<bool Offset>() {
            groups_batch(out, out_stride, in, tokens, blocks, size_t(per_row) * q8_0x8::group_rows * q8_0x8::plain_bytes, d,
                [&](auto count, float* at, const MatmulInput* first, const u8* group) {
                    constexpr i32 block_tokens = decltype(count)::value;
                    blocks_group<block_tokens, q8_0x8::Layout>(at, out_stride, first, group, per_row, [&](const u8* chunks, i32 b, __m256i (&integers)[block_tokens]) {
                        Q8x8BatchWith<Pieces>::template group_integers<block_tokens, Offset>(chunks, first, b, integers);
                    });
                });
        };
        if constexpr (Pieces::exact_byte_products)
            if (in[0].sums) {
                run.template operator()<true>();
                return;
            }
        run.template operator()<false>();
    }
    static void q4_kx8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        groups_batch(out, out_stride, in, tokens, blocks, size_t(per_row) * q4_kx8::Octets::octet_bytes, d,
            [&](auto count, float* at, const MatmulInput* first, const u8* group) { k_x8_group<decltype(count)::value, false>(at, out_stride, first, group, per_row); });
    }
    static void q5_kx8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        groups_batch(out, out_stride, in, tokens, blocks, size_t(per_row) * q5_kx8::Octets::octet_bytes, d,
            [&](auto count, float* at, const MatmulInput* first, const u8* group) { k_x8_group<decltype(count)::value, true>(at, out_stride, first, group, per_row); });
    }
    static void q6_kx8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        groups_batch(out, out_stride, in, tokens, blocks, size_t(per_row) * q6_kx8::Octets::octet_bytes, d,
            [&](auto count, float* at, const MatmulInput* first, const u8* group) { q6_kx8_group<decltype(count)::value>(at, out_stride, first, group, per_row); });
    }

private:
    // Each group of eight rows (`group_bytes` apart) against every block of tokens, so a
    // group's weights are read from memory once and stay in the cache for the blocks.
    template<typename GroupKernel>
    static void groups_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, size_t group_bytes, i32 d, GroupKernel const& kernel)
    {
        for (i32 i = 0; i < d; i += 8)
            in_token_blocks(tokens, [&](auto count, i32 t) {
                kernel(count, out + size_t(t) * out_stride + size_t(i), in + t, blocks + size_t(i / 8) * group_bytes);
            });
    }

    static __m256i broadcast(const i8* at)
    {
        i32 word;
        __builtin_memcpy(&word, at, 4);
        return _mm256_set1_epi32(word);
    }
    // sums + unsigned weight bytes times a token's signed input bytes: with VNNI, four
    // products into each int32 lane; otherwise pmaddubsw's pairs added in int16 (the
    // caller's bound), to be widened by `widened`.
    static __m256i add_products(__m256i sums, __m256i weights, __m256i inputs)
    {
        if constexpr (Pieces::exact_byte_products)
            return Pieces::add_byte_products(sums, weights, inputs);
        else
            return _mm256_add_epi16(sums, _mm256_maddubs_epi16(weights, inputs));
    }
    static __m256i widened(__m256i sums)
    {
        if constexpr (Pieces::exact_byte_products)
            return sums;
        else
            return Pieces::pair_sums(sums);
    }
    // tree_sum8's tree of eight lane-wise terms: ((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)).
    static __m256 tree(__m256 const (&t)[8])
    {
        __m256 even = _mm256_add_ps(_mm256_add_ps(t[0], t[4]), _mm256_add_ps(t[2], t[6]));
        __m256 odd = _mm256_add_ps(_mm256_add_ps(t[1], t[5]), _mm256_add_ps(t[3], t[7]));
        return _mm256_add_ps(even, odd);
    }

    // Q4_0x8 block b's integers for `Tokens` tokens: its nibbles unpacked once, 8 * sum(x)
    // taken off.
    template<i32 Tokens>
    static void q4_0x8_integers(const u8* chunks, const MatmulInput* in, i32 b, __m256i (&integers)[Tokens])
    {
        __m256i mask = _mm256_set1_epi8(0x0F);
        __m256i low[4], high[4];
        for (i32 c = 0; c < 4; ++c) {
            __m256i w = Pieces::load(chunks + 32 * c);
            low[c] = _mm256_and_si256(w, mask);
            high[c] = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
        }
        for (i32 t = 0; t < Tokens; ++t) {
            const i8* x = in[t].q + 32 * b;
            __m256i sums = _mm256_setzero_si256();
            for (i32 c = 0; c < 4; ++c) {
                sums = add_products(sums, low[c], broadcast(x + 4 * c));
                sums = add_products(sums, high[c], broadcast(x + 16 + 4 * c));
            }
            integers[t] = _mm256_sub_epi32(widened(sums), _mm256_set1_epi32(8 * in[t].sums[b]));
        }
    }

    // One group of eight rows of 32-value blocks laid out as `Layout` says (Q4_0x8, Q8_0x8),
    // `Tokens` tokens (token t's rows at out + t * out_stride): per block, the tokens' exact
    // integers from block_integers(chunks, b, integers), then each term float(integer) * d *
    // xs lane for lane and tree_sum8's tree over each run of eight blocks.
    template<i32 Tokens, typename Layout, typename BlockIntegers>
    static void blocks_group(float* out, size_t out_stride, const MatmulInput* in, const u8* group, i32 per_row, BlockIntegers const& block_integers)
    {
        __m256 values[Tokens];
        for (auto& v : values)
            v = _mm256_setzero_ps();
        // Block b's term for each token: float(integer) * d * xs.
        auto block_terms = [&](i32 b, __m256 (&terms)[Tokens]) __attribute__((always_inline)) {
            auto block = Layout::block_of(group, per_row, b);
            __m256i integers[Tokens];
            block_integers(block.chunks, b, integers);
            __m256 scales = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block.scales)));
            for (i32 t = 0; t < Tokens; ++t)
                terms[t] = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers[t]), scales), _mm256_set1_ps(in[t].s[b]));
        };
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8) {
            __m256 run[Tokens][8];
            // Unrolled, so that each term has a place of its own rather than one chosen
            // at run time (which kept them all in memory).
#pragma unroll
            for (i32 j = 0; j < 8; ++j) {
                __m256 terms[Tokens];
                block_terms(b + j, terms);
                for (i32 t = 0; t < Tokens; ++t)
                    run[t][j] = terms[t];
            }
            for (i32 t = 0; t < Tokens; ++t)
                values[t] = _mm256_add_ps(values[t], tree(run[t]));
        }
        for (; b < per_row; ++b) {
            __m256 terms[Tokens];
            block_terms(b, terms);
            for (i32 t = 0; t < Tokens; ++t)
                values[t] = _mm256_add_ps(values[t], terms[t]);
        }
        for (i32 t = 0; t < Tokens; ++t)
            _mm256_storeu_ps(out + size_t(t) * out_stride, values[t]);
    }

    // One group of eight Q4_Kx8 or Q5_Kx8 (FiveBits) rows, `Tokens` tokens: interleaved_rows.h's
    // k_x8_terms with each slice unpacked once for all of them. Without VNNI, Q5_Kx8's pairs
    // are widened every four slices (interleaved_rows.h's k_x8_chunk gives the bounds).
    template<i32 Tokens, bool FiveBits>
    static void k_x8_group(float* out, size_t out_stride, const MatmulInput* in, const u8* group, i32 per_row)
    {
        using Rows = InterleavedRowsWith<Pieces>;
        constexpr size_t octet_bytes = FiveBits ? q5_kx8::Octets::octet_bytes : q4_kx8::Octets::octet_bytes;
        constexpr i32 int16_run = FiveBits && !Pieces::exact_byte_products ? 4 : 8;
        __m256i mask = _mm256_set1_epi8(0x0F);
        __m256 values[Tokens];
        for (auto& v : values)
            v = _mm256_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            const u8* octet = group + size_t(b) * octet_bytes;
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(octet)));
            __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(octet + 16)));
            __m256i packed[3];
            for (i32 k = 0; k < 3; ++k)
                packed[k] = Pieces::load(octet + q4_kx8::scales_at + 32 * k);
            __m256 terms[Tokens][8];
            for (i32 c = 0; c < 4; ++c) {
                const u8* slices = octet + q4_kx8::nibbles_at + 256 * c;
                __m256i low[Tokens], high[Tokens];
                for (i32 first = 0; first < 8; first += int16_run) {
                    __m256i low_run[Tokens], high_run[Tokens];
                    for (i32 t = 0; t < Tokens; ++t)
                        low_run[t] = _mm256_setzero_si256(), high_run[t] = _mm256_setzero_si256();
                    for (i32 s = first; s < first + int16_run; ++s) {
                        __m256i w = Pieces::load(slices + 32 * s);
                        __m256i w_low = _mm256_and_si256(w, mask), w_high = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
                        if constexpr (FiveBits) {
                            __m256i bits = Pieces::load(octet + q5_kx8::fifth_bits_at + 32 * s);
                            w_low = _mm256_or_si256(w_low, Rows::fifth_bits(bits, 2 * c));
                            w_high = _mm256_or_si256(w_high, Rows::fifth_bits(bits, 2 * c + 1));
                        }
                        for (i32 t = 0; t < Tokens; ++t) {
                            const i8* x = in[t].q + 256 * b + 64 * c + 4 * s;
                            low_run[t] = add_products(low_run[t], w_low, broadcast(x));
                            high_run[t] = add_products(high_run[t], w_high, broadcast(x + 32));
                        }
                    }
                    for (i32 t = 0; t < Tokens; ++t) {
                        low[t] = first ? _mm256_add_epi32(low[t], widened(low_run[t])) : widened(low_run[t]);
                        high[t] = first ? _mm256_add_epi32(high[t], widened(high_run[t])) : widened(high_run[t]);
                    }
                }
                // float(scale * sums) * d as (float(scale) * d) * float(sums), and the
                // offset's float(min * x sums) * dmin as (float(min) * dmin) * float(x sums):
                // the same values (paired_groups_batch.h's k_x8_pair says why), with the
                // per-row factors shared by the tokens and no vpmulld (two instructions).
                for (i32 part = 0; part < 2; ++part) {
                    i32 j = 2 * c + part;
                    __m256i scale, min;
                    Rows::q4_kx8_scale_and_min(packed, j, scale, min);
                    __m256 scale_d = _mm256_mul_ps(_mm256_cvtepi32_ps(scale), d), min_dmin = _mm256_mul_ps(_mm256_cvtepi32_ps(min), dmin);
                    for (i32 t = 0; t < Tokens; ++t) {
                        __m256i sums = part ? high[t] : low[t];
                        __m256 scaled = _mm256_mul_ps(scale_d, _mm256_cvtepi32_ps(sums));
                        __m256 offset = _mm256_mul_ps(min_dmin, _mm256_set1_ps(float(in[t].sums[8 * b + j])));
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

    // Group k's stored six-bit values (0..63) of slice s of a Q6_Kx8 half, eight rows'
    // four each (k_quants::q6_k_group_values, lane for lane; interleaved_rows.h's
    // q6_kx8_half unpacks all four groups at once, which needs more registers than a
    // batch has to spare).
    static __m256i q6_kx8_values(const u8* half, i32 s, i32 k)
    {
        __m256i nibble = _mm256_set1_epi8(0x0F), top = _mm256_set1_epi8(0x30);
        __m256i low = Pieces::load(half + 96 * s + 32 * (k & 1)), high = Pieces::load(half + 96 * s + 64);
        if (k >= 2)
            low = _mm256_srli_epi16(low, 4);
        switch (k) {
        case 0: high = _mm256_slli_epi16(high, 4); break;
        case 1: high = _mm256_slli_epi16(high, 2); break;
        case 3: high = _mm256_srli_epi16(high, 2); break;
        default: break;
        }
        return _mm256_or_si256(_mm256_and_si256(low, nibble), _mm256_and_si256(high, top));
    }

    // One group of eight Q6_Kx8 rows, `Tokens` tokens: interleaved_rows.h's q6_kx8_terms,
    // one group of 32 values at a time. A group's two 16-value sums per token are
    // products over slices 0-3 and 4-7; without VNNI two slices' pairs are added in int16
    // (|sum| <= 32256) before widening.
    template<i32 Tokens>
    static void q6_kx8_group(float* out, size_t out_stride, const MatmulInput* in, const u8* group, i32 per_row)
    {
        __m256 values[Tokens];
        for (auto& v : values)
            v = _mm256_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            const u8* octet = q6_kx8::Octets::octet(group, b);
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(octet)));
            __m256 terms[Tokens][8];
            // Unrolled, so that each j's k is a constant to q6_kx8_values (with sixteen_values
            // below: bareflow-batch-bench, 2048 x 5632, 32 tokens, medians of 7 alternated
            // rounds, avx2 379 -> 273 us a token, avxvnni 272 -> 213).
#pragma unroll
            for (i32 j = 0; j < 8; ++j) {
                i32 h = j / 4, k = j % 4;
                const u8* half = octet + q6_kx8::halves_at + q6_kx8::half_bytes * size_t(h);
                // Slices from..from+3 (16 values) into sums. Inlined, each call's sums are
                // registers; choosing first or second inside one loop over all eight slices
                // kept both in memory.
                auto sixteen_values = [&](__m256i (&sums)[Tokens], i32 from) __attribute__((always_inline)) {
                    for (auto& v : sums)
                        v = _mm256_setzero_si256();
                    for (i32 s = from; s < from + 4; s += 2) {
                        __m256i a = q6_kx8_values(half, s, k), a_next = q6_kx8_values(half, s + 1, k);
                        for (i32 t = 0; t < Tokens; ++t) {
                            const i8* x = in[t].q + 256 * b + 128 * h + 32 * k + 4 * s;
                            if constexpr (Pieces::exact_byte_products)
                                sums[t] = Pieces::add_byte_products(Pieces::add_byte_products(sums[t], a, broadcast(x)), a_next, broadcast(x + 4));
                            else
                                sums[t] = _mm256_add_epi32(sums[t], Pieces::pair_sums(_mm256_add_epi16(_mm256_maddubs_epi16(a, broadcast(x)), _mm256_maddubs_epi16(a_next, broadcast(x + 4)))));
                        }
                    }
                };
                __m256i first[Tokens], second[Tokens];
                sixteen_values(first, 0);
                sixteen_values(second, 4);
                auto scale = [&](i32 sub) {
                    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(octet + q6_kx8::scales_at + 8 * size_t(sub))));
                };
                // float(s_a * a + s_b * b) from the floats of s_a, a, s_b and b, the same value
                // (paired_groups_batch.h's q6_kx8_pair says why) without vpmulld.
                __m256 scale_a = _mm256_cvtepi32_ps(scale(2 * j)), scale_b = _mm256_cvtepi32_ps(scale(2 * j + 1));
                for (i32 t = 0; t < Tokens; ++t) {
                    const i32* sums16 = in[t].sums16 + 16 * b;
                    __m256i a = _mm256_sub_epi32(first[t], _mm256_set1_epi32(32 * sums16[2 * j]));
                    __m256i second_a = _mm256_sub_epi32(second[t], _mm256_set1_epi32(32 * sums16[2 * j + 1]));
                    __m256 products = _mm256_add_ps(_mm256_mul_ps(scale_a, _mm256_cvtepi32_ps(a)), _mm256_mul_ps(scale_b, _mm256_cvtepi32_ps(second_a)));
                    terms[t][j] = _mm256_mul_ps(_mm256_mul_ps(products, d), _mm256_set1_ps(in[t].s[8 * b + j]));
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
