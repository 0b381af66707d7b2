#pragma once
// Q2_K's one-token rows with AVX-512 VNNI (avx512vnni.cpp): a super-block's 64 bytes of bit
// pairs are one vector, and each of its four shifts (k = 0..3: groups k and 4 + k) meets
// the matching 64 input bytes in one vpdpbusd. The four results are summed within each
// 128-bit lane (one sub-block of 16 values each) into one vector of the sixteen sub-block
// products, which is multiplied by the sixteen scales at once, and the neighbouring lanes
// are added into the eight groups. low_bit_rows.h's kernel (pmaddubsw, phaddw, one pmaddwd
// per two groups for the scales) takes about twice the shuffles for the same integers.
//
// Bounds: a sub-block's product is at most 16 * 3 * 128 = 6144, times a scale of 15: far
// inside int32, as are the group sums; the float steps are q2_k.h's, lane for lane.
#include "../../q2_k.h"
#include "byte_products.h"
#include "prefetch.h"
#include <immintrin.h>

namespace llm::kernels::x86 {
namespace {

struct Q2KVnniRow {
    // Q2_K rows of `per_row` blocks; sums16: LowBitRows::q2_k_input_sums of the input.
    static float q2_k_row(const i8* xq, const float* xs, const i16* sums16, const u8* block, i32 per_row)
    {
        const __m512i three = _mm512_set1_epi8(3);
        const __m128i nibble = _mm_set1_epi8(0x0F);
        // The sub-block products come out with lane L's element k holding sub-block 2k,
        // 2k + 1, 8 + 2k, 9 + 2k for L = 0..3: their scales in that order.
        const __m128i order = _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, xq += 256, xs += 8, sums16 += 16, block += q2_k::q2_k_bytes) {
            prefetch_ahead(block, q2_k::q2_k_bytes);
            __m512i pairs = _mm512_loadu_si512(block + q2_k::values_at);
            __m512i products[4];
            for (i32 k = 0; k < 4; ++k) {
                __m512i values = _mm512_and_si512(_mm512_srli_epi16(pairs, 2 * k), three);
                __m512i inputs = _mm512_inserti64x4(_mm512_castsi256_si512(BytePieces::load(xq + 32 * k)), BytePieces::load(xq + 128 + 32 * k), 1);
                products[k] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), values, inputs);
            }
            // Within each 128-bit lane: element k = the sum of products[k]'s four.
            __m512i first = _mm512_add_epi32(_mm512_unpacklo_epi32(products[0], products[1]), _mm512_unpackhi_epi32(products[0], products[1]));
            __m512i second = _mm512_add_epi32(_mm512_unpacklo_epi32(products[2], products[3]), _mm512_unpackhi_epi32(products[2], products[3]));
            __m512i sub_blocks = _mm512_add_epi32(_mm512_unpacklo_epi64(first, second), _mm512_unpackhi_epi64(first, second));
            __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
            __m512i scaled = _mm512_mullo_epi32(sub_blocks, _mm512_cvtepu8_epi32(_mm_shuffle_epi8(_mm_and_si128(packed, nibble), order)));
            // Lanes 0 + 1 are groups 0-3, lanes 2 + 3 groups 4-7.
            __m512i groups = _mm512_add_epi32(scaled, _mm512_shuffle_i32x4(scaled, scaled, _MM_SHUFFLE(2, 3, 0, 1)));
            __m256i integers = _mm512_castsi512_si256(_mm512_shuffle_i32x4(groups, groups, _MM_SHUFFLE(2, 0, 2, 0)));
            __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), nibble));
            __m256i sums = _mm256_madd_epi16(mins, BytePieces::load(sums16)); // lane g: group g's two sub-blocks
            __m256 d, dmin;
            BytePieces::two_halves_to_floats(block + q2_k::d_at, d, dmin);
            __m256 terms = _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), d), _mm256_mul_ps(_mm256_cvtepi32_ps(sums), dmin)),
                _mm256_loadu_ps(xs));
            value += BytePieces::tree_sum(terms);
        }
        return value;
    }
};

}
}
