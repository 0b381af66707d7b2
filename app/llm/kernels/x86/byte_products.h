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

    // IEEE halves (one in the low 16 bits of each int32 lane) to floats, exactly as
    // ops::half_to_float: the magnitude's bits shifted into a float's place are the value
    // times 2^-112 (subnormal halves become float subnormals), so one multiply by 2^112
    // rescales them; infinities and NaN get the all-ones exponent back; then the sign.
    // (MXCSR's denormals-are-zero, never set here, would break the subnormal case.)
    static __m256 halves_to_floats(__m256i halves)
    {
        __m256i magnitude = _mm256_slli_epi32(_mm256_and_si256(halves, _mm256_set1_epi32(0x7FFF)), 13);
        __m256 scaled = _mm256_mul_ps(_mm256_castsi256_ps(magnitude), _mm256_set1_ps(0x1p112f));
        __m256i special = _mm256_cmpeq_epi32(_mm256_and_si256(halves, _mm256_set1_epi32(0x7C00)), _mm256_set1_epi32(0x7C00));
        __m256i bits = _mm256_or_si256(_mm256_castps_si256(scaled), _mm256_and_si256(special, _mm256_set1_epi32(0x7F800000)));
        bits = _mm256_or_si256(bits, _mm256_slli_epi32(_mm256_and_si256(halves, _mm256_set1_epi32(0x8000)), 16));
        return _mm256_castsi256_ps(bits);
    }
    // Eight halves from eight places.
    static __m256 halves_to_floats(const u8* const (&at)[8])
    {
        auto half = [](const u8* p) { return short(p[0] | p[1] << 8); };
        __m128i packed = _mm_setr_epi16(half(at[0]), half(at[1]), half(at[2]), half(at[3]), half(at[4]), half(at[5]), half(at[6]), half(at[7]));
        return halves_to_floats(_mm256_cvtepu16_epi32(packed));
    }
    // One half, broadcast.
    static __m256 half_to_floats(const u8* p)
    {
        return halves_to_floats(_mm256_set1_epi32(i32(p[0] | p[1] << 8)));
    }
};

}
}
