#pragma once
// Q2_K's one-token rows with AVX-512 VNNI (avx512vnni.cpp). A super-block's 256 inputs are
// four 64-byte vectors, groups 2j and 2j + 1 in vector j; the matching weights are a
// 32-byte half of the bit pairs broadcast to both halves of a vector and shifted by a
// different count in each (vpsrlvw), so each vector meets its inputs in one vpdpbusd with
// no shuffles. The four results are summed within each 128-bit lane (one 16-value
// sub-block each) into one vector of the sixteen sub-block products, multiplied by the
// sixteen scales in one pmaddwd, and neighbouring lanes added into the eight groups. Two
// super-blocks share the float steps in one 512-bit vector. low_bit_rows.h's kernel
// (pmaddubsw, phaddw, a pmaddwd per two groups, 256-bit floats) takes about half again the
// instructions for the same integers.
//
// Bounds: a sub-block's product is at most 16 * 3 * 128 = 6144 (an int16, as pmaddwd reads
// the low half of each int32 lane, whose high half is then its sign: times a zero word),
// times a scale of 15; the float steps are q2_k.h's, lane for lane, and each super-block's
// eight terms are added in tree_sum8's order before the row's running sum.
#include "../../q2_k.h"
#include "byte_products.h"
#include "prefetch.h"
#include <immintrin.h>

namespace llm::kernels::x86 {
namespace {

struct Q2KVnniRow {
    // One super-block's integers: lane g of `products` group g's scaled products, of `sums`
    // its mins times the input's 16-value sums (q2_k.h's `products` and `sums`).
    static void integers(const u8* block, const i8* xq, const i16* sums16, __m256i& products, __m256i& sums)
    {
        const __m512i three = _mm512_set1_epi8(3);
        const __m128i nibble = _mm_set1_epi8(0x0F);
        // Vector j: groups 2j and 2j + 1 (bits 2k of half j / 2 for k = 2j mod 4 in the low
        // 256 bits, k + 1 in the high ones): the word shift counts of even and odd j.
        const __m512i shifts[2] = { _mm512_mask_blend_epi64(0xF0, _mm512_set1_epi16(0), _mm512_set1_epi16(2)),
            _mm512_mask_blend_epi64(0xF0, _mm512_set1_epi16(4), _mm512_set1_epi16(6)) };
        __m512i halves[2] = { _mm512_broadcast_i64x4(BytePieces::load(block + q2_k::values_at)),
            _mm512_broadcast_i64x4(BytePieces::load(block + q2_k::values_at + 32)) };
        __m512i dots[4];
        for (i32 j = 0; j < 4; ++j) {
            __m512i values = _mm512_and_si512(_mm512_srlv_epi16(halves[j / 2], shifts[j % 2]), three);
            dots[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), values, _mm512_loadu_si512(xq + 64 * j));
        }
        // Within each 128-bit lane L: element j = the sum of dots[j]'s four, sub-block 4j + L.
        __m512i first = _mm512_add_epi32(_mm512_unpacklo_epi32(dots[0], dots[1]), _mm512_unpackhi_epi32(dots[0], dots[1]));
        __m512i second = _mm512_add_epi32(_mm512_unpacklo_epi32(dots[2], dots[3]), _mm512_unpackhi_epi32(dots[2], dots[3]));
        __m512i sub_blocks = _mm512_add_epi32(_mm512_unpacklo_epi64(first, second), _mm512_unpackhi_epi64(first, second));
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
        const __m128i order = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        __m512i scaled = _mm512_madd_epi16(sub_blocks, _mm512_cvtepu8_epi32(_mm_shuffle_epi8(_mm_and_si128(packed, nibble), order)));
        // Lanes 0 + 1: groups 0, 2, 4, 6; lanes 2 + 3: groups 1, 3, 5, 7.
        __m512i groups = _mm512_add_epi32(scaled, _mm512_shuffle_i32x4(scaled, scaled, _MM_SHUFFLE(2, 3, 0, 1)));
        products = _mm512_castsi512_si256(_mm512_permutexvar_epi32(_mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 0, 0, 0, 0, 0, 0, 0, 0), groups));
        __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), nibble));
        sums = _mm256_madd_epi16(mins, BytePieces::load(sums16)); // lane g: group g's two sub-blocks
    }

    // Q2_K rows of `per_row` blocks; sums16: LowBitRows::q2_k_input_sums of the input.
    static float q2_k_row(const i8* xq, const float* xs, const i16* sums16, const u8* block, i32 per_row)
    {
        float value = 0.0f;
        i32 b = 0;
        for (; b + 2 <= per_row; b += 2, xq += 512, xs += 16, sums16 += 32, block += 2 * q2_k::q2_k_bytes) {
            prefetch_ahead(block, 2 * q2_k::q2_k_bytes);
            __m256i products[2], sums[2];
            integers(block, xq, sums16, products[0], sums[0]);
            integers(block + q2_k::q2_k_bytes, xq + 256, sums16 + 16, products[1], sums[1]);
            // d, dmin of the first block, then of the second, each over its eight lanes.
            u32 first_halves, second_halves;
            __builtin_memcpy(&first_halves, block + q2_k::d_at, 4);
            __builtin_memcpy(&second_halves, block + q2_k::q2_k_bytes + q2_k::d_at, 4);
            __m512 halves = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_unpacklo_epi32(_mm_cvtsi32_si128(i32(first_halves)), _mm_cvtsi32_si128(i32(second_halves)))));
            __m512 d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2), halves);
            __m512 dmin = _mm512_permutexvar_ps(_mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3), halves);
            __m512 integer_products = _mm512_cvtepi32_ps(_mm512_inserti64x4(_mm512_castsi256_si512(products[0]), products[1], 1));
            __m512 integer_sums = _mm512_cvtepi32_ps(_mm512_inserti64x4(_mm512_castsi256_si512(sums[0]), sums[1], 1));
            __m512 terms = _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(integer_products, d), _mm512_mul_ps(integer_sums, dmin)), _mm512_loadu_ps(xs));
            // tree_sum8 of each half: halves of each 256 bits, then pairs, then the last two.
            __m512 quads = _mm512_add_ps(terms, _mm512_shuffle_f32x4(terms, terms, _MM_SHUFFLE(2, 3, 0, 1)));
            __m512 pairs = _mm512_add_ps(quads, _mm512_permute_ps(quads, _MM_SHUFFLE(3, 2, 3, 2)));
            __m512 trees = _mm512_add_ps(pairs, _mm512_permute_ps(pairs, _MM_SHUFFLE(1, 1, 1, 1)));
            value += _mm512_cvtss_f32(trees);
            value += _mm_cvtss_f32(_mm512_extractf32x4_ps(trees, 2));
        }
        if (b < per_row) { // the last, alone
            __m256i products, sums;
            integers(block, xq, sums16, products, sums);
            __m256 d, dmin;
            BytePieces::two_halves_to_floats(block + q2_k::d_at, d, dmin);
            __m256 terms = _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(products), d), _mm256_mul_ps(_mm256_cvtepi32_ps(sums), dmin)),
                _mm256_loadu_ps(xs));
            value += BytePieces::tree_sum(terms);
        }
        return value;
    }
};

}
}
