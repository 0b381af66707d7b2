// The /commands typed at the prompts: what they change in the sampler and the story's
// length, and that a bad one changes nothing and says why.
#include "../../app/llm/sampler.h"
#include "../../app/prompt_commands.h"
#include "console_capture.h"
#include "models.h"
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using testing_support::ConsoleCapture;

constexpr i32 vocab = 64;

// The tokens a sampler picks from the same logits, `count` times.
std::vector<i32> picks(llm::Sampler& sampler, size_t count)
{
    std::vector<i32> tokens;
    for (size_t n = 0; n < count; ++n) {
        std::vector<float> logits(vocab);
        for (i32 i = 0; i < vocab; ++i)
            logits[size_t(i)] = float((i * 37) % 11) * 0.3f; // several tokens alike
        tokens.push_back(sampler.sample(logits.data()).value());
    }
    return tokens;
}

struct Fixture {
    testing_support::ScopedHeap heap { 1 << 20 };
    app::Options options;
    llm::Sampler sampler = llm::Sampler::create(vocab, 1.0f, 0.9f, 5).release_value();
    app::PromptCommands commands { "[interactive]", options, 5, 512 };
    Fixture() { ConsoleCapture::the().take(); }
};

TEST(PromptCommands, LinesThatAreNotCommands)
{
    Fixture f;
    EXPECT_FALSE(f.commands.run("Once upon a time", f.sampler));
    EXPECT_FALSE(f.commands.run("/reset", f.sampler)); // the chat's own
    EXPECT_EQ(ConsoleCapture::the().take(), "");
}

TEST(PromptCommands, TemperatureZeroIsGreedy)
{
    Fixture f;
    EXPECT_TRUE(f.commands.run("/temp 0", f.sampler));
    EXPECT_TRUE(f.sampler.greedy());
    EXPECT_EQ(ConsoleCapture::the().take(), "[interactive] temp=0.00 topp=0.90 topk=0 seed=5 steps=256\n");
    EXPECT_TRUE(f.commands.run("  /temp   0.7  ", f.sampler)); // spaces around are fine
    EXPECT_FALSE(f.sampler.greedy());
}

TEST(PromptCommands, SeedStartsTheSequenceOver)
{
    Fixture f;
    auto fresh = llm::Sampler::create(vocab, 1.0f, 0.9f, 42).release_value();
    std::vector<i32> expected = picks(fresh, 40);
    picks(f.sampler, 7); // the sampler has been used
    EXPECT_TRUE(f.commands.run("/seed 42", f.sampler));
    EXPECT_EQ(picks(f.sampler, 40), expected);
    // Other settings let the sequence go on: top-k 1 picks the largest every time.
    EXPECT_TRUE(f.commands.run("/topk 1", f.sampler));
    for (i32 token : picks(f.sampler, 5))
        EXPECT_EQ((token * 37) % 11, 10);
    EXPECT_NE(ConsoleCapture::the().take().find("topk=1 seed=42 steps=256"), std::string::npos);
}

TEST(PromptCommands, StepsWithinTheContext)
{
    Fixture f;
    EXPECT_EQ(f.commands.steps(), 256); // the default: 256 or the context
    EXPECT_TRUE(f.commands.run("/steps 100", f.sampler));
    EXPECT_EQ(f.commands.steps(), 100);
    EXPECT_TRUE(f.commands.run("/steps 513", f.sampler));
    EXPECT_EQ(f.commands.steps(), 100);
    EXPECT_NE(ConsoleCapture::the().take().find("steps=513 is more than the model's context of 512 tokens: the settings stay as they were"),
        std::string::npos);
    // A chat has no /steps: it takes the whole context.
    app::PromptCommands chat { "[chat]", f.options, 5, 0 };
    EXPECT_TRUE(chat.run("/steps 10", f.sampler));
    EXPECT_NE(ConsoleCapture::the().take().find("[chat] unknown command /steps"), std::string::npos);
}

TEST(PromptCommands, BadCommandsChangeNothing)
{
    Fixture f;
    for (char const* line : { "/temp abc", "/temp 101", "/topp 1.5", "/topk -1", "/seed", "/temp 0 1", "/temp \"0\"", "/steps 0", "/unknown 3", "/" }) {
        EXPECT_TRUE(f.commands.run(line, f.sampler)) << line;
        std::string said = ConsoleCapture::the().take();
        EXPECT_TRUE(said.find("the settings stay as they were") != std::string::npos || said.find("unknown command") != std::string::npos)
            << line << ": " << said;
    }
    EXPECT_FALSE(f.sampler.greedy());
    EXPECT_TRUE(f.commands.run("/settings", f.sampler));
    EXPECT_EQ(ConsoleCapture::the().take(), "[interactive] temp=1.00 topp=0.90 topk=0 seed=5 steps=256\n");
    EXPECT_TRUE(f.commands.run("/help", f.sampler));
    EXPECT_NE(ConsoleCapture::the().take().find("/temp T"), std::string::npos);
}

}
