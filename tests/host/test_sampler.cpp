#include "../../app/llm/nucleus.h"
#include "../../app/llm/ops.h"
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
// (stably: glibc's qsort is a merge sort), then the running sum cut at top_p. The sorted list
// and the cut are made once; pick() is llama2.c's last loop, for any coin.
class ReferenceTopP {
public:
    ReferenceTopP(std::vector<float> const& probabilities, float top_p)
    {
        size_t n = probabilities.size();
        float cutoff = (1.0f - top_p) / float(n - 1);
        for (size_t i = 0; i < n; ++i)
            if (probabilities[i] >= cutoff)
                m_candidates.push_back({ probabilities[i], i32(i) });
        std::stable_sort(m_candidates.begin(), m_candidates.end(), [](auto const& a, auto const& b) { return a.first > b.first; });
        m_last = m_candidates.size() - 1;
        for (size_t i = 0; i < m_candidates.size(); ++i) {
            m_cumulative += m_candidates[i].first;
            if (m_cumulative > top_p) {
                m_last = i;
                break;
            }
        }
    }
    i32 pick(float coin) const
    {
        if (m_candidates.empty()) // llama2.c would read outside its list; Nucleus says -1
            return -1;
        float r = coin * m_cumulative;
        float cdf = 0.0f;
        for (size_t i = 0; i <= m_last; ++i) {
            cdf += m_candidates[i].first;
            if (r < cdf)
                return m_candidates[i].second;
        }
        return m_candidates[m_last].second;
    }

private:
    std::vector<std::pair<float, i32>> m_candidates;
    size_t m_last { 0 };
    float m_cumulative { 0.0f };
};

i32 reference_top_p(std::vector<float> const& probabilities, float top_p, float coin)
{
    return ReferenceTopP(probabilities, top_p).pick(coin);
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
        for (float temperature : { 0.0f, 1.0f, 0.7f }) { // 0.7: the check shares the division's pass
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

namespace {

// Probabilities as the sampler sees them: the reference softmax of normal logits.
std::vector<float> normal_probabilities(size_t n, float spread, std::mt19937& rng)
{
    std::normal_distribution<float> normal(0.0f, spread);
    std::vector<float> p(n);
    for (float& x : p)
        x = normal(rng);
    llm::ops::softmax(p.data(), i32(n));
    return p;
}

// The cases that decide whether runs of tokens may be added at once: a random model's flat
// distribution (25,000 tokens in the nucleus at top-p 0.9), a trained model's peaked one, one
// so flat that a few buckets hold everything, exact ties, and values that lie exactly halfway
// between two multiples of the running sum's ulp (2k + 1 times 2^-25: halfway for sums in
// [0.5, 1), whose rounding to even then depends on the sum), alone and mixed with others.
std::vector<float> probabilities_of_shape(size_t n, int shape, std::mt19937& rng)
{
    switch (shape) {
    case 0: return normal_probabilities(n, 0.49f, rng);
    case 1: return normal_probabilities(n, 4.0f, rng);
    case 2: return normal_probabilities(n, 0.001f, rng);
    case 3: {
        std::vector<float> p(n);
        std::uniform_int_distribution<int> level(0, 3);
        for (float& x : p)
            x = float(1 + level(rng));
        float total = 0.0f;
        for (float x : p)
            total += x;
        for (float& x : p)
            x /= total;
        return p;
    }
    default: {
        std::vector<float> p(n);
        std::uniform_int_distribution<int> odd(300, 700);
        std::uniform_real_distribution<float> other(1e-5f, 5e-5f);
        float scale = 32000.0f / float(n); // the sum stays near 1 at any n
        for (size_t i = 0; i < n; ++i)
            p[i] = (shape == 4 || i % 3 ? float(2 * odd(rng) + 1) * 0x1p-25f : other(rng)) * scale;
        return p;
    }
    }
}

TEST(Nucleus, PicksWhatLlama2cPicksOnEveryShape)
{
    testing_support::ScopedHeap heap(16 << 20);
    std::mt19937 rng(21);
    int picks = 0;
    for (size_t n : { size_t(32000), size_t(7), size_t(1000), size_t(50257) }) {
        auto nucleus = llm::Nucleus::create(i32(n)).release_value();
        for (int shape = 0; shape < 6; ++shape) {
            for (float top_p : { 0.1f, 0.5f, 0.9f, 0.95f, 0.999f }) {
                auto p = probabilities_of_shape(n, shape, rng);
                ReferenceTopP reference(p, top_p);
                llm::Random coins(u64(n + 100 * size_t(shape)) + u64(top_p * 1000));
                for (int step = 0; step < 40; ++step) { // many coins: picks all along the nucleus
                    float coin = step == 0 ? 0.0f : step == 1 ? 0.99999994f : coins.next_float();
                    ASSERT_EQ(nucleus.pick(p.data(), top_p, coin), reference.pick(coin))
                        << "n " << n << " shape " << shape << " top_p " << top_p << " coin " << coin;
                    ++picks;
                }
            }
        }
    }
    EXPECT_EQ(picks, 4 * 6 * 5 * 40);
}

// When the probabilities add up to less than top_p (only rounding can do that to a softmax),
// llama2.c keeps every candidate; and none at all reaches the cutoff: -1.
TEST(Nucleus, SumThatNeverPassesTopP)
{
    testing_support::ScopedHeap heap(16 << 20);
    std::mt19937 rng(5);
    auto nucleus = llm::Nucleus::create(32000).release_value();
    for (int shape : { 0, 4, 5 }) {
        auto p = probabilities_of_shape(32000, shape, rng);
        for (float& x : p)
            x *= 0.8f;
        llm::Random coins(9);
        for (int step = 0; step < 40; ++step) {
            float coin = coins.next_float();
            ASSERT_EQ(nucleus.pick(p.data(), 0.9f, coin), reference_top_p(p, 0.9f, coin)) << "shape " << shape;
        }
    }
    std::vector<float> tiny(32000, 1e-9f);
    EXPECT_EQ(nucleus.pick(tiny.data(), 0.9f, 0.5f), -1);
}

// The counting and placing passes take blocks of 16 tokens three ways: all 16 candidates (no
// mask applied: most of a flat distribution's blocks), some but at least 8 (without a branch,
// the others sent to buckets never read), fewer (by their bits); blocks of none are skipped,
// and the tokens after the last whole block go one by one. Blocks of each kind, in turn,
// at a vocabulary that leaves a tail, against llama2.c's picks.
TEST(Nucleus, BlocksOfEveryKind)
{
    testing_support::ScopedHeap heap(16 << 20);
    std::mt19937 rng(29);
    std::uniform_real_distribution<float> weight(0.5f, 1.5f);
    constexpr size_t n = 32000 + 5;
    auto nucleus = llm::Nucleus::create(i32(n)).release_value();
    constexpr int kept_in_block[] = { 16, 12, 3, 0, 15, 8 };
    for (int rotation = 0; rotation < 6; ++rotation) {
        std::vector<float> p(n);
        float total = 0.0f;
        for (size_t i = 0; i < n; ++i) {
            int kept = kept_in_block[(i / 16 + size_t(rotation)) % 6];
            bool candidate = int(i % 16) < kept || i >= n - n % 16;
            p[i] = candidate ? weight(rng) : 1e-12f;
            total += p[i];
        }
        for (float& x : p)
            x /= total;
        for (float top_p : { 0.5f, 0.9f, 0.999f }) {
            ReferenceTopP reference(p, top_p);
            llm::Random coins(u64(rotation) * 10 + u64(top_p * 1000));
            for (int step = 0; step < 30; ++step) {
                float coin = step == 0 ? 0.99999994f : coins.next_float();
                ASSERT_EQ(nucleus.pick(p.data(), top_p, coin), reference.pick(coin))
                    << "rotation " << rotation << " top_p " << top_p << " coin " << coin;
            }
        }
    }
}

// Tokens close to the running sum's ulp round up by nearly half of themselves, so a run's
// sum can grow past what their values add up to: past the end of the sum's binade (0.5,
// after a first token of 0.4999) or past top_p (0.9995, after one of 0.9994). Thousands of
// them follow the large token; coins near 1 pick among them.
TEST(Nucleus, TokensNearTheSumsUlp)
{
    testing_support::ScopedHeap heap(16 << 20);
    std::mt19937 rng(17);
    std::uniform_real_distribution<float> near_ulp(0.51f, 0.7f);
    auto nucleus = llm::Nucleus::create(32000).release_value();
    struct Case {
        float first, ulp, top_p;
    };
    for (Case c : { Case { 0.4999f, 0x1p-25f, 0.9999f }, Case { 0.9994f, 0x1p-24f, 0.9995f } }) {
        std::vector<float> p(32000, 0.0f);
        p[100] = c.first;
        for (size_t i = 200; i < 6200; ++i)
            p[i] = near_ulp(rng) * c.ulp;
        ReferenceTopP reference(p, c.top_p);
        for (int step = 0; step < 800; ++step) {
            float coin = 1.0f - float(step) * 0x1p-20f;
            ASSERT_EQ(nucleus.pick(p.data(), c.top_p, coin), reference.pick(coin)) << "top_p " << c.top_p << " coin " << coin;
        }
    }
}

// Flat distributions go on through the binned tail (nucleus_tail.h) once the tokens above
// its threshold add up to 2^e: spreads for which that is 2^-3 to 2^-6 (and the bins' width
// follows), vocabularies up to 100,000, top_p that cuts above the tail (0.1) or in it, and
// many coins, so that the pick falls above the tail and all along it. (Where the tokens above
// the threshold hold the nucleus, or a few hundred tokens do, the buckets alone pick.)
TEST(Nucleus, FlatDistributionsThroughTheTail)
{
    testing_support::ScopedHeap heap(32 << 20);
    std::mt19937 rng(41);
    for (size_t n : { size_t(32000), size_t(50257), size_t(100000) }) {
        auto nucleus = llm::Nucleus::create(i32(n)).release_value();
        for (float spread : { 0.2f, 0.49f, 0.8f, 1.2f }) {
            for (float top_p : { 0.1f, 0.9f, 0.99f }) {
                auto p = normal_probabilities(n, spread, rng);
                ReferenceTopP reference(p, top_p);
                llm::Random coins(u64(n) + u64(spread * 100) + u64(top_p * 1000));
                u64 before = nucleus.tail_picks();
                for (int step = 0; step < 40; ++step) {
                    float coin = step == 0 ? 0.0f : step == 1 ? 0.99999994f : coins.next_float();
                    ASSERT_EQ(nucleus.pick(p.data(), top_p, coin), reference.pick(coin))
                        << "n " << n << " spread " << spread << " top_p " << top_p << " coin " << coin;
                }
                if (spread == 0.49f && top_p >= 0.9f) // a random-weight model's: through the tail
                    EXPECT_EQ(nucleus.tail_picks() - before, 40u) << "n " << n << " top_p " << top_p;
            }
        }
    }
}

// Tail tokens exactly on a bin's edge (k times the width 2^-28 the spread 0.49 gives) add
// what the others of their bin do, except where k is 2^(j-1) modulo 2^j with the sum's ulp
// 2^j widths: exactly halfway, rounded to even by the sum. Some of each for j = 2, 3, 4, a
// run of equal tokens in one bin (added at once), and more exact tokens than the tail lists
// (the buckets then take every candidate).
TEST(Nucleus, ExactTokensInTheTail)
{
    testing_support::ScopedHeap heap(16 << 20);
    std::mt19937 rng(43);
    auto nucleus = llm::Nucleus::create(32000).release_value();
    for (int every : { 150, 100 }) {
        auto p = normal_probabilities(32000, 0.49f, rng);
        for (size_t i = 1; i < p.size(); i += size_t(every)) {
            u32 k = u32(p[i] * 0x1p28f);
            if (k >= 16384 || p[i] < 4e-6f)
                continue; // above the tail or near the cutoff
            u32 half = 1u << (i / every % 4); // 1, 2, 4, 8: not halfway, or halfway for j = 2, 3, 4
            k = half == 1 ? k : (k & ~(2 * half - 1)) + half;
            p[i] = float(k) * 0x1p-28f;
        }
        for (size_t i = 5; i < p.size(); i += 97)
            p[i] = 2.5e-5f; // a run of equal tokens (the inexact 6710.8864 widths)
        u64 before = nucleus.tail_picks();
        for (float top_p : { 0.5f, 0.9f, 0.999f }) {
            ReferenceTopP reference(p, top_p);
            llm::Random coins(u64(every) + u64(top_p * 1000));
            for (int step = 0; step < 200; ++step) {
                float coin = step == 0 ? 0.99999994f : coins.next_float();
                ASSERT_EQ(nucleus.pick(p.data(), top_p, coin), reference.pick(coin)) << "every " << every << " top_p " << top_p << " coin " << coin;
            }
        }
        if (every == 150) // ~210 exact tokens: listed
            EXPECT_EQ(nucleus.tail_picks() - before, 600u);
        else // ~320: too many, the buckets pick
            EXPECT_EQ(nucleus.tail_picks(), before);
    }
}

// A bin with more tokens than 16 bits count (a vocabulary of 70,000, 67,000 of them equal):
// its block is added bin by bin, its equal tokens at once.
TEST(Nucleus, TailBinOfMoreThan32767Tokens)
{
    testing_support::ScopedHeap heap(32 << 20);
    constexpr size_t n = 70000, large = 3000;
    std::vector<float> p(n, 0.7f / float(n - large));
    std::mt19937 rng(47);
    std::uniform_real_distribution<float> around(0.8f, 1.2f);
    for (size_t i = 0; i < large; ++i)
        p[i * 23] = 0.3f / float(large) * around(rng);
    auto nucleus = llm::Nucleus::create(i32(n)).release_value();
    for (float top_p : { 0.5f, 0.9f }) {
        ReferenceTopP reference(p, top_p);
        llm::Random coins(7);
        for (int step = 0; step < 60; ++step) {
            float coin = step == 0 ? 0.99999994f : coins.next_float();
            ASSERT_EQ(nucleus.pick(p.data(), top_p, coin), reference.pick(coin)) << "top_p " << top_p << " coin " << coin;
        }
    }
    EXPECT_EQ(nucleus.tail_picks(), 120u);
}

// The sampler's top-k: the k most probable (equal ones in index order), their probabilities
// renormalised by their sum, then top-p among them (llama.cpp's order), serial float sums.
i32 reference_top_k(std::vector<float> const& probabilities, size_t k, float top_p, float coin)
{
    std::vector<std::pair<float, i32>> sorted;
    for (size_t i = 0; i < probabilities.size(); ++i)
        sorted.push_back({ probabilities[i], i32(i) });
    std::stable_sort(sorted.begin(), sorted.end(), [](auto const& a, auto const& b) { return a.first > b.first; });
    sorted.resize(k);
    float kept = 0.0f;
    for (auto const& c : sorted)
        kept += c.first;
    bool nucleus = top_p > 0.0f && top_p < 1.0f;
    float cumulative = 0.0f;
    size_t last = k - 1;
    for (size_t i = 0; i < k; ++i) {
        cumulative += sorted[i].first;
        if (nucleus && cumulative > top_p * kept) {
            last = i;
            break;
        }
    }
    float r = coin * cumulative, cdf = 0.0f;
    for (size_t i = 0; i <= last; ++i) {
        cdf += sorted[i].first;
        if (r < cdf)
            return sorted[i].second;
    }
    return sorted[last].second;
}

TEST(Sampler, TopKPicksWhatTheReferencePicks)
{
    testing_support::ScopedHeap heap(16 << 20);
    std::mt19937 rng(8);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float spread : { 0.49f, 4.0f }) { // a random model's flat logits, a trained model's peaked ones
        for (i32 k : { 1, 40, 1000 }) {
            for (float top_p : { 0.9f, 1.0f }) {
                u64 seed = u64(k) * 7 + u64(spread * 10) + u64(top_p * 100);
                auto sampler = llm::Sampler::create(32000, 1.0f, top_p, seed, k).release_value();
                llm::Random coins(seed);
                for (int step = 0; step < 10; ++step) {
                    std::vector<float> logits(32000);
                    for (float& x : logits)
                        x = normal(rng) * spread;
                    i32 picked = sampler.sample(logits.data()).value(); // logits now hold the probabilities
                    ASSERT_EQ(picked, reference_top_k(logits, size_t(k), top_p, coins.next_float()))
                        << "spread " << spread << " k " << k << " top_p " << top_p << " step " << step;
                }
            }
        }
    }
}

}
