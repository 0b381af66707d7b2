#include "../../app/llm/checkpoint.h"
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
    auto bytes = make_checkpoint(tiny);
    auto result = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(result.is_error()) << load_error(bytes);
    auto const& ck = result.value();
    EXPECT_EQ(ck.config.kv_dim(), 8);
    EXPECT_TRUE(ck.config.shared_classifier);
    auto base = reinterpret_cast<const float*>(bytes.data() + 28);
    EXPECT_EQ(ck.weights.token_embedding, base);
    EXPECT_EQ(ck.weights.rms_attention, base + 32 * 16);
    EXPECT_EQ(ck.weights.wk, ck.weights.wq + 2 * 16 * 16);
    EXPECT_EQ(ck.weights.wv, ck.weights.wk + 2 * 8 * 16);
    EXPECT_EQ(ck.weights.classifier, ck.weights.token_embedding);
    EXPECT_EQ(ck.weights.rms_final + 16 + 8 * 4, reinterpret_cast<const float*>(bytes.data() + bytes.size()));
}

TEST(Checkpoint, SeparateClassifier)
{
    auto header = tiny;
    header[5] = -32;
    auto bytes = make_checkpoint(header);
    auto result = llm::load_checkpoint({ bytes.data(), bytes.size() });
    ASSERT_FALSE(result.is_error()) << load_error(bytes);
    EXPECT_FALSE(result.value().config.shared_classifier);
    EXPECT_EQ(result.value().config.vocab_size, 32);
    EXPECT_EQ(result.value().weights.classifier + 32 * 16, reinterpret_cast<const float*>(bytes.data() + bytes.size()));
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
    };
    for (auto const& c : cases) {
        std::vector<u8> bytes(28 + 4096);
        std::memcpy(bytes.data(), c.header.data(), 28);
        std::string error = load_error(bytes);
        EXPECT_NE(error.find(c.message), std::string::npos) << "expected '" << c.message << "', got '" << error << "'";
    }
}

TEST(Checkpoint, RecognisesInt8Exports)
{
    std::vector<u8> bytes(256);
    u32 magic = 0x616b3432, version = 2;
    std::memcpy(bytes.data(), &magic, 4);
    std::memcpy(bytes.data() + 4, &version, 4);
    EXPECT_NE(load_error(bytes).find("int8"), std::string::npos);
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

}
