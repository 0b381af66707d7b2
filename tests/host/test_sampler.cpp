#include "../../app/llm/sampler.h"
#include "../../app/llm/kernels/tuner.h"
#include "models.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <rt/cpu_features.h>
#include <string>
#include <vector>

namespace {

TEST(Random, XorshiftSequence)
{
    // Values from an independent implementation of llama2.c's random_u32 (seed 42).
    llm::Random random(42);
    EXPECT_EQ(random.next_u32(), 1456360119u);
    EXPECT_EQ(random.next_u32(), 3359763283u);
    llm::Random again(42);
    EXPECT_EQ(again.next_u32(), 1456360119u);
    float f = llm::Random(7).next_float();
    EXPECT_GE(f, 0.0f);
    EXPECT_LT(f, 1.0f);
}

TEST(Sampler, GreedyPicksTheFirstMaximum)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto sampler = llm::Sampler::create(5, 0.0f, 0.9f, 1).release_value();
    std::vector<float> logits = { 0.1f, 3.0f, -1.0f, 3.0f, 2.0f };
    EXPECT_EQ(sampler.sample(logits.data()).value(), 1);
}

TEST(Sampler, TemperatureSamplingFollowsTheDistribution)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto sampler = llm::Sampler::create(3, 1.0f, 0.0f, 1234).release_value();
    int counts[3] = {};
    for (int i = 0; i < 20000; ++i) {
        std::vector<float> logits = { 0.0f, std::log(3.0f), -50.0f }; // p = 1/4, 3/4, ~0
        counts[sampler.sample(logits.data()).value()]++;
    }
    EXPECT_NEAR(counts[0] / 20000.0, 0.25, 0.02);
    EXPECT_NEAR(counts[1] / 20000.0, 0.75, 0.02);
    EXPECT_EQ(counts[2], 0);
}

TEST(Sampler, TopPStaysInTheNucleus)
{
    testing_support::ScopedHeap heap(1 << 20);
    // Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps the first two only.
    auto sampler = llm::Sampler::create(4, 1.0f, 0.7f, 99).release_value();
    int counts[4] = {};
    for (int i = 0; i < 10000; ++i) {
        std::vector<float> logits = { std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f) };
        counts[sampler.sample(logits.data()).value()]++;
    }
    EXPECT_EQ(counts[2] + counts[3], 0);
    EXPECT_NEAR(counts[0] / 10000.0, 0.5 / 0.8, 0.03);
}

TEST(Sampler, SameSeedSameTokens)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto a = llm::Sampler::create(50, 0.8f, 0.9f, 77).release_value();
    auto b = llm::Sampler::create(50, 0.8f, 0.9f, 77).release_value();
    for (int step = 0; step < 100; ++step) {
        std::vector<float> la(50), lb(50);
        for (int i = 0; i < 50; ++i)
            la[size_t(i)] = lb[size_t(i)] = float((i * 37 + step * 11) % 17) * 0.3f;
        ASSERT_EQ(a.sample(la.data()).value(), b.sample(lb.data()).value());
    }
}

// llama2.c's nucleus sampling as written there: every candidate above the cutoff sorted
// (stably: glibc's qsort is a merge sort), then the running sum cut at top_p.
i32 reference_top_p(std::vector<float> const& probabilities, float top_p, float coin)
{
    size_t n = probabilities.size();
    float cutoff = (1.0f - top_p) / float(n - 1);
    std::vector<std::pair<float, i32>> candidates;
    for (size_t i = 0; i < n; ++i)
        if (probabilities[i] >= cutoff)
            candidates.push_back({ probabilities[i], i32(i) });
    std::stable_sort(candidates.begin(), candidates.end(), [](auto const& a, auto const& b) { return a.first > b.first; });
    float cumulative = 0.0f;
    size_t last = candidates.size() - 1;
    for (size_t i = 0; i < candidates.size(); ++i) {
        cumulative += candidates[i].first;
        if (cumulative > top_p) {
            last = i;
            break;
        }
    }
    float r = coin * cumulative;
    float cdf = 0.0f;
    for (size_t i = 0; i <= last; ++i) {
        cdf += candidates[i].first;
        if (r < cdf)
            return candidates[i].second;
    }
    return candidates[last].second;
}

// Logits of several shapes: flat (random weights), peaked (a trained model), ties.
std::vector<float> make_logits(size_t n, int shape, std::mt19937& rng)
{
    std::vector<float> logits(n);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (size_t i = 0; i < n; ++i) {
        switch (shape) {
        case 0: logits[i] = normal(rng) * 0.05f; break;              // almost flat
        case 1: logits[i] = normal(rng) * 3.0f; break;               // peaked
        case 2: logits[i] = float(int(normal(rng) * 2.0f)); break;   // many exact ties
        default: logits[i] = -std::log(float(i + 1)) * 1.2f; break;  // power law
        }
    }
    return logits;
}

TEST(Sampler, TopPPicksWhatLlama2cPicks)
{
    testing_support::ScopedHeap heap(8 << 20);
    std::mt19937 rng(5);
    for (size_t n : { size_t(7), size_t(512), size_t(32000) }) {
        for (int shape = 0; shape < 4; ++shape) {
            for (float top_p : { 0.5f, 0.9f, 0.99f }) {
                u64 seed = n * 31 + u64(shape) * 7 + u64(top_p * 100);
                auto sampler = llm::Sampler::create(i32(n), 1.0f, top_p, seed).release_value();
                llm::Random coins(seed);
                for (int step = 0; step < 20; ++step) {
                    auto values = make_logits(n, shape, rng);
                    i32 picked = sampler.sample(values.data()).value(); // values are now probabilities
                    ASSERT_EQ(picked, reference_top_p(values, top_p, coins.next_float()))
                        << "n " << n << " shape " << shape << " top_p " << top_p << " step " << step;
                }
            }
        }
    }
}

// Not a timed test: prints what one top-p pick costs at the Llama vocabulary, for the record.
TEST(Sampler, TopPCostAtVocabulary32000)
{
    testing_support::ScopedHeap heap(8 << 20);
    std::mt19937 rng(9);
    // The softmax the tuner would pick on this CPU, as in a real run.
    llm::kernels::activate(llm::kernels::widest_plan(rt::detect_cpu_features()));
    for (int shape : { 0, 1 }) {
        auto sampler = llm::Sampler::create(32000, 1.0f, 0.9f, 3).release_value();
        std::vector<std::vector<float>> inputs;
        for (int i = 0; i < 50; ++i)
            inputs.push_back(make_logits(32000, shape, rng));
        auto start = std::chrono::steady_clock::now();
        i32 sum = 0;
        for (auto& logits : inputs)
            sum += sampler.sample(logits.data()).value();
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 50;
        std::printf("[sampler] %s logits: %.1f us per top-p pick (temp 1, softmax included; picks sum %d)\n", shape ? "peaked" : "flat", us, sum);
        EXPECT_GE(sum, 0);
    }
    llm::kernels::activate({});
}

}

namespace {

TEST(Sampler, NonFiniteLogitsAreAnError)
{
    testing_support::ScopedHeap heap(1 << 20);
    const float bad_values[] = { std::nanf(""), INFINITY, -INFINITY };
    for (float bad : bad_values) {
        for (float temperature : { 0.0f, 1.0f }) {
            for (float top_p : { 0.9f, 1.0f }) {
                auto sampler = llm::Sampler::create(5, temperature, top_p, 1).release_value();
                for (size_t at = 0; at < 5; ++at) { // first, last and between: every slot is checked
                    std::vector<float> logits = { 0.1f, 3.0f, -1.0f, 3.0f, 2.0f };
                    logits[at] = bad;
                    auto next = sampler.sample(logits.data());
                    ASSERT_TRUE(next.is_error()) << "value " << bad << " at " << at << ", temperature " << temperature << ", top_p " << top_p;
                    EXPECT_EQ(std::string(next.error().message().data(), next.error().message().length()),
                        "the logits hold NaN or infinity (are the model's weights broken?)");
                }
            }
        }
    }
    std::vector<float> fine = { 0.1f, 3.0f, -1.0f, 3.0f, 2.0f };
    EXPECT_EQ(llm::argmax(fine.data(), 5), 1);
    fine[4] = std::nanf("");
    EXPECT_EQ(llm::argmax(fine.data(), 5), -1);
}

TEST(Sampler, TinyTemperaturesAreGreedyNotInfinite)
{
    testing_support::ScopedHeap heap(1 << 20);
    // 1e-40 is a positive float, but 3 / 1e-40 is infinity: this must still pick token 1.
    auto sampler = llm::Sampler::create(5, 1e-40f, 0.9f, 1).release_value();
    std::vector<float> logits = { 0.1f, 3.0f, -1.0f, 2.9f, 2.0f };
    EXPECT_EQ(sampler.sample(logits.data()).value(), 1);
}

TEST(Sampler, TopKKeepsOnlyTheKMostProbable)
{
    testing_support::ScopedHeap heap(8 << 20);
    // Probabilities 0.4, 0.3, 0.2, 0.1 (shuffled): top-k 2 picks the 0.4 and 0.3 tokens only,
    // in the ratio 4:3; top-k 1 is greedy; top-k with top-p 0.5 keeps 0.4/0.7 < 0.5 < 1: both.
    std::vector<float> base = { std::log(0.2f), std::log(0.4f), std::log(0.1f), std::log(0.3f) };
    for (i32 k : { 1, 2 }) {
        auto sampler = llm::Sampler::create(4, 1.0f, 0.0f, 11, k).release_value();
        int counts[4] = {};
        for (int i = 0; i < 20000; ++i) {
            auto logits = base;
            counts[sampler.sample(logits.data()).value()]++;
        }
        EXPECT_EQ(counts[0] + counts[2], 0) << "k " << k;
        if (k == 1)
            EXPECT_EQ(counts[1], 20000);
        else
            EXPECT_NEAR(counts[1] / 20000.0, 4.0 / 7.0, 0.02);
    }
    // With top-p 0.5 after top-k 3 (0.4, 0.3, 0.2 renormalised: 0.44, 0.33, 0.22), the
    // nucleus is the first two.
    auto sampler = llm::Sampler::create(4, 1.0f, 0.5f, 12, 3).release_value();
    int counts[4] = {};
    for (int i = 0; i < 20000; ++i) {
        auto logits = base;
        counts[sampler.sample(logits.data()).value()]++;
    }
    EXPECT_EQ(counts[0] + counts[2], 0);
    EXPECT_GT(counts[3], 0);
}

TEST(Sampler, TopKAtTheVocabularySizeIsOff)
{
    testing_support::ScopedHeap heap(8 << 20);
    // k >= vocabulary keeps llama2.c's sampler: the same picks as without k.
    auto plain = llm::Sampler::create(512, 0.9f, 0.9f, 5).release_value();
    auto all = llm::Sampler::create(512, 0.9f, 0.9f, 5, 512).release_value();
    std::mt19937 rng(3);
    for (int step = 0; step < 50; ++step) {
        auto a = make_logits(512, step % 4, rng);
        auto b = a;
        ASSERT_EQ(plain.sample(a.data()).value(), all.sample(b.data()).value());
    }
}

TEST(Sampler, TopKOnAFlatVocabularyOf32000)
{
    testing_support::ScopedHeap heap(8 << 20);
    auto sampler = llm::Sampler::create(32000, 1.0f, 0.95f, 8, 40).release_value();
    std::mt19937 rng(4);
    for (int step = 0; step < 20; ++step) {
        auto logits = make_logits(32000, 0, rng);
        i32 picked = sampler.sample(logits.data()).value();
        // The pick is among the 40 most probable (logits now hold the probabilities).
        size_t above = 0;
        for (float p : logits)
            above += p > logits[size_t(picked)];
        EXPECT_LT(above, 40u);
    }
}

}
