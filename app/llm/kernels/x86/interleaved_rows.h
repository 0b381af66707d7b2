#pragma once
// Rows interleaved in groups of eight (interleaved_blocks.h) on the integer units, shared
// by AVX2 and AVX-512 (256-bit vectors, lane r = row r of the group). Per block, four
// 4-byte slices of the input are broadcast and multiplied with chunk loads that hold the
// same four values of all eight rows, so the eight rows' exact block sums come out in the
// eight int32 lanes with no horizontal step. The float term float(integer) * d * xs is
// then computed lane for lane (the eight f16 scales converted by one F16C instruction)
// and tree_sum8's tree across a row's eight blocks becomes vertical adds in the same
// order: the scalar reference's bits for every row. With AVX-512 VNNI the integer steps
// take two neighbouring slices per 512-bit vector (vnni_products.h's pairs_slices) and
// fold the halves into the same exact 256-bit sums: half the instructions, the rows still
// read in memory order (pairing two groups instead, as the batch kernels do, read two
// streams and generated slower from memory: TinyLlama shape Q4_K_M, 26-32 tok/s against
// 31-39 for the 256-bit rows; slice pairs 38-42).
//
// Saturation bound without VNNI: pmaddubsw multiplies nibbles (0..15) by input values
// (|x| <= 128): |pair| <= 3840, and the eight pair vectors of one block are added in
// int16 before pmaddwd: |sum| <= 8 * 3840 = 30720 < 32767. The stored offset, 8 * sum(x)
// over the block, comes off the int32 sums (the input's group sums, given).
#include "byte_products.h"
#include "prefetch.h"
#include "../../interleaved_blocks.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

template<typename Pieces>
struct InterleavedRowsWith {
    static constexpr bool has_interleaved_rows = true;

    // With slice pairs: one block's sums before the fold (lanes r and r + 8: row r).
    static __m512i q4_0x8_slice_pair_sums(const u8* chunks, const i8* x)
        requires Pieces::pairs_slices
    {
        __m512i nibbles = _mm512_set1_epi8(0x0F), sums = _mm512_setzero_si512();
        for (i32 c = 0; c < 4; c += 2) {
            __m512i w = Pieces::load_pair(chunks + 32 * c);
            sums = Pieces::add_slice_pair(sums, _mm512_and_si512(w, nibbles), x + 4 * c);
            sums = Pieces::add_slice_pair(sums, _mm512_and_si512(_mm512_srli_epi16(w, 4), nibbles), x + 16 + 4 * c);
        }
        return sums;
    }

    // The eight rows' integer sums q . x of one block (before the offset), lane r = row r.
    static __m256i q4_0x8_integers(const u8* chunks, const i8* x)
    {
        __m256i low_nibbles = _mm256_set1_epi8(0x0F);
        auto slice = [&](i32 j) {
            i32 word;
            __builtin_memcpy(&word, x + 4 * j, 4);
            return _mm256_set1_epi32(word);
        };
        if constexpr (Pieces::pairs_slices) {
            return Pieces::fold(q4_0x8_slice_pair_sums(chunks, x));
        } else if constexpr (Pieces::exact_byte_products) {
            __m256i sums = _mm256_setzero_si256();
            for (i32 c = 0; c < 4; ++c) {
                __m256i w = Pieces::load(chunks + 32 * c);
                sums = Pieces::add_byte_products(sums, _mm256_and_si256(w, low_nibbles), slice(c));
                sums = Pieces::add_byte_products(sums, _mm256_and_si256(_mm256_srli_epi16(w, 4), low_nibbles), slice(c + 4));
            }
            return sums;
        } else {
            __m256i pairs = _mm256_setzero_si256();
            for (i32 c = 0; c < 4; ++c) {
                __m256i w = Pieces::load(chunks + 32 * c);
                pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(_mm256_and_si256(w, low_nibbles), slice(c)));
                pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w, 4), low_nibbles), slice(c + 4)));
            }
            return Pieces::pair_sums(pairs);
        }
    }

    // A block's eight terms float(integer) * d * x_scale, lane for lane, its eight f16
    // scales d at `scales`.
    static __m256 block_terms(__m256i integers, const u8* scales, float x_scale)
    {
        __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales)));
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), d), _mm256_set1_ps(x_scale));
    }

    // Block b's eight terms float(q . x - 8 * sum(x)) * d * xs[b], lane for lane.
    static __m256 q4_0x8_terms(const u8* group, i32 per_row, const i8* xq, const float* xs, const i32* x_sums, i32 b)
    {
        auto block = q4_0x8::block_of(group, per_row, b);
        __m256i integers = _mm256_sub_epi32(q4_0x8_integers(block.chunks, xq + 32 * b), _mm256_set1_epi32(8 * x_sums[b]));
        return block_terms(integers, block.scales, xs[b]);
    }

    // Eight rows of `per_row` 32-value blocks into out[0..8), block b's terms by terms(b),
    // lane r = row r: block_quants.h's order for every row (avx2tcg's terms, Q4_0x8's and
    // plain Q8_0's, come from its own steps, emulated_rows.h).
    // `stream`, when given, is the group's bytes, `pair_bytes` a pair of blocks' (paired_blocks's
    // layout): prefetched ahead of the blocks read.
    template<typename Terms>
    static void eight_rows_of_blocks(Terms const& terms, float* out, i32 per_row, const u8* stream = nullptr, size_t pair_bytes = 0)
    {
        __m256 values = _mm256_setzero_ps();
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8) {
            if (stream)
                prefetch_ahead(stream + size_t(b / 2) * pair_bytes, 4 * pair_bytes);
            // The blocks in memory order (streaming from memory, the tree's order of
            // 0, 4, 2, 6, ... ran slower), then tree_sum8's tree:
            // ((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)).
            __m256 t[8];
            for (i32 k = 0; k < 8; ++k)
                t[k] = terms(b + k);
            __m256 even = _mm256_add_ps(_mm256_add_ps(t[0], t[4]), _mm256_add_ps(t[2], t[6]));
            __m256 odd = _mm256_add_ps(_mm256_add_ps(t[1], t[5]), _mm256_add_ps(t[3], t[7]));
            values = _mm256_add_ps(values, _mm256_add_ps(even, odd));
        }
        for (; b < per_row; ++b)
            values = _mm256_add_ps(values, terms(b));
        _mm256_storeu_ps(out, values);
    }

    static void q4_0x8_group(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
    {
        if constexpr (Pieces::pairs_slices) {
            q4_0x8_group_in_pairs(out, xq, xs, x_sums, group, per_row);
            return;
        }
        eight_rows_of_blocks([&](i32 b) { return q4_0x8_terms(group, per_row, xq, xs, x_sums, b); }, out, per_row, group, q4_0x8::Layout::pair_bytes);
    }

    // With AVX-512, two blocks' float steps at a time: blocks b and b + 1 (a pair of the
    // paired layout, their 16 scales side by side) in 512-bit vectors, block b's eight
    // rows in the low half and b + 1's in the high half, where block_terms takes them in
    // two 256-bit passes: half the conversions and products. The steps are the same lane
    // for lane (float(integer) * d * x_scale), and so is eight_rows_of_blocks's tree: with
    // P(k) = (t[k] | t[k + 1]), (P0 + P4) + (P2 + P6) = ((t0 + t4) + (t2 + t6) | (t1 + t5)
    // + (t3 + t7)), whose halves added are the tree's sum. The same bits as the other sets.
    // `pair_integers(b)` gives the two blocks' integers, `terms(b)` a lone block's terms
    // (the tail).
    template<typename PairIntegers, typename Terms>
    static void eight_rows_in_pairs(PairIntegers const& pair_integers, Terms const& terms, float* out, const float* xs, const u8* group, i32 per_row, size_t pair_bytes, size_t chunks_bytes)
        requires Pieces::pairs_slices
    {
        auto pair_terms = [&](i32 b) {
            // Scales after the pair's chunks (paired_blocks::Layout::scales_at of a full pair).
            const u8* scales = group + size_t(b / 2) * pair_bytes + 2 * chunks_bytes;
            __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales)));
            return _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(pair_integers(b)), d), _mm512_castsi512_ps(two_halves(xs + b)));
        };
        __m256 values = _mm256_setzero_ps();
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8) {
            prefetch_ahead(group + size_t(b / 2) * pair_bytes, 4 * pair_bytes);
            __m512 p0 = pair_terms(b), p2 = pair_terms(b + 2), p4 = pair_terms(b + 4), p6 = pair_terms(b + 6);
            __m512 both = _mm512_add_ps(_mm512_add_ps(p0, p4), _mm512_add_ps(p2, p6));
            __m256 even = _mm512_castps512_ps256(both);
            __m256 odd = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(both), 1));
            values = _mm256_add_ps(values, _mm256_add_ps(even, odd));
        }
        for (; b < per_row; ++b)
            values = _mm256_add_ps(values, terms(b));
        _mm256_storeu_ps(out, values);
    }

    // The two 32-bit values at `at`, the first in the low half's eight lanes, the second
    // in the high half's.
    static __m512i two_halves(const void* at)
        requires Pieces::pairs_slices
    {
        __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
        return _mm512_permutexvar_epi32(halves, _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(at))));
    }

    // Q4_0x8 with slice pairs: each block's slice-pair sums unfolded (lanes r and r + 8:
    // row r), both blocks' folded by two permutes and an add (instead of two extracts and
    // adds), and 8 * sum(x) off as q4_0x8_terms takes it. TinyLlama-shape Q4_0 on the
    // Xeon, one thread: 21.8 -> 25.2 tok/s (medians of three alternated runs, same plan).
    static void q4_0x8_group_in_pairs(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
        requires Pieces::pairs_slices
    {
        __m512i lows = _mm512_set_epi32(23, 22, 21, 20, 19, 18, 17, 16, 7, 6, 5, 4, 3, 2, 1, 0);
        __m512i highs = _mm512_set_epi32(31, 30, 29, 28, 27, 26, 25, 24, 15, 14, 13, 12, 11, 10, 9, 8);
        auto slice_pair_sums = [&](i32 b) { return q4_0x8_slice_pair_sums(group + q4_0x8::chunks_at(b), xq + 32 * b); };
        eight_rows_in_pairs([&](i32 b) {
            __m512i first = slice_pair_sums(b), second = slice_pair_sums(b + 1);
            __m512i integers = _mm512_add_epi32(_mm512_permutex2var_epi32(first, lows, second), _mm512_permutex2var_epi32(first, highs, second));
            return _mm512_sub_epi32(integers, _mm512_slli_epi32(two_halves(x_sums + b), 3)); // wraps as 8 * x_sums[b] does
        }, [&](i32 b) { return q4_0x8_terms(group, per_row, xq, xs, x_sums, b); }, out, xs, group, per_row, q4_0x8::Layout::pair_bytes, q4_0x8::Layout::chunks_bytes);
    }

    // Q8_0x8: block b's integers as Q8x8's (its values lie the same way), the terms and
    // tree as Q4_0x8's. x_sums: the input's group sums (Offset only). 256-bit steps with
    // AVX-512 VNNI too: slice pairs were faster in the caches but slower from memory
    // (TinyLlama-shape Q8_0 generated at 18-22 tok/s with them, 23-24 without, as plain
    // Q8_0 does), and its float steps two blocks at a time as Q4_0x8's (eight_rows_in_pairs)
    // generated at 11 tok/s against 15 on the Xeon; its steps stay 256-bit (a guess at
    // why: with 512-bit instructions in flight the cores run vectors on two ports, not three).
    template<bool Offset>
    static void q8_0x8_group(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
    {
        eight_rows_of_blocks([&](i32 b) {
            auto block = q8_0x8::Layout::block_of(group, per_row, b);
            return block_terms(q8x8_integers<Offset, false>(block.chunks, xq + 32 * b, Offset ? x_sums[b] : 0), block.scales, xs[b]);
        }, out, per_row, group, q8_0x8::Layout::pair_bytes);
    }

    // Bit `bit` (0..7) of every byte moved to bit 4, the rest cleared: a Q5_Kx8 value's
    // fifth bit (16-bit shifts of at most 4 keep every byte's bits within the byte).
    static __m256i fifth_bits(__m256i bits, i32 bit)
    {
        __m256i moved = bit <= 4 ? _mm256_slli_epi16(bits, 4 - bit) : _mm256_srli_epi16(bits, bit - 4);
        return _mm256_and_si256(moved, _mm256_set1_epi8(0x10));
    }
    static __m512i fifth_bits(__m512i bits, i32 bit)
        requires Pieces::pairs_slices
    {
        __m512i moved = bit <= 4 ? _mm512_slli_epi16(bits, 4 - bit) : _mm512_srli_epi16(bits, bit - 4);
        return _mm512_and_si512(moved, _mm512_set1_epi8(0x10));
    }

    // Q4_Kx8 and Q5_Kx8 (FiveBits): chunk c of a super-block, groups 2c and 2c+1 for eight
    // rows. The two groups share the chunk's slices (low and high nibbles), Q5_Kx8 ORs in
    // the fifth bits (bits 2c and 2c+1 of the fifth-bit slices). Without VNNI the pairs of
    // pmaddubsw are added in int16 over eight slices of nibbles (|sum| <= 8 * 2 * 15 * 128
    // = 30720) or four of five-bit values (4 * 2 * 31 * 128 = 31744), then widened.
    template<bool FiveBits>
    static void k_x8_chunk(const u8* octet, i32 c, const i8* x, __m256i& low_sums, __m256i& high_sums)
    {
        const u8* slices = octet + q4_kx8::nibbles_at + 256 * c;
        const u8* fifth = octet + q5_kx8::fifth_bits_at;
        __m256i low_nibbles = _mm256_set1_epi8(0x0F);
        auto slice = [&](const i8* at) {
            i32 word;
            __builtin_memcpy(&word, at, 4);
            return _mm256_set1_epi32(word);
        };
        // Slice s's values of the two groups, lane for lane.
        auto values = [&](i32 s, __m256i& low, __m256i& high) {
            __m256i w = Pieces::load(slices + 32 * s);
            low = _mm256_and_si256(w, low_nibbles), high = _mm256_and_si256(_mm256_srli_epi16(w, 4), low_nibbles);
            if constexpr (FiveBits) {
                __m256i bits = Pieces::load(fifth + 32 * s);
                low = _mm256_or_si256(low, fifth_bits(bits, 2 * c)), high = _mm256_or_si256(high, fifth_bits(bits, 2 * c + 1));
            }
        };
        if constexpr (Pieces::pairs_slices) {
            __m512i nibbles = _mm512_set1_epi8(0x0F), low = _mm512_setzero_si512(), high = _mm512_setzero_si512();
            for (i32 s = 0; s < 8; s += 2) {
                __m512i w = Pieces::load_pair(slices + 32 * s);
                __m512i w_low = _mm512_and_si512(w, nibbles), w_high = _mm512_and_si512(_mm512_srli_epi16(w, 4), nibbles);
                if constexpr (FiveBits) {
                    __m512i bits = Pieces::load_pair(fifth + 32 * s);
                    w_low = _mm512_or_si512(w_low, fifth_bits(bits, 2 * c)), w_high = _mm512_or_si512(w_high, fifth_bits(bits, 2 * c + 1));
                }
                low = Pieces::add_slice_pair(low, w_low, x + 4 * s);
                high = Pieces::add_slice_pair(high, w_high, x + 32 + 4 * s);
            }
            low_sums = Pieces::fold(low), high_sums = Pieces::fold(high);
        } else if constexpr (Pieces::exact_byte_products) {
            low_sums = _mm256_setzero_si256(), high_sums = _mm256_setzero_si256();
            for (i32 s = 0; s < 8; ++s) {
                __m256i w_low, w_high;
                values(s, w_low, w_high);
                low_sums = Pieces::add_byte_products(low_sums, w_low, slice(x + 4 * s));
                high_sums = Pieces::add_byte_products(high_sums, w_high, slice(x + 32 + 4 * s));
            }
        } else {
            constexpr i32 int16_run = FiveBits ? 4 : 8;
            low_sums = _mm256_setzero_si256(), high_sums = _mm256_setzero_si256();
            for (i32 first = 0; first < 8; first += int16_run) {
                __m256i low = _mm256_setzero_si256(), high = _mm256_setzero_si256();
                for (i32 s = first; s < first + int16_run; ++s) {
                    __m256i w_low, w_high;
                    values(s, w_low, w_high);
                    low = _mm256_add_epi16(low, _mm256_maddubs_epi16(w_low, slice(x + 4 * s)));
                    high = _mm256_add_epi16(high, _mm256_maddubs_epi16(w_high, slice(x + 32 + 4 * s)));
                }
                low_sums = _mm256_add_epi32(low_sums, Pieces::pair_sums(low)), high_sums = _mm256_add_epi32(high_sums, Pieces::pair_sums(high));
            }
        }
    }

    // Group j's 6-bit scale and min for eight rows (k_quants::scale_and_min, lane for lane)
    // from the three vectors of packed bytes.
    static void q4_kx8_scale_and_min(__m256i const (&packed)[3], i32 j, __m256i& scale, __m256i& min)
    {
        __m256i six = _mm256_set1_epi32(63), four = _mm256_set1_epi32(0xF), two = _mm256_set1_epi32(3);
        auto byte = [](__m256i v, i32 shift) { return _mm256_srl_epi32(v, _mm_cvtsi32_si128(shift)); };
        if (j < 4) {
            scale = _mm256_and_si256(byte(packed[0], 8 * j), six);
            min = _mm256_and_si256(byte(packed[1], 8 * j), six);
        } else {
            i32 k = j - 4;
            scale = _mm256_or_si256(_mm256_and_si256(byte(packed[2], 8 * k), four), _mm256_slli_epi32(_mm256_and_si256(byte(packed[0], 8 * k + 6), two), 4));
            min = _mm256_or_si256(_mm256_and_si256(byte(packed[2], 8 * k + 4), four), _mm256_slli_epi32(_mm256_and_si256(byte(packed[1], 8 * k + 6), two), 4));
        }
    }

    // Super-block b's eight terms, k_quants::q4_k_block_dot's and q5_quants::q5_k_block_dot's
    // (float(scale * products) * d - float(min * xsums) * dmin) * xs, lane for lane.
    template<bool FiveBits>
    static void k_x8_terms(const u8* octet, const i8* xq, const float* xs, const i32* x_sums, __m256 (&terms)[8])
    {
        __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(octet)));
        __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(octet + 16)));
        __m256i packed[3];
        for (i32 k = 0; k < 3; ++k)
            packed[k] = Pieces::load(octet + q4_kx8::scales_at + 32 * k);
        for (i32 c = 0; c < 4; ++c) {
            __m256i sums[2];
            k_x8_chunk<FiveBits>(octet, c, xq + 64 * c, sums[0], sums[1]);
            // float(scale * sums) as float(scale) * float(sums): the same value, both
            // products being integers below 2^24 (paired_groups_batch.h's k_x8_pair
            // gives the bounds; five-bit values at most double them), in one float
            // multiply where vpmulld takes two.
            for (i32 part = 0; part < 2; ++part) {
                i32 j = 2 * c + part;
                __m256i scale, min;
                q4_kx8_scale_and_min(packed, j, scale, min);
                __m256 scaled = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(scale), _mm256_cvtepi32_ps(sums[part])), d);
                __m256 offset = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(min), _mm256_set1_ps(float(x_sums[j]))), dmin);
                terms[j] = _mm256_mul_ps(_mm256_sub_ps(scaled, offset), _mm256_set1_ps(xs[j]));
            }
        }
    }

    template<bool FiveBits>
    static void k_x8_group(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
    {
        constexpr size_t octet_bytes = FiveBits ? q5_kx8::Octets::octet_bytes : q4_kx8::Octets::octet_bytes;
        __m256 values = _mm256_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            const u8* octet = group + size_t(b) * octet_bytes;
            prefetch_ahead(octet, octet_bytes);
            __m256 t[8];
            k_x8_terms<FiveBits>(octet, xq + 256 * b, xs + 8 * b, x_sums + 8 * b, t);
            // tree_sum8: ((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)).
            __m256 even = _mm256_add_ps(_mm256_add_ps(t[0], t[4]), _mm256_add_ps(t[2], t[6]));
            __m256 odd = _mm256_add_ps(_mm256_add_ps(t[1], t[5]), _mm256_add_ps(t[3], t[7]));
            values = _mm256_add_ps(values, _mm256_add_ps(even, odd));
        }
        _mm256_storeu_ps(out, values);
    }
    static void q4_kx8_group(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
    {
        k_x8_group<false>(out, xq, xs, x_sums, group, per_row);
    }
    static void q5_kx8_group(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
    {
        k_x8_group<true>(out, xq, xs, x_sums, group, per_row);
    }

    // Q6_Kx8: one 128-value half of a super-block, its four groups' sums of q . x (q the
    // stored 0..63, before the offset) over their first and second 16 values, lane r =
    // row r. Without VNNI: pmaddubsw's pairs are at most 2 * 63 * 128 = 16128, two
    // slices' pairs added in int16 at most 32256, then pmaddwd.
    static void q6_kx8_half(const u8* half, const i8* x, __m256i (&first)[4], __m256i (&second)[4])
    {
        __m256i nibble = _mm256_set1_epi8(0x0F), top = _mm256_set1_epi8(0x30);
        auto broadcast = [&](const i8* at) {
            i32 word;
            __builtin_memcpy(&word, at, 4);
            return _mm256_set1_epi32(word);
        };
        // Slice s's values of the four groups (k_quants::q6_k_group_values, lane for lane).
        auto values = [&](i32 s, __m256i (&v)[4]) {
            __m256i low = Pieces::load(half + 96 * s), odd = Pieces::load(half + 96 * s + 32), high = Pieces::load(half + 96 * s + 64);
            v[0] = _mm256_or_si256(_mm256_and_si256(low, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 4), top));
            v[1] = _mm256_or_si256(_mm256_and_si256(odd, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 2), top));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low, 4), nibble), _mm256_and_si256(high, top));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(odd, 4), nibble), _mm256_and_si256(_mm256_srli_epi16(high, 2), top));
        };
        for (i32 part = 0; part < 2; ++part) {
            __m256i (&sums)[4] = part ? second : first;
            for (auto& sum : sums)
                sum = _mm256_setzero_si256();
            for (i32 s = 4 * part; s < 4 * part + 4; s += 2) {
                __m256i a[4], b[4];
                values(s, a);
                values(s + 1, b);
                for (i32 k = 0; k < 4; ++k) {
                    const i8* at = x + 32 * k + 4 * s;
                    if constexpr (Pieces::exact_byte_products) {
                        sums[k] = Pieces::add_byte_products(sums[k], a[k], broadcast(at));
                        sums[k] = Pieces::add_byte_products(sums[k], b[k], broadcast(at + 4));
                    } else {
                        __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(a[k], broadcast(at)), _mm256_maddubs_epi16(b[k], broadcast(at + 4)));
                        sums[k] = _mm256_add_epi32(sums[k], Pieces::pair_sums(pairs));
                    }
                }
            }
        }
    }

    // The eight rows' f16 scales at `at` as floats, by F16C.
    static __m256 halves_to_floats(const u8* at) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at))); }

    // Super-block b's eight terms, k_quants::q6_k_block_dot's float(products) * d * xs,
    // products = s_a * ((q - 32) . x over the first 16) + s_b * (... the second 16), with
    // `half` computing a half's sums as q6_kx8_half does and `floats` converting the eight
    // f16 d as halves_to_floats does (emulated_rows.h has its own of both).
    template<typename Half, typename Floats>
    static void q6_kx8_terms(Half const& half, Floats const& floats, const u8* octet, const i8* xq, const float* xs, const i32* x_sums16,
        __m256 (&terms)[8])
    {
        __m256 d = floats(octet);
        for (i32 h = 0; h < 2; ++h) {
            __m256i first[4], second[4];
            half(octet + q6_kx8::halves_at + q6_kx8::half_bytes * size_t(h), xq + 128 * h, first, second);
            for (i32 k = 0; k < 4; ++k) {
                i32 j = 4 * h + k;
                auto scale = [&](i32 t) {
                    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(octet + q6_kx8::scales_at + 8 * size_t(t))));
                };
                __m256i a = _mm256_sub_epi32(first[k], _mm256_set1_epi32(32 * x_sums16[2 * j]));
                __m256i b = _mm256_sub_epi32(second[k], _mm256_set1_epi32(32 * x_sums16[2 * j + 1]));
                __m256i products = _mm256_add_epi32(_mm256_mullo_epi32(scale(2 * j), a), _mm256_mullo_epi32(scale(2 * j + 1), b));
                terms[j] = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(products), d), _mm256_set1_ps(xs[j]));
            }
        }
    }

    // One group of eight rows of `per_row` super-blocks into out[0..8), halves by `half`,
    // scales by `floats`. x_sums16: the input's 16-value sums.
    template<typename Half, typename Floats>
    static void q6_kx8_group_with(Half const& half, Floats const& floats, float* out, const i8* xq, const float* xs, const i32* x_sums16,
        const u8* group, i32 per_row)
    {
        __m256 values = _mm256_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            prefetch_ahead(q6_kx8::Octets::octet(group, b), q6_kx8::Octets::octet_bytes);
            __m256 t[8];
            q6_kx8_terms(half, floats, q6_kx8::Octets::octet(group, b), xq + 256 * b, xs + 8 * b, x_sums16 + 16 * b, t);
            // tree_sum8: ((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)).
            __m256 even = _mm256_add_ps(_mm256_add_ps(t[0], t[4]), _mm256_add_ps(t[2], t[6]));
            __m256 odd = _mm256_add_ps(_mm256_add_ps(t[1], t[5]), _mm256_add_ps(t[3], t[7]));
            values = _mm256_add_ps(values, _mm256_add_ps(even, odd));
        }
        _mm256_storeu_ps(out, values);
    }
    static void q6_kx8_group(float* out, const i8* xq, const float* xs, const i32* x_sums16, const u8* group, i32 per_row)
    {
        auto half = [](const u8* at, const i8* x, __m256i (&first)[4], __m256i (&second)[4]) { q6_kx8_half(at, x, first, second); };
        auto floats = [](const u8* at) { return halves_to_floats(at); };
        q6_kx8_group_with(half, floats, out, xq, xs, x_sums16, group, per_row);
    }

    // Q8x8 (llama2.c int8, interleaved_blocks.h): one 32-value group of eight rows, 256
    // bytes, lane r = row r's exact integer sum q . x. With VNNI (Offset): the stored
    // bytes are w + 128, unsigned, straight into vpdpbusd against the broadcast input
    // slices; 128 * sum(x) comes off. Without: the bytes flipped back to w, then |w| times
    // sign(x, w) with pmaddubsw, whose pairs are at most 2 * 128 * 127 = 32512 (no two
    // chunks' pairs are added in int16), and pmaddwd. Paired: with AVX-512 VNNI, two
    // slices a 512-bit step (Q8x8's); Q8_0x8 takes 256-bit steps.
    template<bool Offset, bool Paired = Pieces::pairs_slices>
    static __m256i q8x8_integers(const u8* chunks, const i8* x, i32 x_sum)
    {
        auto slice = [&](i32 c) {
            i32 word;
            __builtin_memcpy(&word, x + 4 * c, 4);
            return _mm256_set1_epi32(word);
        };
        if constexpr (Offset && Paired) {
            __m512i sums = _mm512_setzero_si512();
            for (i32 c = 0; c < 8; c += 2)
                sums = Pieces::add_slice_pair(sums, Pieces::load_pair(chunks + 32 * c), x + 4 * c);
            return _mm256_sub_epi32(Pieces::fold(sums), _mm256_set1_epi32(128 * x_sum));
        } else if constexpr (Offset) {
            static_assert(Pieces::exact_byte_products);
            __m256i even = _mm256_setzero_si256(), odd = _mm256_setzero_si256();
            for (i32 c = 0; c < 8; c += 2) {
                even = Pieces::add_byte_products(even, Pieces::load(chunks + 32 * c), slice(c));
                odd = Pieces::add_byte_products(odd, Pieces::load(chunks + 32 * c + 32), slice(c + 1));
            }
            return _mm256_sub_epi32(_mm256_add_epi32(even, odd), _mm256_set1_epi32(128 * x_sum));
        } else {
            __m256i flip = _mm256_set1_epi8(char(0x80));
            __m256i even = _mm256_setzero_si256(), odd = _mm256_setzero_si256();
            for (i32 c = 0; c < 8; ++c) {
                __m256i w = _mm256_xor_si256(Pieces::load(chunks + 32 * c), flip);
                __m256i products = Pieces::byte_products(_mm256_abs_epi8(w), _mm256_sign_epi8(slice(c), w));
                if (c % 2)
                    odd = _mm256_add_epi32(odd, products);
                else
                    even = _mm256_add_epi32(even, products);
            }
            return _mm256_add_epi32(even, odd);
        }
    }

    // One group of eight Q8x8 rows of `groups` 32-value groups into out[0..8): per group,
    // value += float(sum) * ws * xs lane for lane, in group order (ops::matmul_q8's).
    // x_sums: the input's group sums (Offset only).
    template<bool Offset>
    static void q8x8_group(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* rows, const float* scales, i32 groups)
    {
        __m256 values = _mm256_setzero_ps();
        for (i32 g = 0; g < groups; ++g) {
            prefetch_ahead(rows + q8x8::group_bytes * size_t(g), q8x8::group_bytes);
            __m256i sums = q8x8_integers<Offset>(rows + q8x8::group_bytes * size_t(g), xq + 32 * g, Offset ? x_sums[g] : 0);
            __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_loadu_ps(scales + 8 * g));
            values = _mm256_add_ps(values, _mm256_mul_ps(scaled, _mm256_set1_ps(xs[g])));
        }
        _mm256_storeu_ps(out, values);
    }
};

}
}
