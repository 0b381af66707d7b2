#include "../../app/llm/ops.h"
#include <cmath>
#include "random_data.h"
#include <gtest/gtest.h>
#include <vector>

namespace {

TEST(Ops, RmsnormMatchesTheFormula)
{
    std::vector<float> x = { 1, 2, 3, 4 }, w = { 1, 0.5f, 2, 1 }, out(4);
    llm::ops::rmsnorm(out.data(), x.data(), w.data(), 4, 1e-5f);
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

// Gemma's gate: GELU's tanh form, then times the up projection; extremes stay finite.
TEST(Ops, GegluGatesWithGelu)
{
    std::vector<float> xs;
    for (float x = -12.0f; x <= 12.0f; x += 0.37f)
        xs.push_back(x);
    std::vector<float> hb = xs, hb2(xs.size(), 2.0f);
    llm::ops::geglu(hb.data(), hb2.data(), i32(xs.size()));
    for (size_t i = 0; i < xs.size(); ++i) {
        double x = xs[i], gelu = 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
        EXPECT_NEAR(hb[i], 2.0 * gelu, 1e-6 * std::max(1.0, std::fabs(gelu))) << x;
    }
    std::vector<float> extremes = { -1e30f, 1e30f, -100.0f, 100.0f }, ones(4, 1.0f);
    llm::ops::geglu(extremes.data(), ones.data(), 4);
    EXPECT_EQ(extremes[0], 0.0f);
    EXPECT_EQ(extremes[1], 1e30f);
    EXPECT_EQ(extremes[2], 0.0f);
    EXPECT_EQ(extremes[3], 100.0f);
}

// cap * tanh(x / cap): within a few float roundings of the cap, odd, never beyond the cap,
// and NaN or infinity left for the checks that report them.
TEST(Ops, SoftCapIsCapTimesTanh)
{
    for (float cap : { 0.5f, 30.0f, 50.0f }) {
        std::vector<float> values;
        for (float x = -4.0f * cap; x <= 4.0f * cap; x += cap / 37.0f)
            values.push_back(x);
        values.insert(values.end(), { 1e-30f, -1e-30f, 1e30f, -1e30f, 3e38f });
        auto capped = values;
        llm::ops::soft_cap(capped.data(), i32(capped.size()), cap);
        for (size_t i = 0; i < values.size(); ++i) {
            double expected = cap * std::tanh(double(values[i]) / cap);
            EXPECT_NEAR(capped[i], expected, 4e-7 * cap) << values[i] << " capped at " << cap;
            EXPECT_LE(std::fabs(capped[i]), cap);
        }
        float signs[] = { 7.0f, -7.0f };
        llm::ops::soft_cap(signs, 2, cap);
        EXPECT_EQ(signs[0], -signs[1]);
    }
    float odd[] = { __builtin_nanf(""), __builtin_inff(), -__builtin_inff() };
    llm::ops::soft_cap(odd, 3, 30.0f);
    EXPECT_TRUE(std::isnan(odd[0]));
    EXPECT_EQ(odd[1], __builtin_inff());
    EXPECT_EQ(odd[2], -__builtin_inff());
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
        std::vector<float> c(4), s(4), frequencies(4);
        llm::ops::rope_frequencies(frequencies.data(), 8);
        llm::ops::rope_angles(c.data(), s.data(), frequencies.data(), 8, position);
        llm::ops::rope_apply(q2.data(), k2.data(), 64, 32, 8, 8, c.data(), s.data());
        EXPECT_EQ(q, q2);
        EXPECT_EQ(k, k2);
    }
}

TEST(GgufBlocks, HalfPrecision)
{
    EXPECT_EQ(llm::ops::half_to_float(0x3C00), 1.0f);
    EXPECT_EQ(llm::ops::half_to_float(0xC000), -2.0f);
    EXPECT_EQ(llm::ops::half_to_float(0x7BFF), 65504.0f);
    EXPECT_EQ(llm::ops::half_to_float(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
    EXPECT_EQ(llm::ops::half_to_float(0x0400), std::ldexp(1.0f, -14));
    EXPECT_TRUE(std::isinf(llm::ops::half_to_float(0x7C00)));
}

TEST(GgufBlocks, Q4KDequantisesByGgmlLayout)
{
    std::vector<u8> block(144, 0);
    block[0] = 0x00, block[1] = 0x3C; // d = 1
    block[2] = 0x00, block[3] = 0x38; // dmin = 0.5
    u8* packed = block.data() + 4;
    packed[0] = 2, packed[4] = 4;     // sub-block 0: scale 2, min 4
    packed[1] = 1, packed[5] = 0;     // sub-block 1: scale 1, min 0
    packed[8] = 0x13;                 // sub-block 4: scale 3, min 1 (upper bits from bytes 0 and 4)
    u8* q = block.data() + 16;
    q[0] = 0x5A;                      // value 0: low nibble 10; value 32: high nibble 5
    q[64] = 0x07;                     // value 128 (sub-block 4): 7
    std::vector<float> out(256);
    llm::ops::dequantize_q4_k(block.data(), out.data());
    EXPECT_EQ(out[0], 2.0f * 10 - 0.5f * 4);
    EXPECT_EQ(out[1], -2.0f); // q = 0
    EXPECT_EQ(out[32], 1.0f * 5);
    EXPECT_EQ(out[128], 3.0f * 7 - 0.5f * 1);
}

TEST(GgufBlocks, Q6KDequantisesByGgmlLayout)
{
    std::vector<u8> block(210, 0);
    block[208] = 0x00, block[209] = 0x3C; // d = 1
    auto* scales = reinterpret_cast<i8*>(block.data() + 192);
    scales[0] = 2, scales[4] = 1, scales[2] = -1;
    block[0] = 0x05;         // low nibbles: value 0 gets 5, value 64 gets 0
    block[128] = 0b00000010; // high bits: value 0 gets 2 (<< 4)
    block[32] = 0x0F;        // value 32: low nibble 15, high bits 0
    std::vector<float> out(256);
    llm::ops::dequantize_q6_k(block.data(), out.data());
    EXPECT_EQ(out[0], 2.0f * ((5 | 2 << 4) - 32));
    EXPECT_EQ(out[64], 1.0f * (0 - 32));
    EXPECT_EQ(out[32], -1.0f * (15 - 32));
}

TEST(GgufBlocks, BlockMatmulsMatchDequantisedProducts)
{
    // Two rows of 64 values in Q8_0 and Q4_0 against a quantised input.
    std::vector<float> x(64);
    for (int i = 0; i < 64; ++i)
        x[size_t(i)] = float((i * 7) % 13) - 6.0f;
    std::vector<i8> xq(64);
    std::vector<float> xs(2);
    llm::ops::quantize(xq.data(), xs.data(), x.data(), 64, 32);
    std::vector<u8> q8(2 * 2 * 34), q4(2 * 2 * 18);
    for (int b = 0; b < 4; ++b) {
        q8[size_t(b * 34)] = 0x00, q8[size_t(b * 34 + 1)] = 0x38; // d = 0.5
        q4[size_t(b * 18)] = 0x00, q4[size_t(b * 18 + 1)] = 0x3C; // d = 1
        for (int k = 0; k < 32; ++k)
            q8[size_t(b * 34 + 2 + k)] = u8(i8((k * 5 + b) % 21 - 10));
        for (int k = 0; k < 16; ++k)
            q4[size_t(b * 18 + 2 + k)] = u8((k + b) % 16 | ((k * 3) % 16) << 4);
    }
    float out8[2], out4[2];
    llm::ops::matmul_q8_0(out8, xq.data(), xs.data(), q8.data(), 64, 2);
    llm::ops::matmul_q4_0(out4, xq.data(), xs.data(), q4.data(), 64, 2);
    for (int row = 0; row < 2; ++row) {
        double expected8 = 0, expected4 = 0;
        for (int i = 0; i < 64; ++i) {
            int b = row * 2 + i / 32, k = i % 32;
            double xv = double(xq[size_t(i)]) * xs[size_t(i / 32)];
            expected8 += 0.5 * double(i8(q8[size_t(b * 34 + 2 + k)])) * xv;
            u8 byte = q4[size_t(b * 18 + 2 + k % 16)];
            expected4 += double(int(k < 16 ? byte & 0xF : byte >> 4) - 8) * xv;
        }
        EXPECT_NEAR(out8[row], expected8, 1e-3 * (1 + std::fabs(expected8)));
        EXPECT_NEAR(out4[row], expected4, 1e-3 * (1 + std::fabs(expected4)));
    }
}

TEST(GgufBlocks, KQuantMatmulsMatchDequantisedProducts)
{
    // Two rows of 512 values (two super-blocks each) of random k-quant bytes against a
    // quantised input: the integer scheme must equal the dequantised weights' dot product
    // with the dequantised input, up to float rounding.
    const int n = 512, rows = 2;
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i)
        x[size_t(i)] = float((i * 37) % 101 - 50) / 25.0f;
    std::vector<i8> xq(n);
    std::vector<float> xs(n / 32);
    std::vector<i32> xsums(n / 32);
    llm::ops::quantize(xq.data(), xs.data(), x.data(), n, 32);
    llm::ops::group_sums(xsums.data(), xq.data(), n, 32);
    for (int i = 0; i < n / 32; ++i) {
        int sum = 0;
        for (int k = 0; k < 32; ++k)
            sum += xq[size_t(i * 32 + k)];
        ASSERT_EQ(xsums[size_t(i)], sum);
    }
    for (bool q6 : { false, true }) {
        size_t block_bytes = q6 ? 210 : 144;
        std::vector<u8> blocks(size_t(rows * n / 256) * block_bytes);
        u32 seed = q6 ? 5u : 6u;
        for (auto& b : blocks)
            b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
        for (size_t at = 0; at < blocks.size(); at += block_bytes) {
            if (q6) {
                blocks[at + 208] = 0x00, blocks[at + 209] = 0x20; // d: a small power of two
            } else {
                blocks[at + 0] = 0x00, blocks[at + 1] = 0x20; // d
                blocks[at + 2] = 0x00, blocks[at + 3] = 0x1C; // dmin
            }
        }
        float out[rows];
        if (q6)
            llm::ops::matmul_q6_k(out, xq.data(), xs.data(), xsums.data(), blocks.data(), n, rows);
        else
            llm::ops::matmul_q4_k(out, xq.data(), xs.data(), xsums.data(), blocks.data(), n, rows);
        std::vector<float> w(256);
        for (int row = 0; row < rows; ++row) {
            double expected = 0, magnitude = 0;
            for (int b = 0; b < n / 256; ++b) {
                const u8* block = blocks.data() + size_t(row * n / 256 + b) * block_bytes;
                if (q6)
                    llm::ops::dequantize_q6_k(block, w.data());
                else
                    llm::ops::dequantize_q4_k(block, w.data());
                for (int k = 0; k < 256; ++k) {
                    int i = b * 256 + k;
                    double term = double(w[size_t(k)]) * double(xq[size_t(i)]) * double(xs[size_t(i / 32)]);
                    expected += term;
                    magnitude += std::fabs(term);
                }
            }
            EXPECT_NEAR(out[row], expected, 1e-5 * magnitude) << (q6 ? "Q6_K" : "Q4_K") << " row " << row;
            EXPECT_GT(magnitude, 1.0);
        }
    }
}

TEST(Ops, RopeBaseFrequencyIsAParameter)
{
    std::vector<float> c(4), s(4), frequencies(4);
    llm::ops::rope_frequencies(frequencies.data(), 8, 500000.0f); // Llama-3-style base
    llm::ops::rope_angles(c.data(), s.data(), frequencies.data(), 8, 3);
    for (int pair = 0; pair < 4; ++pair) {
        double angle = 3.0 / std::pow(500000.0, 2.0 * pair / 8.0);
        EXPECT_NEAR(c[size_t(pair)], std::cos(angle), 1e-6);
        EXPECT_NEAR(s[size_t(pair)], std::sin(angle), 1e-6);
    }
    std::vector<float> x = { 3, 4 }, w = { 1, 1 }, out(2);
    llm::ops::rmsnorm(out.data(), x.data(), w.data(), 2, 0.5f); // epsilon enters the root
    EXPECT_NEAR(out[0], 3.0 / std::sqrt(12.5 + 0.5), 1e-6);
}

namespace {

// quantize's branch-free path (groups of finite values with a normal scale) gives the
// per-value rounding: x / scale rounded half away from zero (ties exact where the scale is
// 1), at scales from tiny normal to huge, groups of 32 and of 4.
TEST(Ops, QuantizeRoundsEveryValueHalfAwayFromZero)
{
    u32 seed = 99;
    for (float magnitude : { 1e-36f, 1e-10f, 0.5f, 127.0f, 3.0e5f, 1e30f })
        for (i32 group : { 32, 4 }) {
            auto x = random_floats(size_t(group) * 64, seed++, magnitude);
            if (magnitude == 127.0f) // scale 1 (each group holds 127): exact halves
                for (size_t i = 0; i < x.size(); ++i)
                    x[i] = i % size_t(group) == 0 ? 127.0f : float(i32(i % 253) - 126) + (i % 2 ? 0.5f : -0.5f);
            std::vector<i8> q(x.size(), 99);
            std::vector<float> scales(x.size() / size_t(group));
            llm::ops::quantize(q.data(), scales.data(), x.data(), i32(x.size()), group);
            for (size_t i = 0; i < x.size(); ++i) {
                float scale = scales[i / size_t(group)];
                float expected = scale == 0.0f ? 0.0f : llm::ops::round_half_away(x[i] / scale);
                ASSERT_EQ(float(q[i]), expected) << "x " << x[i] << " scale " << scale << " magnitude " << magnitude << " group " << group;
            }
        }
}

// Values whose int8 conversion would be undefined: NaN, infinities, and a subnormal group
// whose rounded scale is smaller than max|x| / 127 (x / scale passes 127).
TEST(Ops, QuantizeSaturatesAndNeverConvertsNaN)
{
    float tiny = std::ldexp(190.0f, -149); // 190 subnormal steps: scale rounds to 1 step
    std::vector<float> x = { NAN, 1.0f, -2.0f, 0.5f, INFINITY, 1.0f, -INFINITY, 3.0f, tiny, -tiny, tiny / 2, 0.0f };
    std::vector<i8> q(x.size(), 99);
    std::vector<float> scales(3);
    llm::ops::quantize(q.data(), scales.data(), x.data(), 12, 4);
    // Group 0: NaN gives 0, the rest as llama2.c (scale 2/127).
    EXPECT_EQ(q[0], 0);
    EXPECT_EQ(q[1], 64);
    EXPECT_EQ(q[2], -127);
    EXPECT_EQ(q[3], 32);
    // Group 1: an infinite scale; every value is 0 (x / inf) or NaN (inf / inf): all 0.
    for (int i = 4; i < 8; ++i)
        EXPECT_EQ(q[size_t(i)], 0) << i;
    // Group 2: saturates instead of wrapping.
    EXPECT_EQ(q[8], 127);
    EXPECT_EQ(q[9], -127);
    EXPECT_GE(q[10], 0);
    EXPECT_LE(q[10], 127);
    EXPECT_EQ(q[11], 0);
}

}
