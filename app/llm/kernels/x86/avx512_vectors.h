#pragma once
// The AVX-512 variants' traits (avx512.cpp, and avx512vnni.cpp with VNNI's byte products):
// 16 floats per vector (AVX-512F, BW for the int8 products, F16C for halves).
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
struct Avx512With : EightRows, NibbleUnpack, BlockRowsWith<Pieces>, KQuantRowsWith<Pieces>, Int8RowsWith<Pieces>, InterleavedRowsWith<Pieces>,
                  LowBitRows {
    // LowBitRows brings plain BytePieces too: the row kernels' pieces are Pieces'.
    using Pieces::byte_products;
    using Pieces::exact_byte_products;
    using Vector = __m512;
    static constexpr i32 width = 16;

    // Eight rows' integer sums for one group, as eight int32 lanes (row r in lane r).
    static constexpr i32 group_step = 32;
    static __m256i group_sums8(const i8* x, const i8* rows, i32 n, i32 group)
    {
        __m256i acc[8];
        for (auto& a : acc)
            a = _mm256_setzero_si256();
        for (i32 k = 0; k < group; k += 32) {
            __m512i xv = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k)));
            for (i32 r = 0; r < 8; ++r) {
                __m512i wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + size_t(r) * size_t(n) + size_t(k))));
                __m512i products = _mm512_madd_epi16(xv, wv);
                // Fold 16 lanes to 8 so the AVX2 transpose can finish the job.
                acc[r] = _mm256_add_epi32(acc[r], _mm256_add_epi32(_mm512_castsi512_si256(products), _mm512_extracti64x4_epi64(products, 1)));
            }
        }
        return transpose_sum8(acc);
    }
    static Vector zero() { return _mm512_setzero_ps(); }
    static Vector set1(float v) { return _mm512_set1_ps(v); }
    static Vector load(const float* p) { return _mm512_loadu_ps(p); }
    // Matrix rows as two 256-bit halves: llama2.c files put rows 28 bytes off a cache line,
    // where every 512-bit load straddles two lines; halves straddle only every other time.
    // (On this shared machine whole loads streamed such rows at ~10-15 GB/s against ~25
    // aligned; halves, like AVX2, mostly kept ~20-25. The figures are noisy.)
    static Vector load_stream(const float* p)
    {
        __m256 low = _mm256_loadu_ps(p), high = _mm256_loadu_ps(p + 8);
        return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(low)), _mm256_castps_pd(high), 1));
    }
    static Vector load_halves(const u16* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static Vector load_bfloat16(const u16* p)
    {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
    }
    static void store(float* p, Vector v) { _mm512_storeu_ps(p, v); }
    static Vector add(Vector a, Vector b) { return _mm512_add_ps(a, b); }
    static Vector sub(Vector a, Vector b) { return _mm512_sub_ps(a, b); }
    static Vector mul(Vector a, Vector b) { return _mm512_mul_ps(a, b); }
    static Vector divide(Vector a, Vector b) { return _mm512_div_ps(a, b); }
    static Vector multiply_add(Vector a, Vector b, Vector c) { return _mm512_fmadd_ps(a, b, c); }
    // c - a * b, rounded once.
    static Vector negated_multiply_add(Vector a, Vector b, Vector c) { return _mm512_fnmadd_ps(a, b, c); }
    // Quotients by simd::divide_all's FMA steps (see there).
    static constexpr bool fused_quotients = true;
    // Whether a lane is below `limit` or NaN.
    static bool any_not_at_least(Vector v, Vector limit) { return _mm512_cmp_ps_mask(v, limit, _CMP_NGE_UQ) != 0; }
    static u32 at_least_mask(Vector v, Vector limit) { return _mm512_cmp_ps_mask(v, limit, _CMP_GE_OQ); }
    // The lanes of v set in `mask` (of 16) as (value, first + lane) candidates at out, in lane
    // order; returns how many. Each eight lanes' pairs are one vector of 64-bit lanes,
    // compressed in a register and stored whole (a compressing store to memory is far
    // slower): up to eight slots past the kept ones are written.
    static u32 compress_candidates(llm::Candidate* out, Vector v, i32 first, u32 mask)
    {
        __m512i index = _mm512_add_epi32(_mm512_set1_epi32(first), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        // Value l then index l (the second operand's lanes are 16 on).
        __m512i first_eight = _mm512_permutex2var_epi32(_mm512_castps_si512(v), _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), index);
        __m512i last_eight = _mm512_permutex2var_epi32(_mm512_castps_si512(v), _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), index);
        if (mask == 0xFFFF) { // all sixteen (a flat distribution's vectors): nothing to compress
            _mm512_storeu_si512(out, first_eight);
            _mm512_storeu_si512(out + 8, last_eight);
            return 16;
        }
        u32 low = mask & 0xFF, high = mask >> 8;
        u32 low_count = lane_masks::bits_set(low);
        _mm512_storeu_si512(out, _mm512_maskz_compress_epi64(__mmask8(low), first_eight));
        _mm512_storeu_si512(out + low_count, _mm512_maskz_compress_epi64(__mmask8(high), last_eight));
        return low_count + lane_masks::bits_set(high);
    }
    // ops::bin_tail for the sixteen tokens from `first` (a multiple of 16), without a branch
    // but for the rare exact tokens: their bins packed to 16 bits, those above the threshold
    // compressed in a register and stored whole (up to 16 slots past them written).
    static void bin_tail_vector(const float* values, i32 first, float cutoff, float threshold, float scale, llm::TailBinning& out)
    {
        __m512 v = _mm512_loadu_ps(values + first);
        __mmask16 above = _mm512_cmp_ps_mask(v, _mm512_set1_ps(threshold), _CMP_GE_OQ);
        __mmask16 tail = _mm512_mask_cmp_ps_mask(__mmask16(~above), v, _mm512_set1_ps(cutoff), _CMP_GE_OQ);
        __m512 scaled = _mm512_mul_ps(v, _mm512_set1_ps(scale));
        __m512i bin = _mm512_cvttps_epi32(scaled);
        __mmask16 exact = _mm512_mask_cmp_ps_mask(tail, _mm512_cvtepi32_ps(bin), scaled, _CMP_EQ_OQ);
        __m512i spare = _mm512_add_epi32(_mm512_set1_epi32(llm::spare_bin), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7));
        bin = _mm512_mask_blend_epi32(__mmask16(tail & ~exact), spare, bin);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.bins + first), _mm512_cvtepi32_epi16(bin));
        _mm512_storeu_ps(out.above + out.above_count, _mm512_maskz_compress_ps(above, v));
        out.above_count += lane_masks::bits_set(above);
        llm::list_exact(out, first, exact);
    }
    static Vector max(Vector a, Vector b) { return _mm512_max_ps(a, b); }
    static Vector min(Vector a, Vector b) { return _mm512_min_ps(a, b); }
    static Vector round(Vector v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static Vector abs(Vector v) { return _mm512_abs_ps(v); }
    // v rounded half away from zero as ops::quantize does, stored as 16 bytes, saturated.
    static void round_half_away_to_bytes(i8* out, Vector v)
    {
        __m512 whole = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m512 fraction = _mm512_sub_ps(v, whole), one = _mm512_set1_ps(1.0f);
        whole = _mm512_mask_add_ps(whole, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(0.5f), _CMP_GE_OQ), whole, one);
        whole = _mm512_mask_sub_ps(whole, _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), whole, one);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(whole)));
    }
    static Vector power_of_two(Vector k)
    {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23));
    }
    // p * 2^k for integral k in [-126, 127] in one instruction: vscalefps rounds the same
    // exact product once, as the multiplication by power_of_two(k) does (equal bits for all
    // 2^32 inputs of exp, with and without FTZ/DAZ: checked on a Xeon).
    static Vector times_power_of_two(Vector p, Vector k) { return _mm512_scalef_ps(p, k); }
    static Vector exp(Vector x) { return simd::exp_polynomial<Avx512With>(x); }
    // The halving fold of fp32_order.h: 16 lanes to 8 (l + l+8), then as AVX2 does.
    static float sum(Vector v)
    {
        __m256 low = _mm512_castps512_ps256(v);
        __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
        __m256 octet = _mm256_add_ps(low, high);
        __m128 quad = _mm_add_ps(_mm256_castps256_ps128(octet), _mm256_extractf128_ps(octet, 1));
        __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        return _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 0x55)));
    }
    // Each lane's float bits added up as integers (wrapping), for sums of units (rounded_units).
    using Bits = __m512i;
    static Bits bits_zero() { return _mm512_setzero_si512(); }
    static Bits add_bits(Bits sums, Vector v) { return _mm512_add_epi32(sums, _mm512_castps_si512(v)); }
    static u32 sum_bits(Bits sums) { return u32(_mm512_reduce_add_epi32(sums)); }
    static i32 dot_i8(const i8* a, const i8* b, i32 n)
    {
        __m512i acc = _mm512_setzero_si512();
        i32 i = 0;
        for (; i + 32 <= n; i += 32) {
            __m512i x = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)));
            __m512i y = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
        }
        if (i + 16 <= n) { // k-quant groups are 16 values: one 256-bit step
            __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
            __m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
            acc = _mm512_add_epi32(acc, _mm512_zextsi256_si512(_mm256_madd_epi16(x, y)));
            i += 16;
        }
        i32 total = _mm512_reduce_add_epi32(acc);
        for (; i < n; ++i)
            total += i32(a[i]) * i32(b[i]);
        return total;
    }
};

}
}
