// AVX-512 variants: 16 floats per vector (AVX-512F, BW for the int8 products).
#include "variants.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx2,fma"))), apply_to = function)
#include "simd_kernels.h"

namespace llm::kernels::avx512 {

namespace {
struct Avx512 {
    using Vector = __m512;
    static constexpr i32 width = 16;
    static Vector zero() { return _mm512_setzero_ps(); }
    static Vector set1(float v) { return _mm512_set1_ps(v); }
    static Vector load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, Vector v) { _mm512_storeu_ps(p, v); }
    static Vector add(Vector a, Vector b) { return _mm512_add_ps(a, b); }
    static Vector sub(Vector a, Vector b) { return _mm512_sub_ps(a, b); }
    static Vector mul(Vector a, Vector b) { return _mm512_mul_ps(a, b); }
    static Vector divide(Vector a, Vector b) { return _mm512_div_ps(a, b); }
    static Vector multiply_add(Vector a, Vector b, Vector c) { return _mm512_fmadd_ps(a, b, c); }
    static Vector max(Vector a, Vector b) { return _mm512_max_ps(a, b); }
    static Vector min(Vector a, Vector b) { return _mm512_min_ps(a, b); }
    static Vector round(Vector v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static Vector power_of_two(Vector k)
    {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23));
    }
    static Vector exp(Vector x) { return simd::exp_polynomial<Avx512>(x); }
    static float sum(Vector v) { return _mm512_reduce_add_ps(v); }
    static i32 dot_i8(const i8* a, const i8* b, i32 n)
    {
        __m512i acc = _mm512_setzero_si512();
        i32 i = 0;
        for (; i + 32 <= n; i += 32) {
            __m512i x = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)));
            __m512i y = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
        }
        i32 total = _mm512_reduce_add_epi32(acc);
        for (; i < n; ++i)
            total += i32(a[i]) * i32(b[i]);
        return total;
    }
};
}

void matmul(float* out, const float* x, const float* w, i32 n, i32 d) { simd::matmul<Avx512>(out, x, w, n, d); }
void matmul_q8(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group)
{
    simd::matmul_q8<Avx512>(out, xq, xs, wq, ws, n, d, group);
}
void rmsnorm(float* out, const float* x, const float* weight, i32 size) { simd::rmsnorm<Avx512>(out, x, weight, size); }
void softmax(float* x, i32 size) { simd::softmax<Avx512>(x, size); }
float dot(const float* a, const float* b, i32 n) { return simd::dot<Avx512>(a, b, n); }
void axpy(float* y, float a, const float* x, i32 n) { simd::axpy<Avx512>(y, a, x, n); }
void swiglu(float* hb, const float* hb2, i32 size) { simd::swiglu<Avx512>(hb, hb2, size); }

}
#pragma clang attribute pop
