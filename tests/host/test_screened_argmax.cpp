// The screened argmax (greedy decoding's next token from an int8 copy of the classifier
// and exact logits only where they can win) against argmax() of the full product: the
// same index on random rows, near ties below the int8 resolution, exact ties, NaN,
// infinite and overflowing logits, zero inputs; under the scalar reference and the widest
// kernels this CPU runs; and the golden story when generation takes that path.
#include "../../app/llm/generate.h"
#include "../../app/llm/kernels/tuner.h"
#include "../../app/llm/screened_argmax.h"
#include "../../app/llm/tokenizer.h"
#include "golden_story.h"
#include "default_model.h"
#include "random_data.h"
#include "scoped_workers.h"
#include <gtest/gtest.h>
#include <rt/cpu_features.h>
#include <cmath>
#include <string>
#include <vector>

namespace {

using llm::kernels::Plan;
using testing_support::ScopedWorkers;

std::string message(rt::Error const& e) { return std::string(e.message().data(), e.message().length()); }

// The scalar reference, and every operation on the widest instruction set this CPU runs.
std::vector<Plan> plans()
{
    return { Plan {}, llm::kernels::widest_plan(rt::detect_cpu_features()) };
}

// argmax() of the full product with the kernel the classifier's type takes.
i32 full_argmax(llm::Tensor const& classifier, std::vector<float> const& x)
{
    std::vector<float> logits(size_t(classifier.rows));
    llm::matmul(logits.data(), { x.data(), nullptr, nullptr, nullptr }, classifier);
    return llm::argmax(logits.data(), classifier.rows);
}

class ScreenedArgmax : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override { llm::kernels::activate(plans()[size_t(GetParam())]); }
    void TearDown() override { llm::kernels::activate(Plan {}); }

    // A screen of `weights` (rows x cols floats), checked against the full product for
    // each input; returns the rows it computed exactly, per input.
    double expect_same_index(std::vector<float> const& weights, i32 rows, i32 cols, std::vector<std::vector<float>> const& inputs,
        std::string const& what)
    {
        llm::Tensor classifier { llm::TensorType::F32, rows, cols, reinterpret_cast<const u8*>(weights.data()) };
        auto screen = llm::ScreenedArgmax::create(classifier);
        EXPECT_FALSE(screen.is_error()) << message(screen.error());
        if (screen.is_error())
            return 0;
        std::vector<float> scratch(static_cast<size_t>(rows));
        for (size_t i = 0; i < inputs.size(); ++i)
            EXPECT_EQ(screen.value().argmax(inputs[i].data(), scratch.data()), full_argmax(classifier, inputs[i])) << what << ", input " << i;
        return double(screen.value().exact_rows()) / double(inputs.size());
    }
};

std::vector<std::vector<float>> random_inputs(i32 cols, size_t count, u32 seed, float scale = 1.0f)
{
    std::vector<std::vector<float>> inputs;
    for (size_t i = 0; i < count; ++i)
        inputs.push_back(random_floats(size_t(cols), seed + u32(i) * 7919u, scale));
    return inputs;
}

// Random rows: the plain Q8 copy (1001 rows) and the Q8x8 one (1024), a few rows computed
// exactly. Computing them all would pass the comparison, so the count is checked too.
TEST_P(ScreenedArgmax, RandomRowsGiveTheFullProductsIndexFromFewRows)
{
    testing_support::ScopedHeap heap(64 << 20);
    for (i32 rows : { 1001, 1024 })
        for (i32 cols : { 32, 96, 288 }) {
            auto weights = random_floats(size_t(rows) * size_t(cols), u32(rows + cols), 0.1f);
            double exact = expect_same_index(weights, rows, cols, random_inputs(cols, 40, u32(cols), 3.0f),
                std::to_string(rows) + "x" + std::to_string(cols));
            EXPECT_GT(exact, 0.0);
            EXPECT_LT(exact, rows / 20.0) << rows << "x" << cols << ": the screen let too many rows through";
        }
}

// Rows that differ below the int8 resolution: their copies are equal, so only the exact
// logits can order them. A screen that trusted its approximations (no error bound) would
// take the first of them.
TEST_P(ScreenedArgmax, NearTiesAreDecidedByTheExactLogits)
{
    testing_support::ScopedHeap heap(16 << 20);
    i32 rows = 256, cols = 64;
    auto base = random_floats(size_t(cols), 5, 0.5f);
    auto weights = random_floats(size_t(rows) * size_t(cols), 6, 0.01f);
    // Rows 10, 20, ... 250: the base row, one value nudged by a different tiny amount each.
    for (i32 r = 10; r < rows; r += 10)
        for (i32 k = 0; k < cols; ++k)
            weights[size_t(r) * size_t(cols) + size_t(k)] = base[size_t(k)] + (k == 3 ? float(r % 70) * 1e-6f : 0.0f);
    std::vector<std::vector<float>> inputs;
    for (u32 seed = 1; seed <= 30; ++seed) {
        auto x = base;
        auto noise = random_floats(size_t(cols), seed, 0.05f);
        for (i32 k = 0; k < cols; ++k)
            x[size_t(k)] += noise[size_t(k)];
        x[3] = seed % 2 ? 2.0f : -2.0f; // the nudged value decides
        inputs.push_back(x);
    }
    expect_same_index(weights, rows, cols, inputs, "near ties");
}

// Copies that order two rows the wrong way round: with s the group's scale, row 1 holds
// 0.51 s at value 0 (a copy of s) and row 2 holds 0.49 s there (a copy of 0) and 0.03 s at
// value 1, which the input weighs ten times. Exactly row 2 is larger (0.79 s against
// 0.51 s); by the copies row 1 is. Every row shares value 2, 127 s with s = 1/128, which
// sets s (127 s is the largest a step of s holds, and s a power of two).
TEST_P(ScreenedArgmax, CopiesThatOrderRowsWronglyDoNotDecide)
{
    testing_support::ScopedHeap heap(16 << 20);
    i32 rows = 16, cols = 32;
    float s = 1.0f / 128.0f;
    std::vector<float> weights(size_t(rows) * size_t(cols), 0.0f);
    for (i32 r = 0; r < rows; ++r)
        weights[size_t(r) * size_t(cols) + 2] = 127.0f * s;
    weights[size_t(cols) + 0] = 0.51f * s;
    weights[size_t(2 * cols) + 0] = 0.49f * s;
    weights[size_t(2 * cols) + 1] = 0.03f * s;
    std::vector<float> x(size_t(cols), 0.0f);
    x[0] = 1.0f;
    x[1] = 10.0f;
    llm::Tensor classifier { llm::TensorType::F32, rows, cols, reinterpret_cast<const u8*>(weights.data()) };
    ASSERT_EQ(full_argmax(classifier, x), 2);
    auto screen = llm::ScreenedArgmax::create(classifier).release_value();
    std::vector<float> scratch(static_cast<size_t>(rows));
    EXPECT_EQ(screen.argmax(x.data(), scratch.data()), 2);
}

// Equal rows: the first of the largest, as argmax() gives; also +0 against -0.
TEST_P(ScreenedArgmax, ExactTiesGiveTheFirstIndex)
{
    testing_support::ScopedHeap heap(16 << 20);
    i32 rows = 64, cols = 32;
    auto weights = random_floats(size_t(rows) * size_t(cols), 8, 0.01f);
    auto x = random_floats(size_t(cols), 9);
    for (i32 r : { 17, 40, 41 })
        for (i32 k = 0; k < cols; ++k)
            weights[size_t(r) * size_t(cols) + size_t(k)] = x[size_t(k)];
    llm::Tensor classifier { llm::TensorType::F32, rows, cols, reinterpret_cast<const u8*>(weights.data()) };
    auto screen = llm::ScreenedArgmax::create(classifier).release_value();
    std::vector<float> scratch(static_cast<size_t>(rows));
    EXPECT_EQ(screen.argmax(x.data(), scratch.data()), 17);
    // A zero input: every logit is zero (some -0), the first index wins.
    std::vector<float> zero(size_t(cols), 0.0f);
    EXPECT_EQ(screen.argmax(zero.data(), scratch.data()), 0);
    EXPECT_EQ(full_argmax(classifier, zero), 0);
}

// NaN or infinite logits anywhere give -1, as argmax() does on the full product: a row
// of NaN or infinite weights far from the largest, a zero input against such a row, an
// input holding NaN, and finite values whose product overflows.
TEST_P(ScreenedArgmax, NonFiniteLogitsAreFoundWhereverTheyAre)
{
    testing_support::ScopedHeap heap(16 << 20);
    i32 rows = 128, cols = 64;
    for (float bad : { NAN, INFINITY, -INFINITY }) {
        auto weights = random_floats(size_t(rows) * size_t(cols), 11, 0.01f);
        weights[size_t(90) * size_t(cols) + 5] = bad;
        llm::Tensor classifier { llm::TensorType::F32, rows, cols, reinterpret_cast<const u8*>(weights.data()) };
        auto screen = llm::ScreenedArgmax::create(classifier).release_value();
        std::vector<float> scratch(static_cast<size_t>(rows));
        auto x = random_floats(size_t(cols), 12);
        EXPECT_EQ(screen.argmax(x.data(), scratch.data()), -1) << bad;
        EXPECT_EQ(full_argmax(classifier, x), -1);
        std::vector<float> zero(size_t(cols), 0.0f);
        EXPECT_EQ(screen.argmax(zero.data(), scratch.data()), full_argmax(classifier, zero)) << bad << ", zero input";
    }
    auto weights = random_floats(size_t(rows) * size_t(cols), 13, 0.01f);
    llm::Tensor classifier { llm::TensorType::F32, rows, cols, reinterpret_cast<const u8*>(weights.data()) };
    auto screen = llm::ScreenedArgmax::create(classifier).release_value();
    std::vector<float> scratch(static_cast<size_t>(rows));
    auto x = random_floats(size_t(cols), 14);
    x[7] = NAN;
    EXPECT_EQ(screen.argmax(x.data(), scratch.data()), -1);
    EXPECT_EQ(screen.full_products(), 1u);
    // Row 100 overflows to -infinity, far below the largest logit; row 101 stays finite.
    for (i32 k = 0; k < cols; ++k) {
        weights[size_t(100) * size_t(cols) + size_t(k)] = -3e37f;
        weights[size_t(101) * size_t(cols) + size_t(k)] = -3e30f;
    }
    auto overflowing = llm::ScreenedArgmax::create(classifier).release_value();
    std::vector<float> ones(size_t(cols), 1.0f);
    EXPECT_EQ(full_argmax(classifier, ones), -1);
    EXPECT_EQ(overflowing.argmax(ones.data(), scratch.data()), -1);
}

// A row of subnormal weights (a copy would need a subnormal scale) has no bound: it is
// computed for every input, and the others are still screened (no full product).
TEST_P(ScreenedArgmax, RowsWithoutABoundAreAlwaysComputed)
{
    testing_support::ScopedHeap heap(16 << 20);
    i32 rows = 203, cols = 64;
    auto weights = random_floats(size_t(rows) * size_t(cols), 31, 0.1f);
    for (i32 k = 0; k < cols; ++k)
        weights[size_t(7) * size_t(cols) + size_t(k)] = 1e-40f;
    double exact = expect_same_index(weights, rows, cols, random_inputs(cols, 20, 32), "subnormal row");
    EXPECT_GE(exact, 1.0);
    llm::Tensor classifier { llm::TensorType::F32, rows, cols, reinterpret_cast<const u8*>(weights.data()) };
    std::vector<float> scratch(static_cast<size_t>(rows));
    // Inputs that make row 7 (a tiny positive logit) the largest: every other row negative.
    std::vector<float> x(size_t(cols), 1.0f);
    for (i32 r = 0; r < rows; ++r)
        for (i32 k = 0; k < cols && r != 7; ++k)
            weights[size_t(r) * size_t(cols) + size_t(k)] = -std::fabs(weights[size_t(r) * size_t(cols) + size_t(k)]);
    auto negative = llm::ScreenedArgmax::create(classifier).release_value();
    EXPECT_EQ(full_argmax(classifier, x), 7);
    EXPECT_EQ(negative.argmax(x.data(), scratch.data()), 7);
    EXPECT_EQ(negative.full_products(), 0u);
}

// The same indices whichever worker count runs the int8 product.
TEST_P(ScreenedArgmax, WorkerCountsGiveTheSameIndex)
{
    testing_support::ScopedHeap heap(64 << 20);
    i32 rows = 2048, cols = 128;
    auto weights = random_floats(size_t(rows) * size_t(cols), 21, 0.1f);
    for (size_t workers : { 2u, 3u }) {
        ScopedWorkers pool(workers);
        expect_same_index(weights, rows, cols, random_inputs(cols, 20, 22), std::to_string(workers) + " workers");
    }
}

TEST_P(ScreenedArgmax, WhatCannotBeScreenedIsRefused)
{
    testing_support::ScopedHeap heap(16 << 20);
    std::vector<float> weights(64 * 40);
    llm::Tensor odd { llm::TensorType::F32, 64, 40, reinterpret_cast<const u8*>(weights.data()) };
    EXPECT_FALSE(llm::ScreenedArgmax::can_screen(odd));
    EXPECT_TRUE(llm::ScreenedArgmax::create(odd).is_error());
    llm::Tensor blocks { llm::TensorType::Q8_0, 64, 64, reinterpret_cast<const u8*>(weights.data()) };
    EXPECT_FALSE(llm::ScreenedArgmax::can_screen(blocks));
    // stories260K's 512 x 64 classifier can be screened but is too small to gain.
    llm::Tensor small { llm::TensorType::F32, 512, 64, reinterpret_cast<const u8*>(weights.data()) };
    EXPECT_TRUE(llm::ScreenedArgmax::can_screen(small));
    EXPECT_FALSE(llm::ScreenedArgmax::worth_screening(small));
    llm::Tensor large { llm::TensorType::F32, 32000, 288, reinterpret_cast<const u8*>(weights.data()) };
    EXPECT_TRUE(llm::ScreenedArgmax::worth_screening(large));
}

// Greedy generation through the screen (forward_argmax) tells the golden story.
TEST_P(ScreenedArgmax, GreedyGenerationTellsTheGoldenStory)
{
    testing_support::DefaultModel files;
    REQUIRE_DEFAULT_MODEL(files);
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = files.load_checkpoint();
    auto tokenizer = files.load_tokenizer();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    auto screened = transformer.screen_classifier();
    ASSERT_FALSE(screened.is_error()) << message(screened.error());
    auto sampler = llm::Sampler::create(512, 0.0f, 0.9f, 1).release_value();
    testing_support::StringSink out;
    auto stats = llm::generate(transformer, tokenizer, sampler, "Once upon a time", 200, out);
    ASSERT_FALSE(stats.is_error()) << message(stats.error());
    EXPECT_EQ(out.value, testing_support::golden_story());
    // Every token after the prompt's first went through the screen.
    EXPECT_EQ(transformer.screen().tokens(), u64(stats.value().generated_tokens - 1));
    EXPECT_LT(transformer.screen().exact_rows(), transformer.screen().tokens() * 512 / 16);
}

INSTANTIATE_TEST_SUITE_P(Plans, ScreenedArgmax, ::testing::Values(0, 1), [](auto const& info) { return info.param ? "widest" : "scalar"; });

}
