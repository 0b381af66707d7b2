#pragma once
// The AVX2 variants' traits (avx2.cpp, and avxvnni.cpp with AVX-VNNI's byte products): 8
// floats per vector; F16C converts halves. (FMA only where integer or quantised kernels
// use it: the float operations round products first, see fp32_order.h.)
// Included inside a target pragma that enables at least the instruction set named; the
// row kernels' byte products come from Pieces (byte_products.h, vnni_products.h).
#include <immintrin.h>
#include "block_rows.h"
#include "eight_rows.h"
#include "int8_rows.h"
#include "interleaved_rows.h"
#include "k_quant_rows.h"
#include "low_bit_rows.h"
#include "nibbles.h"
#include "simd_kernels.h"
#include "simd_low_bit.h"

namespace llm::kernels::x86 {
namespace {

template<typename Pieces>
struct Avx2With : EightRows, NibbleUnpack, BlockRowsWith<Pieces>, KQuantRowsWith<Pieces>, Int8RowsWith<Pieces>, InterleavedRowsWith<Pieces>,
                  LowBitRows {
    // LowBitRows brings plain BytePieces too: the row kernels' pieces are Pieces'.
    using Pieces::byte_products;
    using Pieces::exact_byte_products;
    using Vector = __m256;
    static constexpr i32 width = 8;

    // Eight rows' integer sums for one group, as eight int32 lanes (row r in lane r).
    static constexpr i32 group_step = 16;
    static __m256i group_sums8(const i8* x, const i8* rows, i32 n, i32 group)
    {
        __m256i acc[8];
        for (auto& a : acc)
            a = _mm256_setzero_si256();
        i32 k = 0;
        // 32 values a step with pmaddubsw: |w| times x with w's sign, so the unsigned
        // operand is |w| <= 128 and the signed one |x| <= 127 (ops::quantize's range):
        // |pair| <= 2 * 128 * 127 = 32512, below int16's saturation.
        for (; k + 32 <= group; k += 32) {
            __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k));
            for (i32 r = 0; r < 8; ++r) {
                __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + size_t(r) * size_t(n) + size_t(k)));
                __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
                acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
            }
        }
        for (; k < group; k += 16) {
            __m256i xv = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + k)));
            for (i32 r = 0; r < 8; ++r) {
                __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows + size_t(r) * size_t(n) + size_t(k))));
                acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(xv, wv));
            }
        }
        return transpose_sum8(acc);
    }
    // ops::bin_tail for the sixteen tokens from `first` (a multiple of 16), eight at a time,
    // without a branch but for the rare exact tokens: a branch on the values above the
    // threshold (one token in ~16 on a flat distribution) would be mispredicted in most
    // blocks, so they are moved to the front of their vector by vpermps (lane_masks.h) and
    // the vector stored whole (up to eight slots past them written).
    static void bin_tail_vector(const float* values, i32 first, float cutoff, float threshold, float scale, llm::TailBinning& out)
    {
        __m256i spare = _mm256_add_epi32(_mm256_set1_epi32(llm::spare_bin), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256i slot_shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
        __m256i bins[2];
        u32 exact = 0;
        for (i32 half = 0; half < 2; ++half) {
            __m256 v = _mm256_loadu_ps(values + first + 8 * half);
            __m256 over = _mm256_cmp_ps(v, _mm256_set1_ps(threshold), _CMP_GE_OQ);
            __m256 tail = _mm256_andnot_ps(over, _mm256_cmp_ps(v, _mm256_set1_ps(cutoff), _CMP_GE_OQ));
            __m256 scaled = _mm256_mul_ps(v, _mm256_set1_ps(scale));
            __m256i bin = _mm256_cvttps_epi32(scaled);
            __m256 on_edge = _mm256_and_ps(_mm256_cmp_ps(_mm256_cvtepi32_ps(bin), scaled, _CMP_EQ_OQ), tail);
            __m256i counted = _mm256_castps_si256(_mm256_andnot_ps(on_edge, tail));
            bins[half] = _mm256_blendv_epi8(spare, bin, counted);
            u32 above = u32(_mm256_movemask_ps(over));
            __m256i to_front = _mm256_srlv_epi32(_mm256_set1_epi32(i32(lane_masks::front_indices.of_mask[above])), slot_shifts);
            _mm256_storeu_ps(out.above + out.above_count, _mm256_permutevar8x32_ps(v, to_front));
            out.above_count += lane_masks::bits_set(above);
            exact |= u32(_mm256_movemask_ps(on_edge)) << (8 * half);
        }
        // packs works within 128-bit halves: the 64-bit quarters come out as 0, 2, 1, 3.
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(bins[0], bins[1]), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.bins + first), packed);
        llm::list_exact(out, first, exact);
    }
    static Vector zero() { return _mm256_setzero_ps(); }
    static Vector set1(float v) { return _mm256_set1_ps(v); }
    static Vector load(const float* p) { return _mm256_loadu_ps(p); }
    static Vector load_stream(const float* p) { return _mm256_loadu_ps(p); }
    static Vector load_halves(const u16* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static Vector load_bfloat16(const u16* p)
    {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
    }
    static void store(float* p, Vector v) { _mm256_storeu_ps(p, v); }
    static Vector add(Vector a, Vector b) { return _mm256_add_ps(a, b); }
    static Vector sub(Vector a, Vector b) { return _mm256_sub_ps(a, b); }
    static Vector mul(Vector a, Vector b) { return _mm256_mul_ps(a, b); }
    static Vector divide(Vector a, Vector b) { return _mm256_div_ps(a, b); }
    static Vector multiply_add(Vector a, Vector b, Vector c) { return _mm256_fmadd_ps(a, b, c); }
    // c - a * b, rounded once.
    static Vector negated_multiply_add(Vector a, Vector b, Vector c) { return _mm256_fnmadd_ps(a, b, c); }
    // Quotients by simd::divide_all's FMA steps (see there).
    static constexpr bool fused_quotients = true;
    // Whether a lane is below `limit` or NaN.
    static bool any_not_at_least(Vector v, Vector limit) { return _mm256_movemask_ps(_mm256_cmp_ps(v, limit, _CMP_NGE_UQ)) != 0; }
    static u32 at_least_mask(Vector v, Vector limit) { return u32(_mm256_movemask_ps(_mm256_cmp_ps(v, limit, _CMP_GE_OQ))); }
    static Vector max(Vector a, Vector b) { return _mm256_max_ps(a, b); }
    static Vector min(Vector a, Vector b) { return _mm256_min_ps(a, b); }
    static Vector round(Vector v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static Vector abs(Vector v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
    // v rounded half away from zero as ops::quantize does, stored as 8 bytes, saturated.
    static void round_half_away_to_bytes(i8* out, Vector v)
    {
        __m256 whole = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 fraction = _mm256_sub_ps(v, whole), one = _mm256_set1_ps(1.0f);
        whole = _mm256_add_ps(whole, _mm256_and_ps(_mm256_cmp_ps(fraction, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one));
        whole = _mm256_sub_ps(whole, _mm256_and_ps(_mm256_cmp_ps(fraction, _mm256_set1_ps(-0.5f), _CMP_LE_OQ), one));
        __m256i integers = _mm256_cvtps_epi32(whole);
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(integers), _mm256_extracti128_si256(integers, 1));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(words, words));
    }
    static Vector power_of_two(Vector k)
    {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
    }
    static Vector times_power_of_two(Vector p, Vector k) { return mul(p, power_of_two(k)); }
    static Vector exp(Vector x) { return simd::exp_polynomial<Avx2With>(x); }
    // The halving fold of fp32_order.h: l + l+4, l + l+2, l + l+1.
    static float sum(Vector v)
    {
        __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        return _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 0x55)));
    }
    // Each lane's float bits added up as integers (wrapping), for sums of units (rounded_units).
    using Bits = __m256i;
    static Bits bits_zero() { return _mm256_setzero_si256(); }
    static Bits add_bits(Bits sums, Vector v) { return _mm256_add_epi32(sums, _mm256_castps_si256(v)); }
    static u32 sum_bits(Bits sums)
    {
        __m128i quad = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
        __m128i pairs = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, 0x4E));
        return u32(_mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0xB1))));
    }
    static i32 dot_i8(const i8* a, const i8* b, i32 n)
    {
        __m256i acc = _mm256_setzero_si256();
        i32 i = 0;
        for (; i + 16 <= n; i += 16) {
            __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
            __m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
        }
        __m128i quad = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, 0x4E));
        quad = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, 0xB1));
        i32 total = _mm_cvtsi128_si32(quad);
        for (; i < n; ++i)
            total += i32(a[i]) * i32(b[i]);
        return total;
    }
};

}
}
