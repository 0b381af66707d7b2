#pragma once
// Rows in groups of eight (Q8x8, and the interleaved Q4_0x8, Q4_Kx8, Q5_Kx8 and Q6_Kx8) against a
// batch two groups at a time, for AVX-512 with VNNI. A group's eight rows fill half of a
// 512-bit vector, so one vector holds the same slice of two neighbouring groups, and one
// vpdpbusd adds four products into sixteen rows' sums where groups_batch.h's 256-bit one
// reaches eight. Both groups take the same four input bytes, broadcast to all sixteen
// lanes by the instruction's own memory operand, and the float terms run sixteen lanes
// wide too: per row, half the instructions (bareflow-batch-bench, 2048 x 5632, 32 tokens:
// Q4_Kx8 107 -> 62 us a token, Q6_Kx8 132 -> 90, Q4_0x8 93 -> 56, Q8x8 94 -> 56). One
// token reads its rows from memory, and two streams at once ran slower there: the
// one-token kernels pair neighbouring slices of one group instead (interleaved_rows.h).
//
// Lane for lane every step is groups_batch.h's: the same exact integer sums, the same
// float terms and tree_sum8's tree (accumulated as the terms come, in the tree's order),
// so a row gets the one-token kernel's bits. A last group without a partner takes the
// 256-bit kernel. Only the 64-bit build pairs groups: the 32-bit one has eight vector
// registers, too few for sixteen lanes of several tokens' sums. Included inside
// avx512vnni.cpp's target pragma.
#include "groups_batch.h"
#include "token_blocks.h"
#include "vnni_products.h"
#include "../../interleaved_blocks.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct PairedGroupsBatch : GroupsBatchWith<Avx512VnniPieces> {
    using Narrow = GroupsBatchWith<Avx512VnniPieces>;

    // Q8x8 with the inputs' group sums (without, the 256-bit kernels' |w| and sign(x, w)).
    static void q8x8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* wq, const float* ws, i32 n, i32 d)
    {
        i32 groups = n / q8x8::values_per_group;
        size_t rows_bytes = size_t(q8x8::group_rows) * size_t(n), scales_count = size_t(q8x8::group_rows) * size_t(groups);
        i32 paired = 0;
        if (in[0].sums)
            paired = pairs_batch(out, out_stride, in, tokens, wq, rows_bytes, d, [&](auto count, float* at, const MatmulInput* first, Pair pair, i32 row) {
                Scales scales { ws + size_t(row / 8) * scales_count, scales_count };
                q8x8_pair<decltype(count)::value>(at, out_stride, first, pair, scales, groups);
            });
        if (paired < d)
            Narrow::q8x8_rows_batch(out + paired, out_stride, in, tokens, wq + size_t(paired / 8) * rows_bytes, ws + size_t(paired / 8) * scales_count, n, d - paired);
    }
    static void q4_0x8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        pairs_then_rest(out, out_stride, in, tokens, blocks, size_t(per_row) * q4_0x8::group_rows * q4_0x8::plain_bytes, n, d,
            [&](auto count, float* at, const MatmulInput* first, Pair pair, i32) {
                constexpr i32 block_tokens = decltype(count)::value;
                blocks_pair<block_tokens, q4_0x8::Layout>(at, out_stride, first, pair, per_row, [&](Pair chunks, i32 b, __m512i (&integers)[block_tokens]) {
                    q4_0x8_integers<block_tokens>(chunks, first, b, integers);
                });
            },
            Narrow::q4_0x8_rows_batch);
    }
    // Q8_0x8 with the inputs' group sums (without: the 256-bit kernels' |w| and sign(x, w)).
    static void q8_0x8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        if (!in[0].sums) {
            Narrow::q8_0x8_rows_batch(out, out_stride, in, tokens, blocks, n, d);
            return;
        }
        i32 per_row = n / 32;
        pairs_then_rest(out, out_stride, in, tokens, blocks, size_t(per_row) * q8_0x8::group_rows * q8_0x8::plain_bytes, n, d,
            [&](auto count, float* at, const MatmulInput* first, Pair pair, i32) {
                constexpr i32 block_tokens = decltype(count)::value;
                blocks_pair<block_tokens, q8_0x8::Layout>(at, out_stride, first, pair, per_row, [&](Pair chunks, i32 b, __m512i (&integers)[block_tokens]) {
                    q8_0x8_integers<block_tokens>(chunks, first, b, integers);
                });
            },
            Narrow::q8_0x8_rows_batch);
    }
    static void q4_kx8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        pairs_then_rest(out, out_stride, in, tokens, blocks, size_t(per_row) * q4_kx8::Octets::octet_bytes, n, d,
            [&](auto count, float* at, const MatmulInput* first, Pair pair, i32) { k_x8_pair<decltype(count)::value, false>(at, out_stride, first, pair, per_row); },
            Narrow::q4_kx8_rows_batch);
    }
    static void q5_kx8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        pairs_then_rest(out, out_stride, in, tokens, blocks, size_t(per_row) * q5_kx8::Octets::octet_bytes, n, d,
            [&](auto count, float* at, const MatmulInput* first, Pair pair, i32) { k_x8_pair<decltype(count)::value, true>(at, out_stride, first, pair, per_row); },
            Narrow::q5_kx8_rows_batch);
    }
    static void q6_kx8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        pairs_then_rest(out, out_stride, in, tokens, blocks, size_t(per_row) * q6_kx8::Octets::octet_bytes, n, d,
            [&](auto count, float* at, const MatmulInput* first, Pair pair, i32) { q6_kx8_pair<decltype(count)::value>(at, out_stride, first, pair, per_row); },
            Narrow::q6_kx8_rows_batch);
    }

private:
    // Two neighbouring groups' bytes at the same offset: the first group's at `first`, the
    // second's `apart` bytes on.
    struct Pair {
        const u8* first;
        size_t apart;

        Pair at(size_t offset) const { return { first + offset, apart }; }
        // The 32 bytes at `offset` of each: the first's in the low half, the second's in the high.
        __m512i bytes(size_t offset) const
        {
            __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first + offset));
            return _mm512_inserti64x4(_mm512_castsi256_si512(low), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first + apart + offset)), 1);
        }
        // Eight f16 values of each at `offset`, as sixteen floats.
        __m512 halves(size_t offset) const
        {
            __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(first + offset));
            __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(first + apart + offset));
            return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1));
        }
        // Eight signed bytes of each at `offset`, as sixteen int32 lanes.
        __m512i signed_bytes(size_t offset) const
        {
            __m128i low = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(first + offset));
            __m128i high = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(first + apart + offset));
            return _mm512_cvtepi8_epi32(_mm_unpacklo_epi64(low, high));
        }
    };

    // The groups of `d` rows two at a time, each pair (its first row's number given too)
    // against every block of tokens; returns how many rows that covered (none in the
    // 32-bit build).
    template<typename PairKernel>
    static i32 pairs_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, size_t group_bytes, i32 d, PairKernel const& kernel)
    {
        i32 paired = sizeof(void*) == 8 ? d / 16 * 16 : 0;
        for (i32 i = 0; i < paired; i += 16)
            in_token_blocks<wide_token_block>(tokens, [&](auto count, i32 t) {
                kernel(count, out + size_t(t) * out_stride + size_t(i), in + t, Pair { blocks + size_t(i / 8) * group_bytes, group_bytes }, i);
            });
        return paired;
    }

    // An interleaved type's rows: the pairs, then a last group alone through `narrow`
    // (the 256-bit kernel).
    template<typename PairKernel>
    static void pairs_then_rest(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, size_t group_bytes, i32 n, i32 d,
        PairKernel const& kernel, void (*narrow)(float*, size_t, const MatmulInput*, i32, const u8*, i32, i32))
    {
        i32 paired = pairs_batch(out, out_stride, in, tokens, blocks, group_bytes, d, kernel);
        if (paired < d)
            narrow(out + paired, out_stride, in, tokens, blocks + size_t(paired / 8) * group_bytes, n, d - paired);
    }

    static __m512i broadcast(const i8* at)
    {
        i32 word;
        __builtin_memcpy(&word, at, 4);
        return _mm512_set1_epi32(word);
    }

    // tree_sum8's ((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)) with the terms given in
    // order 0..7: t0..t3 are held until their partners come, so a token keeps four vectors
    // rather than eight.
    struct Tree {
        __m512 held[4];
        void add(i32 j, __m512 term)
        {
            if (j < 4)
                held[j] = term;
            else
                held[j - 4] = _mm512_add_ps(held[j - 4], term);
        }
        __m512 sum() const { return _mm512_add_ps(_mm512_add_ps(held[0], held[2]), _mm512_add_ps(held[1], held[3])); }
    };

    // The first group's eight rows at row, the second's at row + 8.
    static void store(float* row, __m512 values)
    {
        _mm256_storeu_ps(row, _mm512_castps512_ps256(values));
        _mm256_storeu_ps(row + 8, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(values), 1)));
    }

    // Two groups' float scales: the first's at `first`, the second's `apart` floats on.
    struct Scales {
        const float* first;
        size_t apart;
        // Eight of each from `offset`.
        __m512 at(size_t offset) const
        {
            __m256 low = _mm256_loadu_ps(first + offset);
            return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(low)), _mm256_castps_pd(_mm256_loadu_ps(first + apart + offset)), 1));
        }
    };

    // Two groups of Q8x8 rows, `Tokens` tokens: q8x8_batch.h's group with the inputs'
    // group sums (the stored w + 128 against x, 128 * sum(x) taken off).
    template<i32 Tokens>
    static void q8x8_pair(float* out, size_t out_stride, const MatmulInput* in, Pair rows, Scales scales, i32 groups)
    {
        __m512 values[Tokens];
        for (auto& v : values)
            v = _mm512_setzero_ps();
        for (i32 g = 0; g < groups; ++g) {
            // A Q8x8 group's values lie as a Q8_0x8 block's do.
            __m512i integers[Tokens];
            q8_0x8_integers<Tokens>(rows.at(q8x8::group_bytes * size_t(g)), in, g, integers);
            __m512 row_scales = scales.at(8 * size_t(g));
            for (i32 t = 0; t < Tokens; ++t) {
                __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(integers[t]), row_scales);
                values[t] = _mm512_add_ps(values[t], _mm512_mul_ps(scaled, _mm512_set1_ps(in[t].s[g])));
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            store(out + size_t(t) * out_stride, values[t]);
    }

    // Q4_0x8 block b's integers for two groups and `Tokens` tokens: interleaved_batch.h's.
    template<i32 Tokens>
    static void q4_0x8_integers(Pair chunks, const MatmulInput* in, i32 b, __m512i (&integers)[Tokens])
    {
        __m512i mask = _mm512_set1_epi8(0x0F);
        __m512i low[4], high[4];
        for (i32 c = 0; c < 4; ++c) {
            __m512i w = chunks.bytes(32 * size_t(c));
            low[c] = _mm512_and_si512(w, mask);
            high[c] = _mm512_and_si512(_mm512_srli_epi16(w, 4), mask);
        }
        for (i32 t = 0; t < Tokens; ++t) {
            const i8* x = in[t].q + 32 * b;
            __m512i sums = _mm512_setzero_si512();
            for (i32 c = 0; c < 4; ++c) {
                sums = _mm512_dpbusd_epi32(sums, low[c], broadcast(x + 4 * c));
                sums = _mm512_dpbusd_epi32(sums, high[c], broadcast(x + 16 + 4 * c));
            }
            integers[t] = _mm512_sub_epi32(sums, _mm512_set1_epi32(8 * in[t].sums[b]));
        }
    }

    // Q8_0x8 block b's integers for two groups and `Tokens` tokens (Q8x8 group b's too): the
    // stored w + 128 against each token's input, 128 * sum(x) taken off (q8x8_batch.h's
    // group_integers).
    template<i32 Tokens>
    static void q8_0x8_integers(Pair chunks, const MatmulInput* in, i32 b, __m512i (&integers)[Tokens])
    {
        for (auto& sums : integers)
            sums = _mm512_setzero_si512();
        for (i32 c = 0; c < 8; ++c) {
            __m512i w = chunks.bytes(32 * size_t(c));
            for (i32 t = 0; t < Tokens; ++t)
                integers[t] = _mm512_dpbusd_epi32(integers[t], w, broadcast(in[t].q + 32 * b + 4 * c));
        }
        for (i32 t = 0; t < Tokens; ++t)
            integers[t] = _mm512_sub_epi32(integers[t], _mm512_set1_epi32(128 * in[t].sums[b]));
    }

    // Two groups of rows of 32-value blocks laid out as `Layout` says (Q4_0x8, Q8_0x8),
    // `Tokens` tokens (token t's rows at out + t * out_stride): interleaved_batch.h's
    // blocks_group, the integers from block_integers(chunks, b, integers).
    template<i32 Tokens, typename Layout, typename BlockIntegers>
    static void blocks_pair(float* out, size_t out_stride, const MatmulInput* in, Pair groups, i32 per_row, BlockIntegers const& block_integers)
    {
        __m512 values[Tokens];
        for (auto& v : values)
            v = _mm512_setzero_ps();
        // Block b's term for each token: float(integer) * d * xs.
        auto block_terms = [&](i32 b, __m512 (&terms)[Tokens]) __attribute__((always_inline)) {
            __m512i integers[Tokens];
            block_integers(groups.at(Layout::chunks_at(b)), b, integers);
            __m512 scales = groups.halves(Layout::scales_at(per_row, b));
            for (i32 t = 0; t < Tokens; ++t)
                terms[t] = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(integers[t]), scales), _mm512_set1_ps(in[t].s[b]));
        };
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8) {
            Tree trees[Tokens];
            // Unrolled, so that each held term has a register of its own rather than a
            // place chosen at run time (which kept them all in memory).
#pragma unroll
            for (i32 j = 0; j < 8; ++j) {
                __m512 terms[Tokens];
                block_terms(b + j, terms);
                for (i32 t = 0; t < Tokens; ++t)
                    trees[t].add(j, terms[t]);
            }
            for (i32 t = 0; t < Tokens; ++t)
                values[t] = _mm512_add_ps(values[t], trees[t].sum());
        }
        for (; b < per_row; ++b) {
            __m512 terms[Tokens];
            block_terms(b, terms);
            for (i32 t = 0; t < Tokens; ++t)
                values[t] = _mm512_add_ps(values[t], terms[t]);
        }
        for (i32 t = 0; t < Tokens; ++t)
            store(out + size_t(t) * out_stride, values[t]);
    }

    // InterleavedRowsWith::q4_kx8_scale_and_min, sixteen lanes wide.
    static void q4_kx8_scale_and_min(__m512i const (&packed)[3], i32 j, __m512i& scale, __m512i& min)
    {
        __m512i six = _mm512_set1_epi32(63), four = _mm512_set1_epi32(0xF), two = _mm512_set1_epi32(3);
        auto byte = [](__m512i v, i32 shift) { return _mm512_srl_epi32(v, _mm_cvtsi32_si128(shift)); };
        if (j < 4) {
            scale = _mm512_and_si512(byte(packed[0], 8 * j), six);
            min = _mm512_and_si512(byte(packed[1], 8 * j), six);
        } else {
            i32 k = j - 4;
            scale = _mm512_or_si512(_mm512_and_si512(byte(packed[2], 8 * k), four), _mm512_slli_epi32(_mm512_and_si512(byte(packed[0], 8 * k + 6), two), 4));
            min = _mm512_or_si512(_mm512_and_si512(byte(packed[2], 8 * k + 4), four), _mm512_slli_epi32(_mm512_and_si512(byte(packed[1], 8 * k + 6), two), 4));
        }
    }

    // Two groups of Q4_Kx8 or Q5_Kx8 (FiveBits) rows, `Tokens` tokens: interleaved_batch.h's
    // k_x8_group.
    template<i32 Tokens, bool FiveBits>
    static void k_x8_pair(float* out, size_t out_stride, const MatmulInput* in, Pair groups, i32 per_row)
    {
        constexpr size_t octet_bytes = FiveBits ? q5_kx8::Octets::octet_bytes : q4_kx8::Octets::octet_bytes;
        __m512i mask = _mm512_set1_epi8(0x0F);
        __m512 values[Tokens];
        for (auto& v : values)
            v = _mm512_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            Pair octets = groups.at(size_t(b) * octet_bytes);
            __m512 d = octets.halves(0), dmin = octets.halves(16);
            __m512i packed[3];
            for (i32 k = 0; k < 3; ++k)
                packed[k] = octets.bytes(q4_kx8::scales_at + 32 * size_t(k));
            Tree trees[Tokens];
            for (i32 c = 0; c < 4; ++c) {
                Pair slices = octets.at(q4_kx8::nibbles_at + 256 * size_t(c));
                __m512i low[Tokens], high[Tokens];
                for (i32 t = 0; t < Tokens; ++t)
                    low[t] = _mm512_setzero_si512(), high[t] = _mm512_setzero_si512();
                for (i32 s = 0; s < 8; ++s) {
                    __m512i w = slices.bytes(32 * size_t(s));
                    __m512i w_low = _mm512_and_si512(w, mask), w_high = _mm512_and_si512(_mm512_srli_epi16(w, 4), mask);
                    if constexpr (FiveBits) {
                        using Rows = InterleavedRowsWith<Avx512VnniPieces>;
                        __m512i bits = octets.bytes(q5_kx8::fifth_bits_at + 32 * size_t(s));
                        w_low = _mm512_or_si512(w_low, Rows::fifth_bits(bits, 2 * c));
                        w_high = _mm512_or_si512(w_high, Rows::fifth_bits(bits, 2 * c + 1));
                    }
                    for (i32 t = 0; t < Tokens; ++t) {
                        const i8* x = in[t].q + 256 * b + 64 * c + 4 * s;
                        low[t] = _mm512_dpbusd_epi32(low[t], w_low, broadcast(x));
                        high[t] = _mm512_dpbusd_epi32(high[t], w_high, broadcast(x + 32));
                    }
                }
                // float(scale * sums) * d as (float(scale) * d) * float(sums), the same
                // value, and the offset's float(min * x sums) * dmin likewise: each takes
                // one rounding of the same exact product. scale * sums is an integer below
                // 2^24 (|sums| <= 32 * 31 * 128 with fifth bits, scale below 64), exact in a float, and so is
                // scale * d (six bits times an f16's eleven), so both ways round only at
                // the end; min * x sums (|x sums| <= 32 * 128) and min * dmin the same. The
                // per-row factors are then shared by the tokens, leaving each token three
                // multiplies and a subtraction.
                for (i32 part = 0; part < 2; ++part) {
                    i32 j = 2 * c + part;
                    __m512i scale, min;
                    q4_kx8_scale_and_min(packed, j, scale, min);
                    __m512 scale_d = _mm512_mul_ps(_mm512_cvtepi32_ps(scale), d), min_dmin = _mm512_mul_ps(_mm512_cvtepi32_ps(min), dmin);
                    for (i32 t = 0; t < Tokens; ++t) {
                        __m512i sums = part ? high[t] : low[t];
                        __m512 scaled = _mm512_mul_ps(scale_d, _mm512_cvtepi32_ps(sums));
                        __m512 offset = _mm512_mul_ps(min_dmin, _mm512_set1_ps(float(in[t].sums[8 * b + j])));
                        trees[t].add(j, _mm512_mul_ps(_mm512_sub_ps(scaled, offset), _mm512_set1_ps(in[t].s[8 * b + j])));
                    }
                }
            }
            for (i32 t = 0; t < Tokens; ++t)
                values[t] = _mm512_add_ps(values[t], trees[t].sum());
        }
        for (i32 t = 0; t < Tokens; ++t)
            store(out + size_t(t) * out_stride, values[t]);
    }

    // interleaved_batch.h's q6_kx8_values for two groups' halves.
    static __m512i q6_kx8_values(Pair half, i32 s, i32 k)
    {
        __m512i nibble = _mm512_set1_epi8(0x0F), top = _mm512_set1_epi8(0x30);
        __m512i low = half.bytes(96 * size_t(s) + 32 * size_t(k & 1)), high = half.bytes(96 * size_t(s) + 64);
        if (k >= 2)
            low = _mm512_srli_epi16(low, 4);
        switch (k) {
        case 0: high = _mm512_slli_epi16(high, 4); break;
        case 1: high = _mm512_slli_epi16(high, 2); break;
        case 3: high = _mm512_srli_epi16(high, 2); break;
        default: break;
        }
        return _mm512_or_si512(_mm512_and_si512(low, nibble), _mm512_and_si512(high, top));
    }

    // Two groups of Q6_Kx8 rows, `Tokens` tokens: interleaved_batch.h's q6_kx8_group.
    template<i32 Tokens>
    static void q6_kx8_pair(float* out, size_t out_stride, const MatmulInput* in, Pair groups, i32 per_row)
    {
        __m512 values[Tokens];
        for (auto& v : values)
            v = _mm512_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            Pair octets = groups.at(size_t(b) * q6_kx8::Octets::octet_bytes);
            __m512 d = octets.halves(0);
            Tree trees[Tokens];
            // Unrolled: each j's k a constant to q6_kx8_values and each held term a register
            // (with sixteen_values below: bareflow-batch-bench, 2048 x 5632, 32 tokens,
            // medians of 7 alternated rounds, 164 -> 118 us a token).
#pragma unroll
            for (i32 j = 0; j < 8; ++j) {
                i32 h = j / 4, k = j % 4;
                Pair half = octets.at(q6_kx8::halves_at + q6_kx8::half_bytes * size_t(h));
                // Slices from..from+3 (16 values) into sums. Inlined, each call's sums are
                // registers; choosing first or second inside one loop over all eight slices
                // kept both in memory.
                auto sixteen_values = [&](__m512i (&sums)[Tokens], i32 from) __attribute__((always_inline)) {
                    for (auto& v : sums)
                        v = _mm512_setzero_si512();
                    for (i32 s = from; s < from + 4; s += 2) {
                        __m512i a = q6_kx8_values(half, s, k), a_next = q6_kx8_values(half, s + 1, k);
                        for (i32 t = 0; t < Tokens; ++t) {
                            const i8* x = in[t].q + 256 * b + 128 * h + 32 * k + 4 * s;
                            sums[t] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(sums[t], a, broadcast(x)), a_next, broadcast(x + 4));
                        }
                    }
                };
                __m512i first[Tokens], second[Tokens];
                sixteen_values(first, 0);
                sixteen_values(second, 4);
                // float(s_a * a + s_b * b) as float(s_a) * float(a) + float(s_b) * float(b),
                // the same value: |a|, |b| <= 16 * 32 * 128 = 2^16 and |s| <= 128, so each
                // product is an integer of at most 2^23 and their sum one of at most 2^24,
                // all exact in floats (k_x8_pair's reason: vpmulld is two instructions).
                __m512 scale_a = _mm512_cvtepi32_ps(octets.signed_bytes(q6_kx8::scales_at + 8 * size_t(2 * j)));
                __m512 scale_b = _mm512_cvtepi32_ps(octets.signed_bytes(q6_kx8::scales_at + 8 * size_t(2 * j + 1)));
                for (i32 t = 0; t < Tokens; ++t) {
                    const i32* sums16 = in[t].sums16 + 16 * b;
                    __m512i a = _mm512_sub_epi32(first[t], _mm512_set1_epi32(32 * sums16[2 * j]));
                    __m512i second_a = _mm512_sub_epi32(second[t], _mm512_set1_epi32(32 * sums16[2 * j + 1]));
                    __m512 products = _mm512_add_ps(_mm512_mul_ps(scale_a, _mm512_cvtepi32_ps(a)), _mm512_mul_ps(scale_b, _mm512_cvtepi32_ps(second_a)));
                    trees[t].add(j, _mm512_mul_ps(_mm512_mul_ps(products, d), _mm512_set1_ps(in[t].s[8 * b + j])));
                }
            }
            for (i32 t = 0; t < Tokens; ++t)
                values[t] = _mm512_add_ps(values[t], trees[t].sum());
        }
        for (i32 t = 0; t < Tokens; ++t)
            store(out + size_t(t) * out_stride, values[t]);
    }
};

}
}
