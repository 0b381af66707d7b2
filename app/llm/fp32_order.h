#pragma once
// The one order of fp32 arithmetic that every variant of every float operation follows, so
// that the scalar reference and the SSE2, AVX2 and AVX-512 variants give the same bits, and
// the same command prints the same tokens whichever variant the tuner picks, on any CPU,
// core count or build (x86-64, i686, kernel).
//
// Sums (dot products, softmax's total) run in `sum_lanes` = 16 virtual lanes: element j of
// the first n - n % 16 goes to lane j % 16 (SSE2 holds the lanes in four vectors of 4,
// AVX2 in two of 8, AVX-512 in one of 16). The lanes are then folded by halving, lane l +=
// lane l + half for half = 8, 4, 2, 1, and the remaining n % 16 elements are added one by
// one, in order. Matrix rows (F32, F16 and BF16) do the same in `row_lanes` = 32 lanes. Products are
// rounded before they are added: no fused multiply-add in any sum (SSE2 has none), and the
// build passes -ffp-contract=off so the compiler does not fuse a * b + c either. Quotients
// are IEEE's correctly rounded ones however they are computed (simd::divide_all corrects a
// product by the reciprocal with two FMAs, which gives exactly the quotient).
//
// Denormals are zero: the programs run the model with MXCSR's FTZ and DAZ set (the kernel
// on every core, arch/x86/boot.asm; the host on every thread, app/host/main.cpp), so a
// result below 2^-126 is 0 and so is such an input, in every variant alike (the kernel's
// x87 is not used for arithmetic: -mfpmath=sse). Intel cores take a microcode assist of
// a hundred cycles or more on each denormal, and attention's softmax weights underflow to
// them all the time: the TinyLlama-shape 64-token prompt spent 333 ms in attention with
// them, 17 ms without, on a Xeon (AMD's cores were not slowed).
//
// One sum keeps the plain order (llama2.c's): rmsnorm's sum of squares. It feeds the int8
// path's quantisation, whose rounding is so sensitive that the lane order flips llama2.c's
// int8 golden story for stories260K; a serial sum over dim values costs little.
//
// e^x is one polynomial (exp_lanes below, and simd::exp_polynomial, the same steps on
// vectors), not the C library's, for the same reason.
#include <rt/types.h>

namespace llm::fp32 {

constexpr i32 sum_lanes = 16;
// Matrix rows use twice as many: two independent additions per 16 lanes keep the adder's
// latency from limiting a row's streaming (AVX-512 holds them in two vectors).
constexpr i32 row_lanes = 32;

// The halving fold of the lanes (destroys `lanes`).
template<i32 count>
inline float fold(float (&lanes)[count])
{
    for (i32 half = count / 2; half >= 1; half /= 2)
        for (i32 l = 0; l < half; ++l)
            lanes[l] = lanes[l] + lanes[l + half];
    return lanes[0];
}

// a . b in `count` lanes, then the tail in order.
template<i32 count>
inline float dot_in_lanes(const float* a, const float* b, i32 n)
{
    float lanes[count] {};
    i32 lane_end = n - n % count;
    for (i32 i = 0; i < lane_end; i += count)
        for (i32 l = 0; l < count; ++l)
            lanes[l] += a[i + l] * b[i + l];
    float sum = fold(lanes);
    for (i32 i = lane_end; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

// x[0]^2 + x[1]^2 + ... in order, each square rounded first.
inline float sum_of_squares(const float* x, i32 n)
{
    float sum = 0.0f;
    for (i32 i = 0; i < n; ++i)
        sum += x[i] * x[i];
    return sum;
}

// The same comparisons as minps/maxps: the second operand when either is NaN.
inline float min_like_simd(float a, float b) { return a < b ? a : b; }
inline float max_like_simd(float a, float b) { return a > b ? a : b; }

// The polynomial's constants, shared with simd::exp_polynomial.
namespace exp_constants {
constexpr float highest = 88.0f;
constexpr float lowest = -87.3365447504019f; // 2^k stays a normal float
constexpr float log2e = 1.44269504088896341f;
constexpr float ln2_high = 0.693359375f; // ln 2 in two parts: k * ln2_high is exact
constexpr float ln2_low = -2.12194440e-4f;
constexpr float coefficients[8] = { 1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f };
}

// Round to nearest, ties to even, for |x| < 2^22: adding and subtracting 1.5 * 2^23 leaves
// no fraction bits (what cvtps2dq / roundps do in the default rounding mode). Without
// -ffast-math the compiler may not fold (x + c) - c into x.
inline float round_to_even(float x)
{
    constexpr float shifter = 12582912.0f;
    return (x + shifter) - shifter;
}

// e^x = 2^k * p(r) with x = k ln2 + r, |r| <= ln2/2, p the degree-7 Taylor polynomial
// evaluated by Horner's rule (relative error below 1e-7), x clamped to the float range.
inline float exp(float x)
{
    using namespace exp_constants;
    x = max_like_simd(min_like_simd(x, highest), lowest);
    float k = round_to_even(x * log2e);
    float r = x - k * ln2_high;
    r = r - k * ln2_low;
    float p = coefficients[0];
    for (i32 i = 1; i < 8; ++i)
        p = p * r + coefficients[i];
    u32 power = u32(i32(k) + 127) << 23;
    return p * __builtin_bit_cast(float, power);
}

}
