#include <rt/math.h>

namespace rt::math {

namespace {

// ln 2 split so that k * ln2_high is exact for the k we meet (Cody and Waite's method).
constexpr double ln2_high = 6.93147180369123816490e-01;
constexpr double ln2_low = 1.90821492927058770002e-10;
constexpr double inverse_ln2 = 1.44269504088896338700e+00;
// pi/2 split the same way, for sine and cosine argument reduction.
constexpr double half_pi_high = 1.57079632673412561417e+00;
constexpr double half_pi_low = 6.07710050650619224932e-11;
constexpr double two_over_pi = 6.36619772367581382433e-01;

double from_bits(u64 bits)
{
    double value;
    __builtin_memcpy(&value, &bits, sizeof value);
    return value;
}

u64 to_bits(double value)
{
    u64 bits;
    __builtin_memcpy(&bits, &value, sizeof bits);
    return bits;
}

// Angles of a billion or more (RoPE computes none from a sane file; a corrupt file's
// frequency factors could) are first brought back by whole turns, so that the quarter-turn
// count below fits an i32: at that size the turns are inexact, but the result is defined.
// Beyond 1e18, and for infinity, there is no meaningful angle left: NaN, as for NaN.
double within_turns(double x)
{
    constexpr double limit = 1e9, two_pi = 6.28318530717958647693;
    if (x > -limit && x < limit)
        return x;
    if (!(x > -1e18 && x < 1e18))
        return from_bits(0x7FF8000000000000ull);
    return x - double(i64(x / two_pi)) * two_pi;
}

// Round to nearest (halves away from zero) without calling into a C library.
i32 round_to_int(double x) { return i32(x >= 0 ? x + 0.5 : x - 0.5); }

// 2^k for -1022 <= k <= 1023.
double power_of_two(i32 k) { return from_bits(u64(k + 1023) << 52); }

// Taylor series near zero, evaluated by Horner's rule.
double sin_near_zero(double r)
{
    double r2 = r * r;
    double sum = 1.0;
    for (int n = 21; n >= 3; n -= 2)
        sum = 1.0 - sum * r2 / double(n * (n - 1));
    return r * sum;
}

double cos_near_zero(double r)
{
    double r2 = r * r;
    double sum = 1.0;
    for (int n = 20; n >= 2; n -= 2)
        sum = 1.0 - sum * r2 / double(n * (n - 1));
    return sum;
}

}

double exp(double x)
{
    if (x != x)
        return x;
    if (x > 709.78)
        return from_bits(0x7FF0000000000000ull); // +inf
    if (x < -745.2)
        return 0.0;
    i32 k = round_to_int(x * inverse_ln2);
    double r = (x - k * ln2_high) - k * ln2_low; // |r| <= ln2 / 2
    // Taylor series to r^12 / 12! (truncation error below 1e-14 relative), by Horner's
    // rule with the coefficients 1/n! precomputed: no divisions on this hot path.
    constexpr double inverse_factorial[] = { 1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
        1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600 };
    double sum = inverse_factorial[12];
    for (int n = 11; n >= 0; --n)
        sum = sum * r + inverse_factorial[n];
    // Scale in two steps when 2^k alone would leave the normal range.
    if (k > 1023)
        return sum * power_of_two(1023) * power_of_two(k - 1023);
    if (k < -1022)
        return sum * power_of_two(-1022) * power_of_two(k + 1022);
    return sum * power_of_two(k);
}

double log(double x)
{
    if (x != x || x < 0)
        return from_bits(0x7FF8000000000000ull); // nan
    if (x == 0)
        return -from_bits(0x7FF0000000000000ull);
    u64 bits = to_bits(x);
    i32 exponent = i32((bits >> 52) & 0x7FF);
    if (exponent == 0) { // subnormal: renormalise
        x *= power_of_two(54);
        bits = to_bits(x);
        exponent = i32((bits >> 52) & 0x7FF) - 54;
    }
    if (exponent == 0x7FF)
        return x; // inf
    // x = m * 2^e with m in [sqrt(1/2), sqrt(2)).
    double m = from_bits((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
    i32 e = exponent - 1023;
    if (m > 1.41421356237309504880) {
        m *= 0.5;
        ++e;
    }
    // log(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172.
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s;
    double sum = 0.0;
    for (int n = 27; n >= 1; n -= 2)
        sum = 1.0 / double(n) + s2 * sum;
    return e * ln2_high + (2.0 * s * sum + e * ln2_low);
}

double sin(double x)
{
    x = within_turns(x);
    if (x != x)
        return x;
    i32 k = round_to_int(x * two_over_pi);
    double r = (x - k * half_pi_high) - k * half_pi_low;
    switch (k & 3) {
    case 0: return sin_near_zero(r);
    case 1: return cos_near_zero(r);
    case 2: return -sin_near_zero(r);
    default: return -cos_near_zero(r);
    }
}

double cos(double x)
{
    x = within_turns(x);
    if (x != x)
        return x;
    i32 k = round_to_int(x * two_over_pi);
    double r = (x - k * half_pi_high) - k * half_pi_low;
    switch (k & 3) {
    case 0: return cos_near_zero(r);
    case 1: return -sin_near_zero(r);
    case 2: return -cos_near_zero(r);
    default: return sin_near_zero(r);
    }
}

}
