#pragma once
// The eight-row int8 product's AVX2 pieces (simd::matmul_q8's group_sums8 path), shared by
// AVX2 and AVX-512: each computes eight rows' integer sums its own way, then both gather
// and scale them here. Included inside a target pragma that enables AVX2; the anonymous
// namespace keeps each file's copy apart (see nibbles.h).
#include <immintrin.h>
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct EightRows {
    static constexpr bool has_group_sums8 = true;
    static __m256 zero8() { return _mm256_setzero_ps(); }
    // Horizontal sums of eight vectors, gathered into one: lane r = sum of acc[r].
    static __m256i transpose_sum8(__m256i const (&acc)[8])
    {
        __m256i s01 = _mm256_hadd_epi32(acc[0], acc[1]), s23 = _mm256_hadd_epi32(acc[2], acc[3]);
        __m256i s45 = _mm256_hadd_epi32(acc[4], acc[5]), s67 = _mm256_hadd_epi32(acc[6], acc[7]);
        __m256i s0123 = _mm256_hadd_epi32(s01, s23), s4567 = _mm256_hadd_epi32(s45, s67);
        // Lanes now hold partial sums per 128-bit half: add the halves across.
        __m256i low = _mm256_permute2x128_si256(s0123, s4567, 0x20);
        __m256i high = _mm256_permute2x128_si256(s0123, s4567, 0x31);
        return _mm256_add_epi32(low, high);
    }
    // values[r] += float(sums[r]) * scales[r * stride] * x_scale, in the reference's order.
    static __m256 accumulate8(__m256 values, __m256i sums, const float* scales, i32 stride, float x_scale)
    {
        // Plain loads rather than a gather: as fast here, and QEMU's 32-bit emulation of
        // vgatherdps was seen to return wrong values.
        __m256 w_scales = _mm256_setr_ps(scales[0], scales[stride], scales[2 * stride], scales[3 * stride], scales[4 * stride],
            scales[5 * stride], scales[6 * stride], scales[7 * stride]);
        __m256 products = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sums), w_scales), _mm256_set1_ps(x_scale));
        return _mm256_add_ps(values, products);
    }
    static void store8(float* out, __m256 values) { _mm256_storeu_ps(out, values); }
};

}
}
