// The whole-token check of the tuner's core counts (core_count_check.h): the capped
// plans, the choice between their times, and a real check on threads after which the
// story is still the golden one (the check's forward passes wrote the KV cache).
#include "../../app/llm/core_count_check.h"
#include "../../app/llm/generate.h"
#include "../../app/llm/kernels/tuner.h"
#include "../../app/llm/tokenizer.h"
#include "golden_story.h"
#include "default_model.h"
#include "scoped_workers.h"
#include <gtest/gtest.h>
#include <rt/cpu_features.h>
#include <rt/work_pool.h>
#include <string>
#include <vector>

namespace {

using llm::kernels::Op;
using llm::kernels::Plan;

using testing_support::StringSink;
std::string golden() { return testing_support::golden_story(); }

u8 workers(Plan const& plan, Op op) { return plan.workers[size_t(op)]; }

TEST(CoreCounts, CappedPlansKeepVariantsAndLowerOnlyLargerCounts)
{
    Plan plan;
    plan.choice[size_t(Op::Matmul)] = 3;
    plan.workers[size_t(Op::Matmul)] = 4;
    plan.workers[size_t(Op::Attention)] = 1;
    plan.workers[size_t(Op::GgufQ4_0)] = 0; // every core
    Plan two = llm::capped(plan, 2, 8);
    EXPECT_EQ(two.choice[size_t(Op::Matmul)], 3);
    EXPECT_EQ(workers(two, Op::Matmul), 2);
    EXPECT_EQ(workers(two, Op::Attention), 1);
    EXPECT_EQ(workers(two, Op::GgufQ4_0), 2);
    Plan one = llm::capped(plan, 1, 8);
    for (Op op : { Op::Matmul, Op::MatmulQ8, Op::Attention, Op::GgufQ4_0, Op::GgufQ6Kx8, Op::GgufF16, Op::MatmulQ8x8 })
        EXPECT_EQ(workers(one, op), 1) << llm::kernels::op_names[size_t(op)];
    for (Op op : { Op::Rmsnorm, Op::Softmax, Op::Swiglu, Op::Quantize }) // they run on the calling core
        EXPECT_EQ(workers(one, op), 0) << llm::kernels::op_names[size_t(op)];
    Plan wide = llm::capped(plan, 16, 8); // a cap above the cores leaves every count as it is, 0 as all
    EXPECT_EQ(workers(wide, Op::Matmul), 4);
    EXPECT_EQ(workers(wide, Op::GgufQ4_0), 8);
}

TEST(CoreCounts, WidenedPlansPutEverySplitOperationOnAllCores)
{
    Plan plan;
    plan.choice[size_t(Op::Matmul)] = 3;
    plan.workers[size_t(Op::Matmul)] = 1;
    plan.workers[size_t(Op::Attention)] = 2;
    Plan wide = llm::widened(plan, 4);
    EXPECT_EQ(wide.choice[size_t(Op::Matmul)], 3);
    for (Op op : { Op::Matmul, Op::MatmulQ8, Op::Attention, Op::GgufQ4_0, Op::GgufQ6Kx8, Op::GgufF16, Op::MatmulQ8x8 })
        EXPECT_EQ(workers(wide, op), 4) << llm::kernels::op_names[size_t(op)];
    for (Op op : { Op::Rmsnorm, Op::Softmax, Op::Swiglu, Op::Quantize })
        EXPECT_EQ(workers(wide, op), 0) << llm::kernels::op_names[size_t(op)];
}

TEST(CoreCounts, TheFewestCoresUnlessMoreAreClearlyFaster)
{
    u64 clearly_faster[] = { 1000, 700, 900 };
    EXPECT_EQ(llm::fastest_with_fewest_cores(clearly_faster, 3), 1u);
    u64 within_a_sixteenth[] = { 1000, 960, 950 };
    EXPECT_EQ(llm::fastest_with_fewest_cores(within_a_sixteenth, 3), 0u);
    u64 more_is_best[] = { 1000, 800, 500 };
    EXPECT_EQ(llm::fastest_with_fewest_cores(more_is_best, 3), 2u);
    u64 compared_with_the_kept[] = { 1000, 900, 860 }; // 860 beats 1000 by more, 900 by less than 1/16
    EXPECT_EQ(llm::fastest_with_fewest_cores(compared_with_the_kept, 3), 1u);
    u64 one[] = { 5 };
    EXPECT_EQ(llm::fastest_with_fewest_cores(one, 1), 0u);
}

class CoreCountCheck : public ::testing::Test {
protected:
    void SetUp() override
    {
        REQUIRE_DEFAULT_MODEL(files);
    }
    void TearDown() override { llm::kernels::activate(Plan {}); }
    // The greedy story that follows a check is still the golden one (the check's forward
    // passes wrote the KV cache).
    void expect_golden_story(llm::Transformer& transformer)
    {
        auto tokenizer = files.load_tokenizer();
        auto sampler = llm::Sampler::create(512, 0.0f, 0.9f, 1).release_value();
        StringSink out;
        auto stats = llm::generate(transformer, tokenizer, sampler, "Once upon a time", 200, out);
        ASSERT_FALSE(stats.is_error());
        EXPECT_EQ(out.value, golden());
    }
    testing_support::DefaultModel files;
};

TEST_F(CoreCountCheck, OnlyOperationsTheModelRunsCount)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = files.load_checkpoint();
    Plan plan;
    plan.workers[size_t(Op::Matmul)] = 2;
    plan.workers[size_t(Op::Attention)] = 1;
    plan.workers[size_t(Op::GgufQ4_0)] = 0; // all 4, but an F32 model has no Q4_0 matrix
    plan.workers[size_t(Op::Rmsnorm)] = 0;  // runs on the calling core whatever the plan says
    EXPECT_EQ(llm::most_cores(plan, checkpoint.weights, 4), 2u);
    plan.workers[size_t(Op::Attention)] = 0;
    EXPECT_EQ(llm::most_cores(plan, checkpoint.weights, 4), 4u);
}

TEST_F(CoreCountCheck, OneCoreIsNotChecked)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = files.load_checkpoint();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    Plan plan = llm::kernels::widest_plan(rt::detect_cpu_features());
    StringSink report;
    Plan kept = llm::check_core_counts(transformer, plan, checkpoint.weights, report);
    EXPECT_EQ(report.value, "");
    EXPECT_EQ(workers(kept, Op::Matmul), workers(plan, Op::Matmul));
}

// On two threads with a plan that splits the matrices: the check times both plans, keeps
// one of them (which, the machine decides), activates it, and the story that follows is
// the golden one.
TEST_F(CoreCountCheck, ChecksOnThreadsAndTheStoryStaysGolden)
{
    testing_support::ScopedHeap heap(16 << 20);
    testing_support::ScopedWorkers two_threads(2);
    auto checkpoint = files.load_checkpoint();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    Plan plan = llm::kernels::widest_plan(rt::detect_cpu_features());
    plan.workers[size_t(Op::Matmul)] = 2;
    plan.workers[size_t(Op::Attention)] = 2;
    StringSink report;
    Plan kept = llm::check_core_counts(transformer, plan, checkpoint.weights, report);
    EXPECT_NE(report.value.find("[tune] whole tokens, median of 5 runs of "), std::string::npos) << report.value;
    EXPECT_NE(report.value.find("at most 1 core "), std::string::npos) << report.value;
    EXPECT_NE(report.value.find("as tuned, up to 2 cores "), std::string::npos) << report.value;
    bool as_tuned = report.value.find("runs as tuned") != std::string::npos;
    EXPECT_EQ(as_tuned || report.value.find("runs at most 1 core per operation") != std::string::npos, true) << report.value;
    EXPECT_EQ(workers(kept, Op::Matmul), as_tuned ? 2 : 1);
    EXPECT_EQ(llm::kernels::active().workers_for(Op::Matmul), workers(kept, Op::Matmul));
    EXPECT_EQ(llm::kernels::active().workers_for(Op::Attention), workers(kept, Op::Attention));

    expect_golden_story(transformer);
}

// A plan that keeps the matrices on one core of two: the check also times every operation
// on both, keeps one of the two plans, and the story is still the golden one.
TEST_F(CoreCountCheck, AlsoTimesEveryOperationOnAllCores)
{
    testing_support::ScopedHeap heap(16 << 20);
    testing_support::ScopedWorkers two_threads(2);
    auto checkpoint = files.load_checkpoint();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    Plan plan = llm::kernels::widest_plan(rt::detect_cpu_features());
    plan.workers[size_t(Op::Matmul)] = 1;
    plan.workers[size_t(Op::Attention)] = 2;
    StringSink report;
    Plan kept = llm::check_core_counts(transformer, plan, checkpoint.weights, report);
    EXPECT_NE(report.value.find("at most 1 core "), std::string::npos) << report.value;
    EXPECT_NE(report.value.find("as tuned, up to 2 cores "), std::string::npos) << report.value;
    EXPECT_NE(report.value.find("every operation on 2 cores "), std::string::npos) << report.value;
    bool widened = report.value.find("runs every operation on 2 cores") != std::string::npos;
    EXPECT_EQ(workers(kept, Op::Matmul), widened ? 2 : 1);
    EXPECT_EQ(llm::kernels::active().workers_for(Op::Matmul), workers(kept, Op::Matmul));

    expect_golden_story(transformer);
}

}
