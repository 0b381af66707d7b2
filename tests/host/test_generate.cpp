#include "../../app/llm/generate.h"
#include "models.h"
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

namespace {

class StringSink final : public rt::TextSink {
public:
    void write(rt::StringView text) override { value.append(text.data(), text.length()); }
    std::string value;
};

std::string golden()
{
    const char* dir = std::getenv("BAREFLOW_GOLDEN");
    std::ifstream file(std::string(dir ? dir : "tests/golden") + "/stories260K_greedy_200.txt");
    std::stringstream s;
    s << file.rdbuf();
    return s.str();
}

std::string message(rt::Error const& e) { return std::string(e.message().data(), e.message().length()); }

class Generate : public ::testing::Test {
protected:
    void SetUp() override
    {
        REQUIRE_MODEL_FILE("stories260K.bin", model);
        REQUIRE_MODEL_FILE("tok512.bin", tokenizer_file);
    }
    std::vector<u8> model, tokenizer_file;
};

TEST_F(Generate, GreedyStories260KTellsTheGoldenStory)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = llm::load_checkpoint({ model.data(), model.size() }).release_value();
    auto tokenizer = llm::Tokenizer::load({ tokenizer_file.data(), tokenizer_file.size() }, 512).release_value();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    auto sampler = llm::Sampler::create(512, 0.0f, 0.9f, 1).release_value();
    StringSink out;
    auto stats = llm::generate(transformer, tokenizer, sampler, "Once upon a time", 200, out);
    ASSERT_FALSE(stats.is_error()) << message(stats.error());
    EXPECT_EQ(out.value, golden());
    EXPECT_EQ(stats.value().prompt_tokens, 5);
    EXPECT_EQ(stats.value().positions, 200);
}

TEST_F(Generate, PromptErrorsComeBeforeAnyWork)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto checkpoint = llm::load_checkpoint({ model.data(), model.size() }).release_value();
    auto tokenizer = llm::Tokenizer::load({ tokenizer_file.data(), tokenizer_file.size() }, 512).release_value();
    auto transformer = llm::Transformer::create(checkpoint).release_value();
    auto sampler = llm::Sampler::create(512, 0.0f, 0.9f, 1).release_value();
    StringSink out;
    std::string long_prompt;
    for (int i = 0; i < 300; ++i)
        long_prompt += "Lily saw a dog. ";
    auto too_long = llm::generate(transformer, tokenizer, sampler, { long_prompt.data(), long_prompt.size() }, 512, out);
    ASSERT_TRUE(too_long.is_error());
    EXPECT_NE(message(too_long.error()).find("do not fit the model's context of 512"), std::string::npos);
    auto no_room = llm::generate(transformer, tokenizer, sampler, "Once upon a time", 5, out);
    ASSERT_TRUE(no_room.is_error());
    EXPECT_NE(message(no_room.error()).find("steps=5"), std::string::npos);
    EXPECT_TRUE(out.value.empty());
}

TEST_F(Generate, TooLittleMemoryForTheKvCacheSaysHowMuch)
{
    testing_support::ScopedHeap heap(256 << 10);
    auto checkpoint = llm::load_checkpoint({ model.data(), model.size() }).release_value();
    auto transformer = llm::Transformer::create(checkpoint);
    ASSERT_TRUE(transformer.is_error());
    std::string text = message(transformer.error());
    EXPECT_NE(text.find("KV cache"), std::string::npos) << text;
    EXPECT_NE(text.find("need 1 MiB"), std::string::npos) << text;
}

}
