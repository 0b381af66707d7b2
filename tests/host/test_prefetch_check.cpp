// The whole-token check of the row kernels' prefetch mode (prefetch_check.h): the choice
// between the modes' times, what it does with tokens too fast or too slow to check, a real
// check after which the story is still the golden one (its forward passes wrote the KV
// cache), and that no mode changes a product's bits.
#include "../../app/llm/generate.h"
#include "../../app/llm/interleave.h"
#include "../../app/llm/ops.h"
#include "../../app/llm/kernels/tuner.h"
#include "../../app/llm/prefetch_check.h"
#include "../../app/llm/tokenizer.h"
#include "default_model.h"
#include "golden_story.h"
#include "random_data.h"
#include <cstring>
#include <gtest/gtest.h>
#include <rt/cpu_features.h>
#include <string>
#include <vector>

namespace {

using llm::kernels::Plan;
using llm::kernels::Prefetch;
using testing_support::StringSink;

TEST(PrefetchChoice, ThePlannedModeUnlessAnotherIsClearlyFaster)
{
    u64 none_clearly_faster[] = { 800, 1000, 1000, 1000 };
    EXPECT_EQ(llm::fastest_prefetch(none_clearly_faster, Prefetch::second_level), Prefetch::none);
    u64 within_a_sixteenth[] = { 960, 1000, 1000, 1000 };
    EXPECT_EQ(llm::fastest_prefetch(within_a_sixteenth, Prefetch::second_level), Prefetch::second_level);
    u64 first_fastest[] = { 1000, 700, 800, 750 };
    EXPECT_EQ(llm::fastest_prefetch(first_fastest, Prefetch::none), Prefetch::first_level);
    u64 planned_fastest[] = { 1000, 1000, 500, 900 };
    EXPECT_EQ(llm::fastest_prefetch(planned_fastest, Prefetch::second_level), Prefetch::second_level);
    u64 against_the_planned[] = { 1000, 940, 1100, 1000 }; // 940 beats the planned 1100 by more than 1/16
    EXPECT_EQ(llm::fastest_prefetch(against_the_planned, Prefetch::second_level), Prefetch::first_level);
    u64 both_fastest[] = { 1000, 1000, 1000, 800 };
    EXPECT_EQ(llm::fastest_prefetch(both_fastest, Prefetch::second_level), Prefetch::both_levels);
    u64 both_planned_and_close[] = { 1000, 1000, 950, 1000 };
    EXPECT_EQ(llm::fastest_prefetch(both_planned_and_close, Prefetch::both_levels), Prefetch::both_levels);
}

class PrefetchCheck : public ::testing::Test {
protected:
    void SetUp() override { REQUIRE_DEFAULT_MODEL(files); }
    void TearDown() override { llm::kernels::activate(Plan {}); }
    testing_support::DefaultModel files;
};

// Tokens faster than the lower bound (stories260K's take microseconds, its weights stay in
// the caches; bounds set above them here, so that a slow sanitized build counts as fast too)
// keep the plan's mode without a check, and so do tokens slower than the upper bound.
TEST_F(PrefetchCheck, TokensOutsideTheBoundsAreNotChecked)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = files.load_checkpoint();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    Plan plan = llm::kernels::widest_plan(rt::detect_cpu_features());
    plan.prefetch = Prefetch::first_level;
    StringSink fast;
    Plan kept = llm::check_prefetch(transformer, plan, fast, { 1e9, 2e9 });
    EXPECT_EQ(kept.prefetch, Prefetch::first_level);
    EXPECT_EQ(llm::kernels::active_prefetch, Prefetch::first_level);
    EXPECT_NE(fast.value.find("[tune] prefetch: l1 as planned (a token takes "), std::string::npos) << fast.value;
    EXPECT_NE(fast.value.find("the weights stay in the caches"), std::string::npos) << fast.value;
    StringSink slow;
    kept = llm::check_prefetch(transformer, plan, slow, { 0.0, 0.0 });
    EXPECT_EQ(kept.prefetch, Prefetch::first_level);
    EXPECT_NE(slow.value.find("too long to check"), std::string::npos) << slow.value;
}

// With the bounds opened: every mode is timed, one is kept and activated, the rest of the
// plan is the planned one, and the greedy story that follows is the golden one.
TEST_F(PrefetchCheck, ChecksEveryModeAndTheStoryStaysGolden)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = files.load_checkpoint();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    Plan plan = llm::kernels::widest_plan(rt::detect_cpu_features());
    StringSink report;
    Plan kept = llm::check_prefetch(transformer, plan, report, { 0.0, 1e9 });
    EXPECT_NE(report.value.find("[tune] prefetch, whole tokens, median of 5 runs of "), std::string::npos) << report.value;
    for (const char* mode : { " none ", ", l1 ", ", l2 ", ", both " })
        EXPECT_NE(report.value.find(mode), std::string::npos) << mode << " in " << report.value;
    std::string runs = std::string("runs ") + llm::kernels::prefetch_names[size_t(kept.prefetch)] + "\n";
    EXPECT_NE(report.value.find(runs), std::string::npos) << report.value;
    EXPECT_EQ(llm::kernels::active_prefetch, kept.prefetch);
    EXPECT_EQ(std::memcmp(kept.choice, plan.choice, sizeof plan.choice), 0);

    auto tokenizer = files.load_tokenizer();
    auto sampler = llm::Sampler::create(512, 0.0f, 0.9f, 1).release_value();
    StringSink out;
    auto stats = llm::generate(transformer, tokenizer, sampler, "Once upon a time", 200, out);
    ASSERT_FALSE(stats.is_error());
    EXPECT_EQ(out.value, testing_support::golden_story());
}

// A plan whose row kernels are avx2tcg's (picked only under QEMU's emulation) runs without
// prefetches and is not timed, even where its tokens are within the bounds; avx2tcg for an
// operation that is not an emulated row kernel (softmax) is no such sign.
TEST_F(PrefetchCheck, EmulatedRowsRunWithoutPrefetch)
{
    using llm::kernels::Isa;
    using llm::kernels::Op;
    auto cpu = rt::detect_cpu_features();
    if (!llm::kernels::can_run(Isa::Avx2Tcg, cpu))
        GTEST_SKIP() << "no AVX2";
    auto avx2tcg = [](Op op) {
        for (size_t v = 0; v < llm::kernels::variant_count(op); ++v)
            if (llm::kernels::variant_isa(op, v) == Isa::Avx2Tcg)
                return u8(v);
        return u8(0);
    };
    Plan plan = llm::kernels::widest_plan(cpu);
    plan.prefetch = Prefetch::both_levels;
    EXPECT_FALSE(llm::plan_runs_emulated_rows(plan));
    plan.choice[size_t(Op::Softmax)] = avx2tcg(Op::Softmax);
    EXPECT_FALSE(llm::plan_runs_emulated_rows(plan));
    for (Op op : { Op::GgufQ8_0, Op::GgufQ4_0x8, Op::GgufQ8_0x8, Op::GgufQ4Kx8, Op::GgufQ6Kx8, Op::MatmulQ8x8 }) {
        Plan emulated = plan;
        emulated.choice[size_t(op)] = avx2tcg(op);
        EXPECT_TRUE(llm::plan_runs_emulated_rows(emulated)) << llm::kernels::op_names[size_t(op)];
    }

    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = files.load_checkpoint();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    plan.choice[size_t(Op::GgufQ4Kx8)] = avx2tcg(Op::GgufQ4Kx8);
    StringSink report;
    Plan kept = llm::check_prefetch(transformer, plan, report, { 0.0, 1e9 });
    EXPECT_EQ(kept.prefetch, Prefetch::none);
    EXPECT_EQ(llm::kernels::active_prefetch, Prefetch::none);
    EXPECT_EQ(std::memcmp(kept.choice, plan.choice, sizeof plan.choice), 0);
    EXPECT_NE(report.value.find("[tune] prefetch: none (the plan's row kernels are avx2tcg's"), std::string::npos) << report.value;
    EXPECT_EQ(report.value.find("whole tokens"), std::string::npos) << report.value;
}

// The widest plan's interleaved Q4_K products (they prefetch) with each mode: the same bits.
TEST(PrefetchModes, GiveTheSameBits)
{
    using llm::TensorType;
    const i32 n = 2048, d = 64;
    std::vector<u8> blocks(size_t(d) * llm::row_bytes(TensorType::Q4_K, n));
    u32 seed = 3;
    for (auto& b : blocks)
        b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
    for (size_t at = 0; at < blocks.size(); at += llm::block_bytes(TensorType::Q4_K))
        blocks[at + 1] = 0x20, blocks[at + 3] = 0x20; // small normal d and dmin
    llm::Tensor t { TensorType::Q4_K, d, n, blocks.data() };
    std::vector<u8> scratch(8 * t.row_bytes());
    llm::interleave(t, blocks.data(), { scratch.data(), scratch.size() });
    auto x = random_floats(size_t(n), 5);
    std::vector<i8> xq(static_cast<size_t>(n));
    std::vector<float> xs(size_t(n / 32));
    std::vector<i32> sums(size_t(n / 32));
    llm::ops::quantize(xq.data(), xs.data(), x.data(), n, 32);
    llm::ops::group_sums(sums.data(), xq.data(), n, 32);
    Plan plan = llm::kernels::widest_plan(rt::detect_cpu_features());
    std::vector<float> first;
    for (auto mode : { Prefetch::none, Prefetch::first_level, Prefetch::second_level, Prefetch::both_levels }) {
        plan.prefetch = mode;
        llm::kernels::activate(plan);
        std::vector<float> out(static_cast<size_t>(d));
        llm::kernels::active().gguf_q4_kx8(out.data(), xq.data(), xs.data(), sums.data(), blocks.data(), n, d);
        if (first.empty())
            first = out;
        EXPECT_EQ(std::memcmp(out.data(), first.data(), sizeof(float) * size_t(d)), 0) << llm::kernels::prefetch_names[size_t(mode)];
    }
    llm::kernels::activate(Plan {});
}

}
