// SSE2 variants: 4 floats per vector, no FMA (multiply then add).
#include "entry_points.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("sse2"))), apply_to = function)
#include "nibbles.h"
#include "simd_kernels.h"
#include "simd_low_bit.h"

namespace llm::kernels::sse2 {

namespace {
struct Sse2 : x86::NibbleUnpack {
    using Vector = __m128;
    static constexpr i32 width = 4;
    static constexpr bool has_group_sums8 = false; // no eight-row int8 path on SSE2
    // Nor the byte-product row kernels: pmaddubsw came with SSSE3.
    static constexpr bool has_block_rows = false, has_k_quant_rows = false, has_int8_rows = false, has_low_bit_rows = false,
                          has_interleaved_rows = false;
    [[maybe_unused]] static constexpr i32 group_step = 16;
    static Vector zero8() { return zero(); }
    static Vector group_sums8(const i8*, const i8*, i32, i32) { return zero(); }
    static Vector accumulate8(Vector v, Vector, const float*, i32, float) { return v; }
    static void store8(float*, Vector) {}
    static Vector zero() { return _mm_setzero_ps(); }
    static Vector set1(float v) { return _mm_set1_ps(v); }
    static Vector load(const float* p) { return _mm_loadu_ps(p); }
    // Bit l set where lane l of v is at least limit (false for NaN, as >= is).
    static u32 at_least_mask(Vector v, Vector limit) { return u32(_mm_movemask_ps(_mm_cmpge_ps(v, limit))); }
    static Vector load_stream(const float* p) { return _mm_loadu_ps(p); }
    // Four IEEE halves as floats, exactly, with integer steps (no F16C here): normal
    // values move their exponent (+112 << 23), infinities and NaNs further (+224), and
    // subnormals (exponent 0) are their mantissa times 2^-24, which is exact in float.
    static Vector load_halves(const u16* p)
    {
        __m128i h = _mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), _mm_setzero_si128());
        __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
        __m128i magnitude = _mm_and_si128(h, _mm_set1_epi32(0x7FFF));
        __m128i exponent = _mm_and_si128(magnitude, _mm_set1_epi32(0x7C00));
        __m128i normal = _mm_add_epi32(_mm_slli_epi32(magnitude, 13), _mm_set1_epi32(112 << 23));
        __m128i special = _mm_cmpeq_epi32(exponent, _mm_set1_epi32(0x7C00));
        normal = _mm_add_epi32(normal, _mm_and_si128(special, _mm_set1_epi32(112 << 23)));
        __m128 subnormal = _mm_mul_ps(_mm_cvtepi32_ps(magnitude), _mm_set1_ps(1.0f / 16777216.0f));
        __m128i tiny = _mm_cmpeq_epi32(exponent, _mm_setzero_si128());
        __m128i bits = _mm_or_si128(_mm_and_si128(tiny, _mm_castps_si128(subnormal)), _mm_andnot_si128(tiny, normal));
        return _mm_castsi128_ps(_mm_or_si128(bits, sign));
    }
    // Four bfloat16 as floats: each the upper half of its float, below it sixteen zero bits.
    static Vector load_bfloat16(const u16* p)
    {
        return _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    }
    static void store(float* p, Vector v) { _mm_storeu_ps(p, v); }
    static Vector add(Vector a, Vector b) { return _mm_add_ps(a, b); }
    static Vector sub(Vector a, Vector b) { return _mm_sub_ps(a, b); }
    static Vector mul(Vector a, Vector b) { return _mm_mul_ps(a, b); }
    static Vector divide(Vector a, Vector b) { return _mm_div_ps(a, b); }
    static Vector max(Vector a, Vector b) { return _mm_max_ps(a, b); }
    static Vector min(Vector a, Vector b) { return _mm_min_ps(a, b); }
    static Vector round(Vector v) { return _mm_cvtepi32_ps(_mm_cvtps_epi32(v)); }
    static Vector abs(Vector v) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), v); }
    // v (|v| < 2^31) rounded half away from zero as ops::quantize does (the truncation, then
    // one up or down by the fraction), stored as `width` bytes, saturated.
    static void round_half_away_to_bytes(i8* out, Vector v)
    {
        __m128 whole = _mm_cvtepi32_ps(_mm_cvttps_epi32(v));
        __m128 fraction = _mm_sub_ps(v, whole), one = _mm_set1_ps(1.0f);
        whole = _mm_add_ps(whole, _mm_and_ps(_mm_cmpge_ps(fraction, _mm_set1_ps(0.5f)), one));
        whole = _mm_sub_ps(whole, _mm_and_ps(_mm_cmple_ps(fraction, _mm_set1_ps(-0.5f)), one));
        __m128i words = _mm_packs_epi32(_mm_cvtps_epi32(whole), _mm_setzero_si128());
        i32 bytes = _mm_cvtsi128_si32(_mm_packs_epi16(words, words));
        __builtin_memcpy(out, &bytes, 4);
    }
    static Vector power_of_two(Vector k)
    {
        return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(_mm_cvtps_epi32(k), _mm_set1_epi32(127)), 23));
    }
    static Vector times_power_of_two(Vector p, Vector k) { return mul(p, power_of_two(k)); }
    static constexpr bool fused_quotients = false; // no FMA
    static Vector exp(Vector x) { return simd::exp_polynomial<Sse2>(x); }
    // The halving fold of fp32_order.h: l + l+2, l + l+1.
    static float sum(Vector v)
    {
        __m128 high = _mm_movehl_ps(v, v);
        __m128 pair = _mm_add_ps(v, high);
        __m128 odd = _mm_shuffle_ps(pair, pair, 0x55);
        return _mm_cvtss_f32(_mm_add_ss(pair, odd));
    }
    // Each lane's float bits added up as integers (wrapping), for sums of units (rounded_units).
    using Bits = __m128i;
    static Bits bits_zero() { return _mm_setzero_si128(); }
    static Bits add_bits(Bits sums, Vector v) { return _mm_add_epi32(sums, _mm_castps_si128(v)); }
    static u32 sum_bits(Bits sums)
    {
        __m128i pairs = _mm_add_epi32(sums, _mm_shuffle_epi32(sums, 0x4E));
        return u32(_mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0xB1))));
    }
    static i32 dot_i8(const i8* a, const i8* b, i32 n)
    {
        __m128i acc = _mm_setzero_si128();
        i32 i = 0;
        for (; i + 16 <= n; i += 16) {
            __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
            __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
            // Sign-extend bytes to 16 bits: duplicate each byte, shift arithmetically.
            __m128i x_low = _mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8), x_high = _mm_srai_epi16(_mm_unpackhi_epi8(x, x), 8);
            __m128i y_low = _mm_srai_epi16(_mm_unpacklo_epi8(y, y), 8), y_high = _mm_srai_epi16(_mm_unpackhi_epi8(y, y), 8);
            acc = _mm_add_epi32(acc, _mm_madd_epi16(x_low, y_low));
            acc = _mm_add_epi32(acc, _mm_madd_epi16(x_high, y_high));
        }
        alignas(16) i32 lanes[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), acc);
        i32 total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
        for (; i < n; ++i)
            total += i32(a[i]) * i32(b[i]);
        return total;
    }
};
}

BAREFLOW_SIMD_ENTRY_POINTS(Sse2)

}
#pragma clang attribute pop
