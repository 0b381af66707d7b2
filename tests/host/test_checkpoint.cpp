#include "../../app/llm/checkpoint.h"
#include "models.h"
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

// A checkpoint of the right size for its header, weights all zero.
std::vector<u8> make_checkpoint(std::vector<i32> header, i64 size_adjust = 0)
{
    i32 h[7];
    std::memcpy(h, header.data(), sizeof h);
    auto config = llm::validate_config(h);
    u64 floats = 0;
    if (!config.is_error()) {
        auto const& c = config.value();
        u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), layers = u64(c.n_layers), kv = u64(c.kv_dim());
        floats = u64(c.vocab_size) * dim * (c.shared_classifier ? 1 : 2) + layers * (2 * dim + 2 * dim * dim + 2 * kv * dim + 3 * hidden * dim)
            + dim + u64(c.seq_len) * u64(c.head_size());
    }
    std::vector<u8> bytes(size_t(i64(28 + floats * 4) + size_adjust));
    std::memcpy(bytes.data(), h, std::min<size_t>(28, bytes.size()));
    return bytes;
}

std::string load_error(std::vector<u8> const& bytes)
{
    auto result = llm::load_checkpoint({ bytes.data(), bytes.size() });
    if (!result.is_error())
        return "";
    return std::string(result.error().message().data(), result.error().message().length());
}

const std::vector<i32> tiny = { 16, 24, 2, 4, 2, 32, 8 };

TEST(Checkpoint, LoadsInPlaceWithTheRightOffsets)
{
    testing_support::ScopedHeap heap(1 << 20); // for the list of layers
    auto bytes = make_checkpoint(tiny);
    auto result = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(result.is_error()) << load_error(bytes);
    auto const& ck = result.value();
    EXPECT_EQ(ck.config.kv_dim(), 8);
    EXPECT_TRUE(ck.config.shared_classifier);
    auto base = reinterpret_cast<const float*>(bytes.data() + 28);
    auto const& w = ck.weights;
    EXPECT_EQ(w.embedding.floats(), base);
    EXPECT_EQ(w.layers[0].attention_norm.floats(), base + 32 * 16);
    EXPECT_EQ(w.layers[1].attention_norm.floats(), base + 32 * 16 + 16);
    // Each matrix kind is stored for every layer before the next kind begins.
    EXPECT_EQ(w.layers[1].wq.floats(), w.layers[0].wq.floats() + 16 * 16);
    EXPECT_EQ(w.layers[0].wk.floats(), w.layers[0].wq.floats() + 2 * 16 * 16);
    EXPECT_EQ(w.layers[0].wv.floats(), w.layers[0].wk.floats() + 2 * 8 * 16);
    EXPECT_EQ(w.layers[0].wk.rows, 8);
    EXPECT_EQ(w.layers[0].wk.cols, 16);
    EXPECT_EQ(w.layers[0].w2.rows, 16);
    EXPECT_EQ(w.layers[0].w2.cols, 24);
    EXPECT_EQ(w.layers[0].ffn_norm.floats(), w.layers[0].wo.floats() + 2 * 16 * 16);
    EXPECT_EQ(w.layers[0].w1.floats(), w.layers[0].ffn_norm.floats() + 2 * 16);
    EXPECT_EQ(w.classifier.data, w.embedding.data);
    EXPECT_EQ(w.final_norm.floats() + 16 + 8 * 4, reinterpret_cast<const float*>(bytes.data() + bytes.size()));
}

TEST(Checkpoint, SeparateClassifier)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto header = tiny;
    header[5] = -32;
    auto bytes = make_checkpoint(header);
    auto result = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(result.is_error()) << load_error(bytes);
    EXPECT_FALSE(result.value().config.shared_classifier);
    EXPECT_EQ(result.value().config.vocab_size, 32);
    EXPECT_EQ(result.value().weights.classifier.floats() + 32 * 16, reinterpret_cast<const float*>(bytes.data() + bytes.size()));
}

TEST(Checkpoint, RejectsTruncatedAndOversizedFiles)
{
    EXPECT_NE(load_error(make_checkpoint(tiny, -4)).find("truncated"), std::string::npos);
    EXPECT_NE(load_error(make_checkpoint(tiny, 8)).find("more than its header"), std::string::npos);
    std::vector<u8> short_header(20);
    EXPECT_NE(load_error(short_header).find("too small"), std::string::npos);
}

TEST(Checkpoint, RejectsBadHeaders)
{
    struct Case {
        std::vector<i32> header;
        const char* message;
    };
    const Case cases[] = {
        { { 0, 24, 2, 4, 2, 32, 8 }, "dim = 0" },
        { { -16, 24, 2, 4, 2, 32, 8 }, "dim = -16" },
        { { 16, 0, 2, 4, 2, 32, 8 }, "hidden_dim = 0" },
        { { 16, 24, -1, 4, 2, 32, 8 }, "n_layers = -1" },
        { { 16, 24, 2, 0, 2, 32, 8 }, "n_heads = 0" },
        { { 16, 24, 2, 4, 8, 32, 8 }, "n_kv_heads = 8" },
        { { 16, 24, 2, 4, 2, 0, 8 }, "vocab_size = 0" },
        { { 16, 24, 2, 4, 2, 32, 0 }, "seq_len = 0" },
        { { 16, 24, 2, 3, 3, 32, 8 }, "not divisible by n_heads" },
        { { 16, 24, 2, 4, 3, 32, 8 }, "not a multiple of n_kv_heads" },
        { { 24, 24, 2, 8, 8, 32, 8 }, "odd" },
        { { 0x7fffffff, 24, 2, 4, 2, 32, 8 }, "outside" },
        { { 16, 24, 2, 4, 2, INT32_MIN, 8 }, "vocab_size = -2147483648 is outside" }, // no negation (UB) first
        { { 16, 24, 2, 4, 2, 1, 8 }, "vocab_size 1 leaves no room for llama2.c's BOS (1) and EOS (2)" },
        { { 16, 24, 2, 4, 2, -2, 8 }, "vocab_size 2 leaves no room" },
    };
    for (auto const& c : cases) {
        std::vector<u8> bytes(28 + 4096);
        std::memcpy(bytes.data(), c.header.data(), 28);
        std::string error = load_error(bytes);
        EXPECT_NE(error.find(c.message), std::string::npos) << "expected '" << c.message << "', got '" << error << "'";
    }
}

TEST(Checkpoint, Int8HeaderChecks)
{
    std::vector<u8> bytes(256);
    u32 magic = 0x616b3432, version = 3;
    std::memcpy(bytes.data(), &magic, 4);
    std::memcpy(bytes.data() + 4, &version, 4);
    EXPECT_NE(load_error(bytes).find("version 3 is not supported"), std::string::npos);
    version = 2;
    std::memcpy(bytes.data() + 4, &version, 4);
    std::memcpy(bytes.data() + 8, tiny.data(), 28);
    i32 group = 5;
    std::memcpy(bytes.data() + 37, &group, 4);
    EXPECT_NE(load_error(bytes).find("group size 5"), std::string::npos);
    group = 8;
    std::memcpy(bytes.data() + 37, &group, 4);
    EXPECT_NE(load_error(bytes).find("int8 checkpoint is truncated"), std::string::npos);
    EXPECT_NE(load_error(std::vector<u8>(bytes.begin(), bytes.begin() + 100)).find("shorter than its 256-byte header"), std::string::npos);
    i32 tiny_vocab[7] = { 16, 24, 2, 4, 2, 2, 8 };
    std::memcpy(bytes.data() + 8, tiny_vocab, 28);
    EXPECT_NE(load_error(bytes).find("vocab_size 2 leaves no room"), std::string::npos);
    // Group size 2 with a 5 x 6 embedding: 30 int8 values put the scales after them off
    // 4-byte boundaries, where reading them as floats would be undefined.
    i32 odd_embedding[7] = { 6, 4, 1, 3, 3, 5, 8 };
    std::memcpy(bytes.data() + 8, odd_embedding, 28);
    group = 2;
    std::memcpy(bytes.data() + 37, &group, 4);
    EXPECT_EQ(load_error(bytes), "model: a tensor of 30 int8 values leaves its scales unaligned (group size 2); not supported");
}

TEST(Checkpoint, GarbageIsRejected)
{
    std::vector<u8> bytes(100000);
    u32 state = 12345;
    for (auto& b : bytes) {
        state = state * 1103515245 + 12345;
        b = u8(state >> 16);
    }
    EXPECT_FALSE(load_error(bytes).empty());
}

TEST(Checkpoint, LoadTimeQuantisationEqualsLlama2cExport)
{
    std::vector<u8> fp32, int8;
    REQUIRE_MODEL_FILE("stories260K.bin", fp32);
    REQUIRE_MODEL_FILE("stories260K_q80.bin", int8);
    testing_support::ScopedHeap heap(16 << 20);
    auto exported = llm::load_checkpoint({ int8.data(), int8.size() }).release_value();
    auto quantised = llm::load_checkpoint({ fp32.data(), fp32.size() }).release_value();
    ASSERT_FALSE(llm::quantize_checkpoint(quantised, 32).is_error());
    ASSERT_EQ(exported.format, llm::WeightFormat::Int8);
    EXPECT_EQ(exported.weights.layers[0].wq.group, 32);
    EXPECT_EQ(exported.config.dim, 64);
    EXPECT_TRUE(exported.config.shared_classifier);
    auto const& c = exported.config;
    auto same = [](llm::Tensor const& a, llm::Tensor const& b) {
        size_t count = size_t(a.rows) * size_t(a.cols);
        return a.type == llm::TensorType::Q8 && b.type == llm::TensorType::Q8 && a.rows == b.rows && a.cols == b.cols
            && a.group == b.group && std::memcmp(a.data, b.data, count) == 0
            && std::memcmp(a.scales, b.scales, count / 32 * sizeof(float)) == 0;
    };
    for (size_t l = 0; l < size_t(c.n_layers); ++l) {
        auto const& e = exported.weights.layers[l];
        auto const& q = quantised.weights.layers[l];
        EXPECT_TRUE(same(e.wq, q.wq)) << "wq " << l;
        EXPECT_TRUE(same(e.wk, q.wk)) << "wk " << l;
        EXPECT_TRUE(same(e.wv, q.wv)) << "wv " << l;
        EXPECT_TRUE(same(e.wo, q.wo)) << "wo " << l;
        EXPECT_TRUE(same(e.w1, q.w1)) << "w1 " << l;
        EXPECT_TRUE(same(e.w2, q.w2)) << "w2 " << l;
        EXPECT_TRUE(same(e.w3, q.w3)) << "w3 " << l;
    }
    EXPECT_TRUE(same(exported.weights.classifier, quantised.weights.classifier));
    EXPECT_TRUE(same(exported.weights.embedding, quantised.weights.embedding));
}

// An int8 model's embedding stays int8; the forward pass dequantises the token's row as
// llama2.c's runq.c does for its whole table (value times its group's scale).
TEST(Checkpoint, Int8EmbeddingRowsDequantiseLikeLlama2c)
{
    std::vector<u8> int8;
    REQUIRE_MODEL_FILE("stories260K_q80.bin", int8);
    testing_support::ScopedHeap heap(16 << 20);
    auto model = llm::load_checkpoint({ int8.data(), int8.size() }).release_value();
    auto const& embedding = model.weights.embedding;
    ASSERT_EQ(embedding.type, llm::TensorType::Q8);
    ASSERT_EQ(embedding.rows, model.config.vocab_size);
    ASSERT_EQ(embedding.cols, model.config.dim);
    std::vector<float> row(size_t(embedding.cols));
    for (size_t token : { size_t(0), size_t(1), size_t(257), size_t(embedding.rows - 1) }) {
        llm::dequantize_row(embedding, token, row.data());
        for (size_t i = 0; i < row.size(); ++i) {
            size_t at = token * size_t(embedding.cols) + i;
            float expected = float(embedding.int8()[at]) * embedding.scales[at / size_t(embedding.group)];
            ASSERT_EQ(std::memcmp(&row[i], &expected, 4), 0) << "token " << token << " value " << i;
        }
    }
}

}
