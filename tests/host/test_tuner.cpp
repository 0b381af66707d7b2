// The boot-time tuner (kernels/tuner.h) times the operations a model runs, and only those:
// timing the F32 products on a scratch copy of a quantised model's gate matrix took most
// of a QEMU boot's tuning.
#include "../../app/llm/checkpoint.h"
#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_model.h"
#include "../../app/llm/kernels/tuner.h"
#include "golden_story.h"
#include "models.h"
#include "random_models.h"
#include <gtest/gtest.h>
#include <rt/cpu_features.h>
#include <string>

namespace {

using namespace testing_support::random_models;

std::string message(rt::Error const& e) { return std::string(e.message().data(), e.message().length()); }

// The tuner's report for `checkpoint`.
std::string tuning_report(llm::Checkpoint const& checkpoint)
{
    testing_support::StringSink report;
    auto plan = llm::kernels::tune(checkpoint, rt::detect_cpu_features(), report);
    EXPECT_FALSE(plan.is_error()) << message(plan.error());
    return report.value;
}

bool timed(std::string const& report, std::string const& op)
{
    std::string padded = op + std::string(op.size() < 10 ? 10 - op.size() : 0, ' ');
    return report.find("[tune] " + padded + " ") != std::string::npos;
}

TEST(Tuner, TimesTheFloatProductsOfAFloatModel)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = llama2c_checkpoint(5);
    auto checkpoint = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    std::string report = tuning_report(checkpoint.value());
    EXPECT_TRUE(timed(report, "matmul")) << report;
    EXPECT_FALSE(timed(report, "gguf_q4_0")) << report;
    EXPECT_TRUE(timed(report, "attention")) << report;
}

TEST(Tuner, LeavesOutTheFloatProductsOfAQuantisedModel)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = gguf_model(llm::TensorType::Q4_0, 6);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error()) << message(file.error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    ASSERT_FALSE(llm::kernels::runs(checkpoint.value().weights, llm::kernels::Op::Matmul));
    std::string report = tuning_report(checkpoint.value());
    EXPECT_FALSE(timed(report, "matmul")) << report;
    EXPECT_TRUE(timed(report, "gguf_q4_0")) << report;
    EXPECT_TRUE(timed(report, "attention")) << report;
}

}
