#include "../../app/llm/ops.h"
#include <cmath>
#include <gtest/gtest.h>
#include <vector>

namespace {

TEST(Ops, RmsnormMatchesTheFormula)
{
    std::vector<float> x = { 1, 2, 3, 4 }, w = { 1, 0.5f, 2, 1 }, out(4);
    llm::ops::rmsnorm(out.data(), x.data(), w.data(), 4);
    float scale = 1.0f / std::sqrt((1 + 4 + 9 + 16) / 4.0f + 1e-5f);
    for (int i = 0; i < 4; ++i)
        EXPECT_FLOAT_EQ(out[size_t(i)], w[size_t(i)] * scale * x[size_t(i)]);
}

TEST(Ops, SoftmaxIsADistributionAndStable)
{
    std::vector<float> x = { 1000.0f, 1001.0f, 999.0f }; // would overflow without the max shift
    llm::ops::softmax(x.data(), 3);
    EXPECT_NEAR(x[0] + x[1] + x[2], 1.0f, 1e-6f);
    EXPECT_NEAR(x[1] / x[0], std::exp(1.0f), 1e-4f);
    std::vector<float> one = { -5.0f };
    llm::ops::softmax(one.data(), 1);
    EXPECT_EQ(one[0], 1.0f);
}

TEST(Ops, MatmulRowsTimesVector)
{
    // W is 3x2 (d=3 rows of n=2).
    std::vector<float> w = { 1, 2, 3, 4, 5, 6 }, x = { 10, 1 }, out(3);
    llm::ops::matmul(out.data(), x.data(), w.data(), 2, 3);
    EXPECT_EQ(out, (std::vector<float> { 12, 34, 56 }));
}

TEST(Ops, RopeRotatesPairsByPosition)
{
    std::vector<float> q = { 1, 0, 1, 0 }, k = { 0, 1, 0, 1 };
    auto q0 = q, k0 = k;
    llm::ops::rope(q0.data(), k0.data(), 4, 4, 4, 0);
    EXPECT_EQ(q0, q); // position 0: no rotation
    llm::ops::rope(q.data(), k.data(), 4, 4, 4, 1);
    // Pair 0 has frequency 1: rotated by 1 radian; pair 1 by 10000^(-1/2) = 0.01 rad.
    EXPECT_NEAR(q[0], std::cos(1.0f), 1e-6f);
    EXPECT_NEAR(q[1], std::sin(1.0f), 1e-6f);
    EXPECT_NEAR(q[2], std::cos(0.01f), 1e-6f);
    EXPECT_NEAR(k[0], -std::sin(1.0f), 1e-6f);
    // Under grouped-query attention k is narrower: only its first kv_dim values turn.
    std::vector<float> q2 = { 1, 0, 1, 0 }, k2 = { 1, 0, 7, 7 };
    llm::ops::rope(q2.data(), k2.data(), 4, 2, 2, 1);
    EXPECT_EQ(k2[2], 7.0f);
    EXPECT_NEAR(q2[2], std::cos(1.0f), 1e-6f);
}

TEST(Ops, SwigluGatesWithSilu)
{
    std::vector<float> hb = { 0.0f, 2.0f, -3.0f }, hb2 = { 5.0f, 0.5f, 2.0f };
    llm::ops::swiglu(hb.data(), hb2.data(), 3);
    EXPECT_EQ(hb[0], 0.0f);
    EXPECT_NEAR(hb[1], 2.0f / (1 + std::exp(-2.0f)) * 0.5f, 1e-6f);
    EXPECT_NEAR(hb[2], -3.0f / (1 + std::exp(3.0f)) * 2.0f, 1e-6f);
}

}

TEST(Ops, RopeInTwoStepsEqualsRope)
{
    for (int position : { 0, 1, 17, 511 }) {
        std::vector<float> q(64), k(32);
        for (size_t i = 0; i < 64; ++i)
            q[i] = float(i) * 0.1f - 3.0f;
        for (size_t i = 0; i < 32; ++i)
            k[i] = float(i) * -0.07f + 1.0f;
        auto q2 = q, k2 = k;
        llm::ops::rope(q.data(), k.data(), 64, 32, 8, position);
        std::vector<float> c(4), s(4);
        llm::ops::rope_angles(c.data(), s.data(), 8, position);
        llm::ops::rope_apply(q2.data(), k2.data(), 64, 32, 8, c.data(), s.data());
        EXPECT_EQ(q, q2);
        EXPECT_EQ(k, k2);
    }
}
