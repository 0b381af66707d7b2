// Prompt processing in batches (Transformer::forward_batch) must give the bits of token by
// token processing: the last logits, the KV cache (every later logit) and so the sampled
// tokens, for every tensor type, SIMD plan and worker count, with prompts longer than one
// batch and batches that start past position 0 (a chat's later turns).
#include "../../app/llm/batch.h"
#include "../../app/llm/generate.h"
#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_model.h"
#include "../../app/llm/interleave.h"
#include "../../app/llm/kernels/x86/batch_entry_points.h"
#include "../../app/llm/kernels/x86/entry_points.h"
#include "../../app/llm/ops.h"
#include "../../app/llm/tokenizer.h"
#include "default_model.h"
#include "random_models.h"
#include "scoped_workers.h"
#include <cstring>
#include <gtest/gtest.h>
#include <optional>
#include <rt/work_pool.h>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string message(rt::Error const& e) { return std::string(e.message().data(), e.message().length()); }

using namespace testing_support::random_models;

using testing_support::ScopedWorkers;

// Every operation on the widest instruction set this CPU runs (or the scalar reference):
// the batch must give the bits of whatever kernels run.
std::vector<llm::kernels::Plan> plans()
{
    using namespace llm::kernels;
    static rt::CpuFeatures cpu = rt::detect_cpu_features();
    std::vector<Plan> result { Plan {} };
    Plan widest;
    for (size_t op = 0; op < op_count; ++op)
        for (size_t v = 0; v < variant_count(Op(op)); ++v)
            if (can_run(variant_isa(Op(op), v), cpu))
                widest.choice[op] = u8(v);
    result.push_back(widest);
    return result;
}

std::vector<float> copy(const float* logits) { return std::vector<float>(logits, logits + vocab); }

// Bits, not values: -0.0 and 0.0, or two NaNs, would pass a float comparison.
void expect_same_bits(std::vector<float> const& a, std::vector<float> const& b, std::string const& where)
{
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << where << ": first logit " << a[0] << " vs " << b[0];
}

// What token-by-token processing gives: the logits after the prompt, after each sampled
// token and after a later turn, and the sampled tokens.
struct Run {
    std::vector<std::vector<float>> logits;
    std::vector<i32> sampled;
};

constexpr int generated_steps = 4;

// The prompt (36 tokens: batches of 16 + 16 + 4), a few sampled tokens, then a turn of 18
// tokens at a later position, as a chat's next message; batch 1 runs them token by token.
Run run(llm::Transformer& transformer, std::vector<i32> const& prompt, std::vector<i32> const& turn)
{
    Run result;
    auto sampler = llm::Sampler::create(vocab, 0.8f, 0.9f, 7).release_value();
    result.logits.push_back(copy(transformer.forward_batch({ prompt.data(), prompt.size() }, 0)));
    i32 position = i32(prompt.size());
    for (int step = 0; step < generated_steps; ++step, ++position) {
        i32 token = sampler.sample(result.logits.back().data()).release_value();
        result.sampled.push_back(token);
        result.logits.push_back(copy(transformer.forward(token, position)));
    }
    result.logits.push_back(copy(transformer.forward_batch({ turn.data(), turn.size() }, position)));
    return result;
}

// The prompt and the later turn every test runs.
struct Prompts {
    std::vector<i32> prompt, turn;
};
Prompts random_prompts()
{
    u64 state = 99;
    Prompts p { std::vector<i32>(36), std::vector<i32>(18) };
    for (auto& t : p.prompt)
        t = i32(next_random(state) % vocab);
    for (auto& t : p.turn)
        t = i32(next_random(state) % vocab);
    return p;
}

void expect_batches_match_tokens(llm::Checkpoint const& checkpoint, std::string const& name)
{
    auto [prompt, turn] = random_prompts();
    for (auto const& plan : plans()) {
        llm::kernels::activate(plan);
        // Token by token on one worker (the project's rule: results do not depend on the
        // worker count), against batches on one, two and three.
        auto one = llm::Transformer::create(checkpoint, 1);
        ASSERT_FALSE(one.is_error()) << message(one.error());
        ASSERT_EQ(one.value().batch_capacity(), 1);
        Run expected = run(one.value(), prompt, turn);
        for (size_t workers : { 1u, 2u, 3u }) {
            std::string where = name + " plan " + std::to_string(plan.choice[0]) + ", " + std::to_string(workers) + " worker(s)";
            ScopedWorkers pool(workers);
            auto batched = llm::Transformer::create(checkpoint, 16, true);
            ASSERT_FALSE(batched.is_error()) << message(batched.error());
            ASSERT_EQ(batched.value().batch_capacity(), 16);
            Run got = run(batched.value(), prompt, turn);
            EXPECT_EQ(got.sampled, expected.sampled) << where;
            ASSERT_EQ(got.logits.size(), expected.logits.size());
            for (size_t i = 0; i < got.logits.size(); ++i)
                expect_same_bits(expected.logits[i], got.logits[i],
                    where + (i == 0 ? ", prompt" : i + 1 == got.logits.size() ? ", later turn" : ", generated token " + std::to_string(i)));
        }
    }
    llm::kernels::activate({});
}

TEST(Batch, Float32MatchesTokenByToken)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = llama2c_checkpoint(1);
    auto checkpoint = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    expect_batches_match_tokens(checkpoint.value(), "F32");
}

TEST(Batch, Int8MatchesTokenByToken)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = llama2c_checkpoint(2);
    auto checkpoint = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    ASSERT_FALSE(llm::quantize_checkpoint(checkpoint.value(), 32).is_error());
    ASSERT_EQ(checkpoint.value().weights.layers[0].w1.type, llm::TensorType::Q8);
    expect_batches_match_tokens(checkpoint.value(), "Q8");
}

// Token by token, the interleaved model gives the plain one's bits on every plan.
void expect_same_as_plain(llm::Checkpoint const& plain, llm::Checkpoint const& interleaved, std::string const& name)
{
    auto [prompt, turn] = random_prompts();
    for (auto const& plan : plans()) {
        llm::kernels::activate(plan);
        auto a = llm::Transformer::create(plain, 1);
        auto b = llm::Transformer::create(interleaved, 1);
        ASSERT_FALSE(a.is_error() || b.is_error());
        struct Run expected = run(a.value(), prompt, turn);
        struct Run got = run(b.value(), prompt, turn);
        EXPECT_EQ(got.sampled, expected.sampled);
        for (size_t i = 0; i < got.logits.size(); ++i)
            expect_same_bits(expected.logits[i], got.logits[i],
                "plain against interleaved " + name + ", plan " + std::to_string(plan.choice[0]) + ", logits " + std::to_string(i));
    }
    llm::kernels::activate({});
}

// quant=q8's int8 matrices (group 32) repacked at load with their scales (Q8x8), the
// embedding and the tied classifier included: batches give token by token's bits, and
// token by token the plain int8 model's.
TEST(Batch, InterleavedInt8MatchesPlainInt8)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = llama2c_checkpoint(2);
    auto plain = llm::load_checkpoint({ bytes.data(), bytes.size() });
    auto checkpoint = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(plain.is_error() || checkpoint.is_error());
    ASSERT_FALSE(llm::quantize_checkpoint(plain.value(), 32).is_error());
    ASSERT_FALSE(llm::quantize_checkpoint(checkpoint.value(), 32).is_error());
    auto repacked = llm::interleave_weights(checkpoint.value().weights, { bytes.data(), bytes.size() });
    ASSERT_FALSE(repacked.is_error()) << message(repacked.error());
    auto const& w = checkpoint.value().weights;
    EXPECT_EQ(repacked.value(), size_t(1 + 7 * layers));
    EXPECT_EQ(w.layers[0].w2.type, llm::TensorType::Q8x8);
    EXPECT_EQ(w.embedding.type, llm::TensorType::Q8x8);
    EXPECT_EQ(w.classifier.type, llm::TensorType::Q8x8);
    expect_batches_match_tokens(checkpoint.value(), "Q8x8");
    expect_same_as_plain(plain.value(), checkpoint.value(), "Q8");
}

class GgufBatch : public ::testing::TestWithParam<llm::TensorType> { };

TEST_P(GgufBatch, MatchesTokenByToken)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = gguf_model(GetParam(), 3 + u64(GetParam()));
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error()) << message(file.error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    ASSERT_EQ(checkpoint.value().weights.layers[0].w1.type, GetParam());
    expect_batches_match_tokens(checkpoint.value(), llm::name(GetParam()));
}

// A model of F16 or BF16 matrices gives the bits of the same model with its matrices'
// values in F32 (both conversions are exact, and the rows are added in the same order), on
// every plan: the 16-bit kernels read the right values, not merely their own reference's.
void expect_same_as_its_floats(llm::TensorType type)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = gguf_model(type, 5);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error()) << message(file.error());
    auto sixteen = llm::load_gguf_checkpoint(file.value());
    auto floats = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(sixteen.is_error() || floats.is_error());
    std::vector<std::vector<float>> storage;
    auto as_floats = [&](llm::Tensor& t) {
        ASSERT_EQ(t.type, type);
        storage.emplace_back(size_t(t.rows) * size_t(t.cols));
        for (i32 r = 0; r < t.rows; ++r)
            llm::dequantize_row(t, size_t(r), storage.back().data() + size_t(r) * size_t(t.cols));
        t = llm::Tensor { llm::TensorType::F32, t.rows, t.cols, reinterpret_cast<const u8*>(storage.back().data()) };
    };
    auto& w = floats.value().weights;
    as_floats(w.embedding);
    as_floats(w.classifier);
    for (auto& layer : w.layers.span())
        for (llm::Tensor* t : { &layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w1, &layer.w2, &layer.w3 })
            as_floats(*t);
    // The largest weight is some 2^-6: the conversion did not make them all zero.
    EXPECT_NE(storage.back()[0], 0.0f);
    expect_same_as_plain(floats.value(), sixteen.value(), llm::name(type));
}

TEST(GgufBatch, F16ModelIsTheF32ModelOfItsValues) { expect_same_as_its_floats(llm::TensorType::F16); }
TEST(GgufBatch, Bf16ModelIsTheF32ModelOfItsValues) { expect_same_as_its_floats(llm::TensorType::BF16); }

// Q4_0, Q8_0, Q4_K, Q5_K and Q6_K matrices repacked at load (interleave.h), the embedding and the tied
// classifier included: batches still give token by token's bits, and token by token gives
// the plain model's bits, on every plan.
void expect_interleaved_matches_plain(llm::TensorType type, llm::TensorType interleaved)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto bytes = gguf_model(type, 11);
    auto plain_bytes = bytes;
    auto plain_file = llm::gguf::File::parse({ plain_bytes.data(), plain_bytes.size() });
    ASSERT_FALSE(plain_file.is_error()) << message(plain_file.error());
    auto plain = llm::load_gguf_checkpoint(plain_file.value());
    ASSERT_FALSE(plain.is_error()) << message(plain.error());
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error()) << message(file.error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    auto repacked = llm::interleave_weights(checkpoint.value().weights, { bytes.data(), bytes.size() });
    ASSERT_FALSE(repacked.is_error()) << message(repacked.error());
    auto const& w = checkpoint.value().weights;
    EXPECT_EQ(repacked.value(), size_t(1 + 7 * layers)); // the tied classifier is the embedding
    EXPECT_EQ(w.layers[0].wk.type, interleaved);
    EXPECT_EQ(w.embedding.type, interleaved);
    EXPECT_EQ(w.classifier.type, interleaved);
    expect_batches_match_tokens(checkpoint.value(), llm::name(interleaved));
    expect_same_as_plain(plain.value(), checkpoint.value(), llm::name(type));
}

TEST(GgufBatch, InterleavedQ4_0MatchesPlainQ4_0) { expect_interleaved_matches_plain(llm::TensorType::Q4_0, llm::TensorType::Q4_0x8); }
TEST(GgufBatch, InterleavedQ8_0MatchesPlainQ8_0) { expect_interleaved_matches_plain(llm::TensorType::Q8_0, llm::TensorType::Q8_0x8); }
TEST(GgufBatch, InterleavedQ4KMatchesPlainQ4K) { expect_interleaved_matches_plain(llm::TensorType::Q4_K, llm::TensorType::Q4_Kx8); }
TEST(GgufBatch, InterleavedQ5KMatchesPlainQ5K) { expect_interleaved_matches_plain(llm::TensorType::Q5_K, llm::TensorType::Q5_Kx8); }
TEST(GgufBatch, InterleavedQ6KMatchesPlainQ6K) { expect_interleaved_matches_plain(llm::TensorType::Q6_K, llm::TensorType::Q6_Kx8); }

INSTANTIATE_TEST_SUITE_P(Types, GgufBatch,
    ::testing::Values(llm::TensorType::F16, llm::TensorType::BF16, llm::TensorType::IQ4_NL, llm::TensorType::IQ4_XS, llm::TensorType::Q2_K, llm::TensorType::Q4_1, llm::TensorType::Q8_0, llm::TensorType::Q4_0, llm::TensorType::Q4_K, llm::TensorType::Q6_K,
        llm::TensorType::Q5_0, llm::TensorType::Q5_1),
    [](auto const& info) { return std::string(llm::name(info.param)); });

// The batch kernels (x86/batch_rows.h) directly: every (row, token) result has the bits of
// the scalar reference's one-token product, at row counts and token counts that are not
// multiples of anything (the token blocks and their remainders), with int8 rows
// whose group count leaves a remainder after the blocks of eight.
struct TokenInputs {
    std::vector<std::vector<i8>> q;
    std::vector<std::vector<float>> s;
    std::vector<std::vector<i32>> sums, sums16;
    std::vector<llm::MatmulInput> inputs;
};

TokenInputs random_inputs(i32 tokens, i32 n, u64& state)
{
    TokenInputs in;
    for (i32 t = 0; t < tokens; ++t) {
        std::vector<float> x(size_t(n), 0.0f);
        for (auto& v : x)
            v = random_float(state, t % 2 ? 3.0f : 0.5f);
        in.q.emplace_back(size_t(n));
        in.s.emplace_back(size_t(n / 32));
        in.sums.emplace_back(size_t(n / 32));
        in.sums16.emplace_back(size_t(n / 16));
        llm::ops::quantize(in.q.back().data(), in.s.back().data(), x.data(), n, 32);
        llm::ops::group_sums(in.sums.back().data(), in.q.back().data(), n, 32);
        llm::ops::group_sums(in.sums16.back().data(), in.q.back().data(), n, 16);
    }
    for (i32 t = 0; t < tokens; ++t)
        in.inputs.push_back({ nullptr, in.q[size_t(t)].data(), in.s[size_t(t)].data(), in.sums[size_t(t)].data(), in.sums16[size_t(t)].data() });
    return in;
}

using BatchKernel = void (*)(float*, size_t, const llm::MatmulInput*, i32, const u8*, i32, i32);
using Int8BatchKernel = void (*)(float*, size_t, const llm::MatmulInput*, i32, const i8*, const float*, i32, i32);
struct BatchSet {
    const char* name;
    llm::kernels::Isa isa;
    Int8BatchKernel q8;
    BatchKernel q4_k, q6_k, q8_0, q4_0, q5_k, q3_k, q5_0, q5_1, q2_k, q4_1, iq4_nl;
};

std::vector<BatchSet> batch_sets()
{
    using namespace llm::kernels;
    static rt::CpuFeatures cpu = rt::detect_cpu_features();
    std::vector<BatchSet> sets;
    for (BatchSet set : { BatchSet { "avx2", Isa::Avx2, avx2::q8_rows_batch, avx2::q4_k_rows_batch, avx2::q6_k_rows_batch, avx2::q8_0_rows_batch, avx2::q4_0_rows_batch,
                 avx2::q5_k_rows_batch, avx2::q3_k_rows_batch, avx2::q5_0_rows_batch, avx2::q5_1_rows_batch, avx2::q2_k_rows_batch, avx2::q4_1_rows_batch, avx2::iq4_nl_rows_batch },
             BatchSet { "avx512", Isa::Avx512, avx512::q8_rows_batch, avx512::q4_k_rows_batch, avx512::q6_k_rows_batch, avx512::q8_0_rows_batch,
                 avx512::q4_0_rows_batch, avx512::q5_k_rows_batch, avx512::q3_k_rows_batch, avx512::q5_0_rows_batch, avx512::q5_1_rows_batch, avx512::q2_k_rows_batch, avx512::q4_1_rows_batch, avx512::iq4_nl_rows_batch },
             // The VNNI sets have a Q8_0 kernel of their own (w + 128 against x, the block sums
             // taken off) and take their base set's others.
             BatchSet { "avxvnni", Isa::AvxVnni, avx2::q8_rows_batch, avx2::q4_k_rows_batch, avx2::q6_k_rows_batch, avxvnni::q8_0_rows_batch,
                 avx2::q4_0_rows_batch, avx2::q5_k_rows_batch, avx2::q3_k_rows_batch, avx2::q5_0_rows_batch, avx2::q5_1_rows_batch, avx2::q2_k_rows_batch, avx2::q4_1_rows_batch, avx2::iq4_nl_rows_batch },
             BatchSet { "avx512vnni", Isa::Avx512Vnni, avx512::q8_rows_batch, avx512::q4_k_rows_batch, avx512::q6_k_rows_batch,
                 avx512vnni::q8_0_rows_batch, avx512::q4_0_rows_batch, avx512::q5_k_rows_batch,
                 avx512::q3_k_rows_batch, avx512::q5_0_rows_batch, avx512::q5_1_rows_batch, avx512::q2_k_rows_batch, avx512::q4_1_rows_batch, avx512::iq4_nl_rows_batch } })
        if (can_run(set.isa, cpu))
            sets.push_back(set);
    return sets;
}

// 11 tokens: a block of eight (AVX-512 VNNI's pairs of groups) and three, two blocks of
// four and three, five of two and one.
constexpr i32 awkward_rows = 19, most_tokens = 11;

TEST(BatchKernels, Int8RowsMatchTheReferenceForEveryToken)
{
    u64 state = 17;
    constexpr i32 n = 32 * 11; // one block of eight groups and three single groups
    std::vector<i8> wq(size_t(awkward_rows) * n);
    for (auto& w : wq)
        w = i8(next_random(state) >> 56); // -128 included: the bound allows it
    std::vector<float> ws(wq.size() / 32, 0.0f);
    for (auto& s : ws)
        s = random_float(state, 0.01f);
    for (auto const& set : batch_sets())
        for (i32 tokens = 1; tokens <= most_tokens; ++tokens) {
            auto in = random_inputs(tokens, n, state);
            size_t stride = awkward_rows + 5;
            std::vector<float> got(size_t(tokens) * stride, -1.0f);
            set.q8(got.data(), stride, in.inputs.data(), tokens, wq.data(), ws.data(), n, awkward_rows);
            for (i32 t = 0; t < tokens; ++t) {
                std::vector<float> expected(awkward_rows);
                llm::ops::matmul_q8(expected.data(), in.q[size_t(t)].data(), in.s[size_t(t)].data(), wq.data(), ws.data(), n, awkward_rows, 32);
                EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(t) * stride, sizeof(float) * awkward_rows), 0)
                    << set.name << ", " << tokens << " tokens, token " << t;
            }
        }
}

// n: 512 values (two k-quant super-blocks; sixteen Q8_0/Q4_0/Q5_0/Q5_1 blocks) or, for the
// types of 32-value blocks, 352 (one run of eight blocks and three single ones).
void expect_block_batches_match(llm::TensorType type, i32 n)
{
    u64 state = 23 + u64(type);
    auto blocks = random_tensor(type, awkward_rows, u64(n), state);
    for (auto const& set : batch_sets())
        for (i32 tokens = 1; tokens <= most_tokens; ++tokens) {
            auto in = random_inputs(tokens, n, state);
            size_t stride = awkward_rows + 3;
            std::vector<float> got(size_t(tokens) * stride, -1.0f);
            BatchKernel batch = type == llm::TensorType::Q4_K ? set.q4_k
                : type == llm::TensorType::Q6_K               ? set.q6_k
                : type == llm::TensorType::Q5_K               ? set.q5_k
                : type == llm::TensorType::Q3_K               ? set.q3_k
                : type == llm::TensorType::Q2_K               ? set.q2_k
                : type == llm::TensorType::Q4_1               ? set.q4_1
                : type == llm::TensorType::IQ4_NL             ? set.iq4_nl
                : type == llm::TensorType::Q8_0               ? set.q8_0
                : type == llm::TensorType::Q5_0               ? set.q5_0
                : type == llm::TensorType::Q5_1               ? set.q5_1
                                                              : set.q4_0;
            batch(got.data(), stride, in.inputs.data(), tokens, blocks.data(), n, awkward_rows);
            for (i32 t = 0; t < tokens; ++t) {
                std::vector<float> expected(awkward_rows);
                const i8* q = in.q[size_t(t)].data();
                const float* s = in.s[size_t(t)].data();
                switch (type) {
                case llm::TensorType::Q4_K: llm::ops::matmul_q4_k(expected.data(), q, s, in.sums[size_t(t)].data(), blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q6_K: llm::ops::matmul_q6_k(expected.data(), q, s, in.sums[size_t(t)].data(), blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q5_K: llm::ops::matmul_q5_k(expected.data(), q, s, in.sums[size_t(t)].data(), blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q3_K: llm::ops::matmul_q3_k(expected.data(), q, s, nullptr, blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q2_K: llm::ops::matmul_q2_k(expected.data(), q, s, nullptr, blocks.data(), n, awkward_rows); break;
                case llm::TensorType::IQ4_NL: llm::ops::matmul_iq4_nl(expected.data(), q, s, blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q4_1: llm::ops::matmul_q4_1(expected.data(), q, s, in.sums[size_t(t)].data(), blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q8_0: llm::ops::matmul_q8_0(expected.data(), q, s, blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q5_0: llm::ops::matmul_q5_0(expected.data(), q, s, in.sums[size_t(t)].data(), blocks.data(), n, awkward_rows); break;
                case llm::TensorType::Q5_1: llm::ops::matmul_q5_1(expected.data(), q, s, in.sums[size_t(t)].data(), blocks.data(), n, awkward_rows); break;
                default: llm::ops::matmul_q4_0(expected.data(), q, s, blocks.data(), n, awkward_rows); break;
                }
                EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(t) * stride, sizeof(float) * awkward_rows), 0)
                    << set.name << " " << llm::name(type) << " n " << n << ", " << tokens << " tokens, token " << t;
            }
        }
}

TEST(BatchKernels, Q4KRowsMatchTheReferenceForEveryToken) { expect_block_batches_match(llm::TensorType::Q4_K, 512); }
TEST(BatchKernels, Q6KRowsMatchTheReferenceForEveryToken) { expect_block_batches_match(llm::TensorType::Q6_K, 512); }
TEST(BatchKernels, Q5KRowsMatchTheReferenceForEveryToken) { expect_block_batches_match(llm::TensorType::Q5_K, 512); }
TEST(BatchKernels, Q3KRowsMatchTheReferenceForEveryToken) { expect_block_batches_match(llm::TensorType::Q3_K, 512); }
TEST(BatchKernels, Q2KRowsMatchTheReferenceForEveryToken) { expect_block_batches_match(llm::TensorType::Q2_K, 512); }
// AVX-512 VNNI's rows with the tokens in the vector lanes (token_lanes.h), Q2_K, IQ4_XS
// and IQ4_NL: passes of sixteen tokens (1 to 70: partial passes, one, two and a half, the
// four held at once and past them), rows of 1, 9 and 33 units of 256 values (33: past the
// other Q2_K batch kernel's limit; IQ4_NL also 9 and a half: a last run of four blocks),
// 19 rows (pairs and one alone) and 37 (past the 32 held at once); a row at the bounds
// (Q2_K: every value 3, every scale and min 15; the IQ4 types: every value -127 or 113)
// against the largest inputs as well as random ones.
void expect_token_lanes_match(llm::TensorType type)
{
    static rt::CpuFeatures cpu = rt::detect_cpu_features();
    if (!llm::kernels::can_run(llm::kernels::Isa::Avx512Vnni, cpu))
        GTEST_SKIP() << "no AVX-512 VNNI here";
    namespace k = llm::kernels;
    BatchKernel lanes = type == llm::TensorType::Q2_K ? k::avx512vnni::q2_k_token_lanes_batch
        : type == llm::TensorType::IQ4_XS            ? k::avx512vnni::iq4_xs_token_lanes_batch
                                                     : k::avx512vnni::iq4_nl_token_lanes_batch;
    u64 state = 41 + u64(type);
    std::vector<i32> lengths { 256, 256 * 9, 256 * 33 };
    if (type == llm::TensorType::IQ4_NL)
        lengths.push_back(256 * 9 + 128);
    for (i32 rows : { awkward_rows, 37 })
        for (i32 n : lengths) {
            auto blocks = random_tensor(type, u64(rows), u64(n), state);
            u8* extreme = blocks.data() + 3 * llm::row_bytes(type, n);
            if (type == llm::TensorType::Q2_K) {
                for (i32 b = 0; b < n / 256; ++b)
                    std::memset(extreme + 84 * b, 0xFF, 80);
            } else if (type == llm::TensorType::IQ4_XS) {
                for (i32 b = 0; b < n / 256; ++b) // nibbles 0 and 15: -127 and 113
                    std::memset(extreme + 136 * b + 8, b % 2 ? 0xF0 : 0x00, 128);
            } else {
                for (i32 b = 0; b < n / 32; ++b)
                    std::memset(extreme + 18 * b + 2, b % 2 ? 0x0F : 0x00, 16);
            }
            for (i32 tokens : { 1, 2, 15, 16, 17, 33, 40, 64, 70 }) {
                auto in = random_inputs(tokens, n, state);
                for (i32 i = 0; i < n; ++i) // token 0 at the input bounds
                    in.q[0][size_t(i)] = i8(i % 3 == 0 ? -127 : 127);
                llm::ops::group_sums(in.sums[0].data(), in.q[0].data(), n, 32);
                size_t stride = size_t(rows) + 3;
                std::vector<float> got(size_t(tokens) * stride, -1.0f);
                lanes(got.data(), stride, in.inputs.data(), tokens, blocks.data(), n, rows);
                for (i32 t = 0; t < tokens; ++t) {
                    std::vector<float> expected(static_cast<size_t>(rows));
                    const i8* q = in.q[size_t(t)].data();
                    const float* s = in.s[size_t(t)].data();
                    if (type == llm::TensorType::Q2_K)
                        llm::ops::matmul_q2_k(expected.data(), q, s, nullptr, blocks.data(), n, rows);
                    else if (type == llm::TensorType::IQ4_XS)
                        llm::ops::matmul_iq4_xs(expected.data(), q, s, in.sums[size_t(t)].data(), blocks.data(), n, rows);
                    else
                        llm::ops::matmul_iq4_nl(expected.data(), q, s, blocks.data(), n, rows);
                    EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(t) * stride, sizeof(float) * size_t(rows)), 0)
                        << llm::name(type) << ", " << rows << " rows, n " << n << ", " << tokens << " tokens, token " << t;
                    for (size_t i = size_t(rows); i < stride; ++i) // nothing written between the rows
                        EXPECT_EQ(got[size_t(t) * stride + i], -1.0f);
                }
            }
        }
}
TEST(BatchKernels, Q2KTokenLanesMatchTheReferenceForEveryToken) { expect_token_lanes_match(llm::TensorType::Q2_K); }
TEST(BatchKernels, Iq4XsTokenLanesMatchTheReferenceForEveryToken) { expect_token_lanes_match(llm::TensorType::IQ4_XS); }
TEST(BatchKernels, Iq4NlTokenLanesMatchTheReferenceForEveryToken) { expect_token_lanes_match(llm::TensorType::IQ4_NL); }

TEST(BatchKernels, Q8_0RowsMatchTheReferenceForEveryToken)
{
    expect_block_batches_match(llm::TensorType::Q8_0, 512);
    expect_block_batches_match(llm::TensorType::Q8_0, 352);
}
TEST(BatchKernels, Q5_0Q5_1AndQ4_1RowsMatchTheReferenceForEveryToken)
{
    for (auto type : { llm::TensorType::Q5_0, llm::TensorType::Q5_1, llm::TensorType::Q4_1 }) {
        expect_block_batches_match(type, 512);
        expect_block_batches_match(type, 352);
    }
}
TEST(BatchKernels, Q4_0RowsMatchTheReferenceForEveryToken)
{
    expect_block_batches_match(llm::TensorType::Q4_0, 512);
    expect_block_batches_match(llm::TensorType::Q4_0, 352);
}
TEST(BatchKernels, Iq4NlRowsMatchTheReferenceForEveryToken)
{
    expect_block_batches_match(llm::TensorType::IQ4_NL, 512);
    expect_block_batches_match(llm::TensorType::IQ4_NL, 352);
}

// F32, F16 and BF16 rows (simd_kernels.h's matmul_batch_any): every (row, token) has the scalar
// reference's bits, for rows whose length leaves a tail after the 32 lanes and one that
// does not, 19 rows (AVX-512's tiles of four and three left), 1 to 11 tokens (AVX-512's blocks
// of three with two or one left, AVX2's of two).
TEST(BatchKernels, FloatRowsMatchTheReferenceForEveryToken)
{
    using namespace llm::kernels;
    using FloatBatch = void (*)(float*, size_t, const float* const*, i32, const float*, i32, i32);
    using HalfBatch = void (*)(float*, size_t, const float* const*, i32, const u8*, i32, i32);
    struct Set {
        const char* name;
        Isa isa;
        FloatBatch f32;
        HalfBatch f16, bf16;
    };
    static rt::CpuFeatures cpu = rt::detect_cpu_features();
    u64 state = 31;
    for (i32 n : { 32 * 3 + 7, 64 })
        for (Set set : { Set { "avx2", Isa::Avx2, avx2::f32_rows_batch, avx2::f16_rows_batch, avx2::bf16_rows_batch },
                 Set { "avx512", Isa::Avx512, avx512::f32_rows_batch, avx512::f16_rows_batch, avx512::bf16_rows_batch } }) {
            if (!can_run(set.isa, cpu))
                continue;
            std::vector<float> w(size_t(awkward_rows) * size_t(n));
            for (auto& v : w)
                v = random_float(state, 1.0f);
            // Halves: small finite ones (exponent bits 0x3800-0x3BFF: 0.5 to 1), either sign.
            std::vector<u16> halves(w.size());
            for (auto& h : halves)
                h = u16(0x3800 | (next_random(state) >> 54) | ((next_random(state) >> 63) << 15));
            // bfloat16: the floats' upper halves (their lower bits dropped).
            std::vector<u16> bfloats(w.size());
            for (size_t i = 0; i < w.size(); ++i)
                bfloats[i] = u16(__builtin_bit_cast(u32, w[i]) >> 16);
            for (i32 tokens = 1; tokens <= most_tokens; ++tokens) {
                std::vector<std::vector<float>> x;
                std::vector<const float*> xs;
                for (i32 t = 0; t < tokens; ++t) {
                    x.emplace_back(size_t(n));
                    for (auto& v : x.back())
                        v = random_float(state, t % 2 ? 3.0f : 0.5f);
                    xs.push_back(x.back().data());
                }
                size_t stride = awkward_rows + 2;
                std::vector<float> got(size_t(tokens) * stride, -1.0f), got_halves(got), got_bfloats(got);
                set.f32(got.data(), stride, xs.data(), tokens, w.data(), n, awkward_rows);
                set.f16(got_halves.data(), stride, xs.data(), tokens, reinterpret_cast<const u8*>(halves.data()), n, awkward_rows);
                set.bf16(got_bfloats.data(), stride, xs.data(), tokens, reinterpret_cast<const u8*>(bfloats.data()), n, awkward_rows);
                for (i32 t = 0; t < tokens; ++t) {
                    std::vector<float> expected(awkward_rows), expected_halves(awkward_rows), expected_bfloats(awkward_rows);
                    llm::ops::matmul(expected.data(), xs[size_t(t)], w.data(), n, awkward_rows);
                    llm::ops::matmul_f16(expected_halves.data(), xs[size_t(t)], reinterpret_cast<const u8*>(halves.data()), n, awkward_rows);
                    llm::ops::matmul_bf16(expected_bfloats.data(), xs[size_t(t)], reinterpret_cast<const u8*>(bfloats.data()), n, awkward_rows);
                    EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(t) * stride, sizeof(float) * awkward_rows), 0)
                        << set.name << " F32 n " << n << ", " << tokens << " tokens, token " << t;
                    EXPECT_EQ(std::memcmp(expected_halves.data(), got_halves.data() + size_t(t) * stride, sizeof(float) * awkward_rows), 0)
                        << set.name << " F16 n " << n << ", " << tokens << " tokens, token " << t;
                    EXPECT_EQ(std::memcmp(expected_bfloats.data(), got_bfloats.data() + size_t(t) * stride, sizeof(float) * awkward_rows), 0)
                        << set.name << " BF16 n " << n << ", " << tokens << " tokens, token " << t;
                }
            }
        }
}

// The interleaved types' batch kernels (interleaved_batch.h; AVX-512 VNNI's two groups a
// vector, paired_groups_batch.h), in every set the CPU runs, VNNI included: every (row,
// token) has the bits of the plain type's scalar reference, at one to five groups of eight
// rows (a lone group, pairs, pairs and a lone group), 1 to 11 tokens (blocks of eight or
// four and the rest), Q4_0 and Q8_0 rows with and without a remainder after the runs of eight
// blocks, Q8_0 with the inputs' group sums and without.
void expect_interleaved_batches_match(llm::TensorType type, i32 n, i32 rows)
{
    u64 state = 41 + u64(type) + u64(rows);
    auto plain = random_tensor(type, u64(rows), u64(n), state);
    auto blocks = plain;
    llm::Tensor t { type, rows, n, blocks.data() };
    std::vector<u8> scratch(8 * t.row_bytes());
    llm::interleave(t, blocks.data(), { scratch.data(), scratch.size() });
    using namespace llm::kernels;
    static rt::CpuFeatures cpu = rt::detect_cpu_features();
    i32 kind = type == llm::TensorType::Q4_0 ? 0
        : type == llm::TensorType::Q4_K      ? 1
        : type == llm::TensorType::Q6_K      ? 2
        : type == llm::TensorType::Q8_0      ? 3
                                             : 4;
    struct Set {
        const char* name;
        Isa isa;
        BatchKernel kernels[5];
    };
#define BAREFLOW_TEST_SET(isa, enumerator) \
    Set { #isa, Isa::enumerator, { isa::q4_0x8_rows_batch, isa::q4_kx8_rows_batch, isa::q6_kx8_rows_batch, isa::q8_0x8_rows_batch, isa::q5_kx8_rows_batch } }
    for (Set set : { BAREFLOW_TEST_SET(avx2, Avx2), BAREFLOW_TEST_SET(avxvnni, AvxVnni), BAREFLOW_TEST_SET(avx512, Avx512), BAREFLOW_TEST_SET(avx512vnni, Avx512Vnni) }) {
#undef BAREFLOW_TEST_SET
        if (!can_run(set.isa, cpu))
            continue;
        // Q8_0x8 with the inputs' group sums (VNNI's offset) and without (|w| and sign(x, w)).
        for (i32 tokens = 1; tokens <= most_tokens; ++tokens)
            for (bool with_sums : { true, false }) {
                if (!with_sums && kind != 3)
                    continue;
                auto in = random_inputs(tokens, n, state);
                if (!with_sums)
                    for (auto& input : in.inputs)
                        input.sums = nullptr;
                size_t stride = size_t(rows) + 3;
                std::vector<float> got(size_t(tokens) * stride, -1.0f);
                set.kernels[kind](got.data(), stride, in.inputs.data(), tokens, blocks.data(), n, rows);
                for (i32 k = 0; k < tokens; ++k) {
                    std::vector<float> expected(static_cast<size_t>(rows));
                    const i8* q = in.q[size_t(k)].data();
                    const float* s = in.s[size_t(k)].data();
                    if (kind == 0)
                        llm::ops::matmul_q4_0(expected.data(), q, s, plain.data(), n, rows);
                    else if (kind == 1)
                        llm::ops::matmul_q4_k(expected.data(), q, s, in.sums[size_t(k)].data(), plain.data(), n, rows);
                    else if (kind == 2)
                        llm::ops::matmul_q6_k(expected.data(), q, s, nullptr, plain.data(), n, rows);
                    else if (kind == 4)
                        llm::ops::matmul_q5_k(expected.data(), q, s, in.sums[size_t(k)].data(), plain.data(), n, rows);
                    else
                        llm::ops::matmul_q8_0(expected.data(), q, s, plain.data(), n, rows);
                    EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(k) * stride, sizeof(float) * size_t(rows)), 0)
                        << set.name << " " << llm::name(type) << "x8 n " << n << ", " << rows << " rows, " << tokens << " tokens, token " << k
                        << (with_sums ? "" : ", without sums");
                }
            }
    }
}

TEST(BatchKernels, InterleavedRowsMatchThePlainReferenceForEveryToken)
{
    for (i32 rows : { 8, 24, 32, 40 }) {
        expect_interleaved_batches_match(llm::TensorType::Q4_0, 512, rows);
        expect_interleaved_batches_match(llm::TensorType::Q4_0, 352, rows);
        expect_interleaved_batches_match(llm::TensorType::Q8_0, 512, rows);
        expect_interleaved_batches_match(llm::TensorType::Q8_0, 352, rows);
        expect_interleaved_batches_match(llm::TensorType::Q4_K, 512, rows);
        expect_interleaved_batches_match(llm::TensorType::Q5_K, 512, rows);
        expect_interleaved_batches_match(llm::TensorType::Q6_K, 512, rows);
    }
}

// Interleaved Q5_K batches at the int16 bound of the sets without VNNI (the one-token
// kernels' Q5KInterleavedRowsAtTheInt16Bound): every value 31 against inputs of +-127,
// one sign per group, in every set the CPU runs; the plain rows' reference decides.
TEST(BatchKernels, Q5KInterleavedBatchesAtTheInt16Bound)
{
    using namespace llm::kernels;
    static rt::CpuFeatures cpu = rt::detect_cpu_features();
    const i32 n = 512, rows = 24, tokens = 5;
    u64 state = 9;
    auto plain = random_tensor(llm::TensorType::Q5_K, u64(rows), u64(n), state);
    size_t bytes = llm::block_bytes(llm::TensorType::Q5_K);
    for (size_t at = 0; at < plain.size(); at += bytes)
        std::memset(plain.data() + at + 16, 0xFF, bytes - 16); // fifth bits and nibbles
    auto blocks = plain;
    llm::Tensor t { llm::TensorType::Q5_K, rows, n, blocks.data() };
    std::vector<u8> scratch(8 * t.row_bytes());
    llm::interleave(t, blocks.data(), { scratch.data(), scratch.size() });
    auto in = random_inputs(tokens, n, state);
    for (i32 k = 0; k < tokens; ++k) {
        auto& q = in.q[size_t(k)];
        for (i32 j = 0; j < n; ++j)
            q[size_t(j)] = (j / 32 + k) % 2 ? i8(-127) : i8(127);
        llm::ops::group_sums(in.sums[size_t(k)].data(), q.data(), n, 32);
    }
    struct Set {
        const char* name;
        Isa isa;
        BatchKernel kernel;
    };
    for (Set set : { Set { "avx2", Isa::Avx2, avx2::q5_kx8_rows_batch }, Set { "avxvnni", Isa::AvxVnni, avxvnni::q5_kx8_rows_batch },
             Set { "avx512", Isa::Avx512, avx512::q5_kx8_rows_batch }, Set { "avx512vnni", Isa::Avx512Vnni, avx512vnni::q5_kx8_rows_batch } }) {
        if (!can_run(set.isa, cpu))
            continue;
        size_t stride = size_t(rows) + 3;
        std::vector<float> got(size_t(tokens) * stride, -1.0f);
        set.kernel(got.data(), stride, in.inputs.data(), tokens, blocks.data(), n, rows);
        for (i32 k = 0; k < tokens; ++k) {
            std::vector<float> expected(static_cast<size_t>(rows));
            llm::ops::matmul_q5_k(expected.data(), in.q[size_t(k)].data(), in.s[size_t(k)].data(), in.sums[size_t(k)].data(), plain.data(), n, rows);
            EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(k) * stride, sizeof(float) * size_t(rows)), 0)
                << set.name << " token " << k << ": row 0 gives " << got[size_t(k) * stride] << ", reference " << expected[0];
        }
    }
}

// Q8x8's batch kernels (q8x8_batch.h; AVX-512 VNNI's pairs of groups with the sums,
// paired_groups_batch.h), in every set the CPU runs, VNNI included: every (row, token)
// has the bits of ops::matmul_q8 on the plain rows, at one to five groups of eight rows, 1 to 11 tokens, group counts with and without runs of eight, with the
// inputs' group sums and without (VNNI then takes |w| and sign(x, w)), weights at -128.
TEST(BatchKernels, InterleavedInt8RowsMatchThePlainReferenceForEveryToken)
{
    using namespace llm::kernels;
    using Int8x8BatchKernel = void (*)(float*, size_t, const llm::MatmulInput*, i32, const u8*, const float*, i32, i32);
    static rt::CpuFeatures cpu = rt::detect_cpu_features();
    struct Set {
        const char* name;
        Isa isa;
        Int8x8BatchKernel kernel;
    };
    u64 state = 77;
    for (i32 n : { 256, 352, 800 })
        for (i32 rows : { 8, 24, 32, 40 }) {
            size_t count = size_t(n) * size_t(rows);
            std::vector<float> w(count);
            for (auto& v : w)
                v = random_float(state, 1.0f);
            std::vector<i8> plain(count);
            std::vector<float> scales(count / 32);
            llm::ops::quantize(plain.data(), scales.data(), w.data(), i32(count), 32);
            for (size_t i = 0; i < count; i += 29)
                plain[i] = i8(-128);
            auto values = plain;
            auto repacked_scales = scales;
            llm::Tensor t { llm::TensorType::Q8, rows, n, reinterpret_cast<const u8*>(values.data()), repacked_scales.data(), 32 };
            std::vector<u8> scratch(llm::scratch_bytes(t));
            llm::interleave_q8(t, reinterpret_cast<u8*>(values.data()), repacked_scales.data(), { scratch.data(), scratch.size() });
            for (Set set : { Set { "avx2", Isa::Avx2, avx2::q8x8_rows_batch }, Set { "avxvnni", Isa::AvxVnni, avxvnni::q8x8_rows_batch },
                     Set { "avx512", Isa::Avx512, avx512::q8x8_rows_batch }, Set { "avx512vnni", Isa::Avx512Vnni, avx512vnni::q8x8_rows_batch } }) {
                if (!can_run(set.isa, cpu))
                    continue;
                for (i32 tokens = 1; tokens <= most_tokens; ++tokens)
                    for (bool with_sums : { true, false }) {
                        auto in = random_inputs(tokens, n, state);
                        if (!with_sums)
                            for (auto& input : in.inputs)
                                input.sums = nullptr;
                        size_t stride = size_t(rows) + 3;
                        std::vector<float> got(size_t(tokens) * stride, -1.0f);
                        set.kernel(got.data(), stride, in.inputs.data(), tokens, t.data, t.scales, n, rows);
                        for (i32 k = 0; k < tokens; ++k) {
                            std::vector<float> expected(static_cast<size_t>(rows));
                            llm::ops::matmul_q8(expected.data(), in.q[size_t(k)].data(), in.s[size_t(k)].data(), plain.data(), scales.data(), n, rows, 32);
                            EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(k) * stride, sizeof(float) * size_t(rows)), 0)
                                << set.name << " Q8x8 n " << n << ", " << rows << " rows, " << tokens << " tokens, token " << k
                                << (with_sums ? "" : ", without sums");
                        }
                    }
            }
        }
}

// rows_batch follows the plan: a batch kernel where the type's operation runs on AVX2 or
// AVX-512, none (false: token by token) on the scalar reference, nor on avx2tcg's Q8_0
// and interleaved rows, which are shaped for QEMU, where they beat avx2's batches.
TEST(BatchKernels, RowsBatchFollowsThePlan)
{
    u64 state = 5;
    constexpr i32 n = 256, d = 32;
    auto blocks = random_tensor(llm::TensorType::Q4_K, d, n, state);
    llm::Tensor w { llm::TensorType::Q4_K, d, n, blocks.data(), nullptr, 0 };
    auto in = random_inputs(3, n, state);
    std::vector<float> got(3 * d);
    auto all_plans = plans();
    llm::kernels::activate(all_plans.front());
    EXPECT_FALSE(llm::rows_batch(got.data(), d, { in.inputs.data(), 3 }, w, 16, 32));
    if (!batch_sets().empty()) {
        llm::kernels::activate(all_plans.back());
        EXPECT_TRUE(llm::rows_batch(got.data(), d, { in.inputs.data(), 3 }, w, 16, 32));
        std::vector<float> expected(16);
        for (i32 t = 0; t < 3; ++t) {
            llm::ops::matmul_q4_k(expected.data(), in.q[size_t(t)].data(), in.s[size_t(t)].data(), in.sums[size_t(t)].data(), w.row(16), n, 16);
            EXPECT_EQ(std::memcmp(expected.data(), got.data() + size_t(t) * d + 16, sizeof(float) * 16), 0) << t;
        }
    }
    auto cpu = rt::detect_cpu_features();
    if (llm::kernels::can_run(llm::kernels::Isa::Avx2, cpu)) {
        auto emulated = llm::kernels::Plan::parse("gguf_q8_0:avx2tcg,gguf_q4_0x8:avx2tcg,gguf_q4_kx8:avx2tcg,matmul_q8x8:avx2tcg", cpu).release_value();
        auto avx2 = llm::kernels::Plan::parse("gguf_q8_0:avx2,gguf_q4_0x8:avx2,gguf_q4_kx8:avx2,matmul_q8x8:avx2", cpu).release_value();
        // Zeros, room for any of the four types (Q8_0's blocks are the most bytes).
        std::vector<u8> zeros(size_t(d) * size_t(n) / 32 * 34);
        std::vector<float> scales(size_t(d) * size_t(n) / 32);
        for (auto type : { llm::TensorType::Q8_0, llm::TensorType::Q4_0x8, llm::TensorType::Q4_Kx8, llm::TensorType::Q8x8 }) {
            llm::Tensor interleaved { type, d, n, zeros.data(), scales.data(), type == llm::TensorType::Q8x8 ? 32 : 0 };
            llm::kernels::activate(avx2);
            EXPECT_TRUE(llm::rows_batch(got.data(), d, { in.inputs.data(), 3 }, interleaved, 16, 32)) << llm::name(type);
            llm::kernels::activate(emulated);
            EXPECT_FALSE(llm::rows_batch(got.data(), d, { in.inputs.data(), 3 }, interleaved, 16, 32)) << llm::name(type);
        }
    }
    llm::kernels::activate({});
}

TEST(Batch, TilesAreWholeGranulesThatFitTheCache)
{
    for (size_t tile_bytes : { llm::batch_tile_bytes, llm::unbatched_tile_bytes })
        for (size_t row_bytes : { 64u, 288u, 1024u, 1152u, 3168u, 4620u, 40000u }) {
            size_t rows = llm::batch_tile_rows(row_bytes, 16, tile_bytes);
            EXPECT_EQ(rows % 16, 0u) << row_bytes;
            if (16 * row_bytes > tile_bytes)
                EXPECT_EQ(rows, 16u) << row_bytes; // one granule: the least a tile can be
            else
                EXPECT_LE(rows * row_bytes, tile_bytes) << row_bytes;
            EXPECT_GT((rows + 16) * row_bytes, tile_bytes) << row_bytes; // no smaller than needed
        }
    EXPECT_EQ(llm::batch_tile_rows(1 << 20, 16), 16u); // one granule even when a row is bigger than the tile
    EXPECT_EQ(llm::batch_tile_rows(256, 32) % 32, 0u);
    // The default is the batch kernels' tile; rows run token by token get larger ones.
    EXPECT_EQ(llm::batch_tile_rows(1152, 8), llm::batch_tile_rows(1152, 8, llm::batch_tile_bytes));
    EXPECT_GT(llm::batch_tile_rows(1152, 8, llm::unbatched_tile_bytes), 8 * llm::batch_tile_rows(1152, 8));
}

TEST(Batch, ABatchThatDoesNotFitIsAClearErrorOrShrinks)
{
    std::vector<u8> model;
    REQUIRE_MODEL_FILE("stories260K.bin", model);
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = llm::load_checkpoint({ model.data(), model.size() }).release_value();
    u64 state = llm::Transformer::state_bytes(checkpoint.config);
    u64 batch = llm::BatchState::bytes(checkpoint.config, 64);
    ASSERT_GT(batch, 0u);
    // Room for the state and a bit, not for 64 tokens' activations: a filler takes the rest.
    u64 room = state + batch / 4 + (64 << 10);
    auto filler = rt::HeapArray<u8>::allocate(size_t(rt::Heap::the().largest_free_block() - room - 4096)).release_value();
    {
        auto shrunk = llm::Transformer::create(checkpoint, 64);
        ASSERT_FALSE(shrunk.is_error()) << message(shrunk.error());
        EXPECT_LT(shrunk.value().batch_capacity(), 64);
        EXPECT_GT(shrunk.value().batch_capacity(), 1);
    }
    auto required = llm::Transformer::create(checkpoint, 64, true);
    ASSERT_TRUE(required.is_error());
    EXPECT_NE(message(required.error()).find("a prompt batch of 64 tokens needs"), std::string::npos) << message(required.error());
}

// The story from a prompt longer than two batches: the same text, batched or not.
TEST(Batch, GenerateTellsTheSameStory)
{
    testing_support::DefaultModel files;
    REQUIRE_DEFAULT_MODEL(files);
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = files.load_checkpoint();
    auto tokenizer = files.load_tokenizer();
    const char* prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                         "One day, she saw a big, red ball. She wanted to play with it, but it was too high.";
    struct Sink final : rt::TextSink {
        void write(rt::StringView text) override { value.append(text.data(), text.length()); }
        std::string value;
    };
    std::string stories[2];
    i32 batches[2] = { 1, 8 };
    for (int i = 0; i < 2; ++i) {
        auto transformer = llm::Transformer::create(checkpoint, batches[i], true).release_value();
        auto sampler = llm::Sampler::create(512, 0.9f, 0.9f, 5).release_value();
        Sink out;
        auto stats = llm::generate(transformer, tokenizer, sampler, prompt, 160, out);
        ASSERT_FALSE(stats.is_error()) << message(stats.error());
        EXPECT_GT(stats.value().prompt_tokens, 2 * 8);
        EXPECT_GE(stats.value().prompt_cycles, stats.value().start_cycles);
        stories[i] = out.value;
    }
    EXPECT_EQ(stories[0], stories[1]);
    EXPECT_EQ(stories[0].rfind(prompt, 0), 0u) << "the prompt is echoed first";
}

}
