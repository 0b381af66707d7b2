#pragma once
// The 256-bit integer pieces of the quantised row kernels (k_quant_rows.h, block_rows.h),
// shared by AVX2 and AVX-512: byte products with pmaddubsw (unsigned bytes times signed
// bytes, adjacent pairs added into int16) and pmaddwd (int16 pairs into int32), eight
// groups' sums gathered into the lanes of one vector, and IEEE halves converted to floats.
// Included inside a target pragma that enables AVX2; the anonymous namespace keeps each
// file's copy apart (see nibbles.h).
//
// pmaddubsw saturates its int16 pair sums, so every use states its bound. The inputs come
// from ops::quantize, which keeps them in [-127, 127]; the bounds below allow -128 anyway.
#include <immintrin.h>
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct BytePieces {
    static __m256i load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

    // Sums of int16 pairs into int32 lanes.
    static __m256i pair_sums(__m256i v) { return _mm256_madd_epi16(v, _mm256_set1_epi16(1)); }

    // Unsigned bytes times signed bytes, four adjacent products summed into each int32
    // lane: pmaddubsw then pmaddwd here (callers state their int16 bound); VNNI's
    // vpdpbusd does it in one step without the int16 stage (vnni_products.h). The row
    // kernels take their pieces as a template parameter so either can be plugged in.
    static __m256i byte_products(__m256i unsigned_bytes, __m256i signed_bytes)
    {
        return pair_sums(_mm256_maddubs_epi16(unsigned_bytes, signed_bytes));
    }
    // Whether byte_products is exact for any bytes (no int16 stage to saturate).
    static constexpr bool exact_byte_products = false;
    // Whether the pieces multiply two neighbouring slices in one 512-bit vector
    // (vnni_products.h's Avx512VnniPieces: add_slice_pair, fold).
    static constexpr bool pairs_slices = false;

    // Eight groups' int32 vectors, given as four pairs: lane j of `finish` is the sum of
    // every lane of group j. `pair` folds two groups into one vector as they come, so
    // only two partial vectors per row stay live.
    static __m256i pair(__m256i group_a, __m256i group_b) { return _mm256_hadd_epi32(group_a, group_b); }
    static __m256i finish(__m256i pair01, __m256i pair23, __m256i pair45, __m256i pair67)
    {
        __m256i low = _mm256_hadd_epi32(pair01, pair23), high = _mm256_hadd_epi32(pair45, pair67);
        // low: groups 0-3 over their first four lanes | the same over their last four.
        return _mm256_add_epi32(_mm256_permute2x128_si256(low, high, 0x20), _mm256_permute2x128_si256(low, high, 0x31));
    }

    // tree_sum8's order (block_sum.h): halves, then pairs, then the last two.
    static float tree_sum(__m256 v)
    {
        __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        return _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 0x55)));
    }

    static i32 horizontal_sum(__m256i v)
    {
        __m128i quad = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, 0x4E));
        quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, 0xB1));
        return _mm_cvtsi128_si32(quad);
    }

    // IEEE halves to floats with F16C (which can_run() requires with AVX2): exact, as
    // ops::half_to_float is, subnormals, infinities and NaN included.
    static __m256 halves_to_floats(const u8* const (&at)[8])
    {
        // Whole 16-bit loads and word inserts (built from bytes, the compiler inserted
        // sixteen bytes one by one).
        auto half = [](const u8* p) {
            u16 h;
            __builtin_memcpy(&h, p, 2);
            return i32(h);
        };
        __m128i packed = _mm_cvtsi32_si128(half(at[0]));
        packed = _mm_insert_epi16(packed, half(at[1]), 1);
        packed = _mm_insert_epi16(packed, half(at[2]), 2);
        packed = _mm_insert_epi16(packed, half(at[3]), 3);
        packed = _mm_insert_epi16(packed, half(at[4]), 4);
        packed = _mm_insert_epi16(packed, half(at[5]), 5);
        packed = _mm_insert_epi16(packed, half(at[6]), 6);
        packed = _mm_insert_epi16(packed, half(at[7]), 7);
        return _mm256_cvtph_ps(packed);
    }
    // The half at p, broadcast.
    static __m256 half_to_floats(const u8* p)
    {
        return _mm256_broadcastss_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(p[0] | p[1] << 8)));
    }
    // The two halves at p (Q4_K's d and dmin), each broadcast.
    static void two_halves_to_floats(const u8* p, __m256& first, __m256& second)
    {
        u32 both;
        __builtin_memcpy(&both, p, 4);
        __m128 floats = _mm_cvtph_ps(_mm_cvtsi32_si128(i32(both)));
        first = _mm256_broadcastss_ps(floats);
        second = _mm256_broadcastss_ps(_mm_movehdup_ps(floats));
    }
    // Q4_K's (and Q5_K's) twelve bytes of packed 6-bit scales and mins as floats.
    static void scales_and_mins(const u8* packed, __m256& scales, __m256& mins)
    {
        u32 w0, w1, w2;
        __builtin_memcpy(&w0, packed, 4);
        __builtin_memcpy(&w1, packed + 4, 4);
        __builtin_memcpy(&w2, packed + 8, 4);
        // Scales 0-3, 4-7, then mins 0-3, 4-7 (k_quants::scale_and_min).
        __m128i bytes = _mm_setr_epi32(i32(w0 & 0x3F3F3F3F), i32((w2 & 0x0F0F0F0F) | ((w0 >> 2) & 0x30303030)), i32(w1 & 0x3F3F3F3F),
            i32(((w2 >> 4) & 0x0F0F0F0F) | ((w1 >> 2) & 0x30303030)));
        scales = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
        mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
    }
    // A Q4_K or Q5_K super-block's eight terms, lane by lane as k_quants.h's and q5_quants.h's
    // formulas: (scale * products * d - min * input sum * dmin) * input scale, from its f16 d
    // and dmin and its twelve bytes of packed 6-bit scales and mins (block + 4). Both
    // products are exact integers below 2^24, as the reference's integer products converted are.
    static __m256 k_quant_terms(const u8* block, __m256 products, __m256 input_sums, __m256 input_scales)
    {
        __m256 scales, mins;
        scales_and_mins(block + 4, scales, mins);
        __m256 d, dmin;
        two_halves_to_floats(block, d, dmin);
        return _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(scales, products), d), _mm256_mul_ps(_mm256_mul_ps(mins, input_sums), dmin)),
            input_scales);
    }
};

}
}
