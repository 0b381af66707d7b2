#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <rt/math.h>

namespace {

// Distance in units in the last place between two finite floats of the same sign.
i64 ulps(float a, float b)
{
    i32 x, y;
    std::memcpy(&x, &a, 4);
    std::memcpy(&y, &b, 4);
    return x > y ? i64(x) - y : i64(y) - x;
}

TEST(Math, ExpMatchesTheCLibrary)
{
    int inexact = 0;
    for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
        float ours = rt::math::expf(x);
        ASSERT_LE(ulps(ours, std::exp(x)), 1) << "x=" << x;
        inexact += ours != float(std::exp(double(x)));
    }
    EXPECT_EQ(inexact, 0); // correctly rounded: the double result rounded once
    EXPECT_EQ(rt::math::expf(0.0f), 1.0f);
    EXPECT_EQ(rt::math::expf(-200.0f), 0.0f);
    EXPECT_TRUE(std::isinf(rt::math::expf(200.0f)));
    EXPECT_NEAR(rt::math::exp(700.0), std::exp(700.0), std::exp(700.0) * 1e-15);
    EXPECT_NEAR(rt::math::exp(-740.0), std::exp(-740.0), 1e-320);
}

TEST(Math, SinCosMatchTheCLibrary)
{
    int inexact = 0;
    for (float x = -2100.0f; x < 2100.0f; x += 0.377f) {
        ASSERT_LE(ulps(rt::math::sinf(x), std::sin(x)), 1) << "x=" << x;
        ASSERT_LE(ulps(rt::math::cosf(x), std::cos(x)), 1) << "x=" << x;
        inexact += rt::math::sinf(x) != float(std::sin(double(x)));
        inexact += rt::math::cosf(x) != float(std::cos(double(x)));
    }
    EXPECT_EQ(inexact, 0);
    EXPECT_EQ(rt::math::sinf(0.0f), 0.0f);
    EXPECT_EQ(rt::math::cosf(0.0f), 1.0f);
}

// Angles far beyond any RoPE computes (a corrupt file's factors) are still defined: near the
// C library's up to 1e10, in [-1, 1] further out, NaN for infinity and NaN.
TEST(Math, SinCosOfHugeAnglesAreDefined)
{
    for (double x : { 1e9, -2.5e9, 1e10 }) {
        EXPECT_NEAR(rt::math::sin(x), std::sin(x), 1e-5) << x;
        EXPECT_NEAR(rt::math::cos(x), std::cos(x), 1e-5) << x;
    }
    for (double x : { 1e12, -3e15, 1e17 }) {
        double s = rt::math::sin(x), c = rt::math::cos(x);
        EXPECT_LE(std::fabs(s), 1.0) << x;
        EXPECT_NEAR(s * s + c * c, 1.0, 1e-9) << x;
    }
    for (double x : { 1e20, -1e300, double(INFINITY), -double(INFINITY), double(NAN) }) {
        EXPECT_TRUE(std::isnan(rt::math::sin(x))) << x;
        EXPECT_TRUE(std::isnan(rt::math::cos(x))) << x;
    }
}

TEST(Math, PowAndLog)
{
    // The rotary-embedding frequencies: 10000^(-i/head_size).
    for (int head_size : { 8, 32, 48, 64, 128 })
        for (int i = 0; i < head_size; i += 2) {
            float e = float(i) / float(head_size);
            ASSERT_LE(ulps(rt::math::powf(10000.0f, e), std::pow(10000.0f, e)), 1) << i << "/" << head_size;
        }
    for (double x : { 1e-300, 0.001, 0.5, 1.0, 2.0, 10.0, 12345.678, 1e300 })
        EXPECT_NEAR(rt::math::log(x), std::log(x), std::fabs(std::log(x)) * 1e-15 + 1e-16) << x;
    EXPECT_EQ(rt::math::log(1.0), 0.0);
    EXPECT_TRUE(std::isnan(rt::math::log(-1.0)));
    EXPECT_EQ(rt::math::sqrtf(16.0f), 4.0f);
}

}
