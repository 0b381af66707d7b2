#include "../../app/chat.h"
#include <gtest/gtest.h>

namespace {

using Kind = app::ChatFormat::Kind;

TEST(ChatFormat, RecognisedFromTheTemplate)
{
    // Excerpts of the Jinja templates real GGUF files carry.
    EXPECT_EQ(app::ChatFormat::from_template("{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token }}").kind, Kind::Zephyr);
    EXPECT_EQ(app::ChatFormat::from_template("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}").kind, Kind::ChatMl);
    EXPECT_EQ(app::ChatFormat::from_template("{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}").kind, Kind::Llama2);
    EXPECT_EQ(app::ChatFormat::from_template("").kind, Kind::Zephyr); // no template: TinyLlama's
    auto chatml = app::ChatFormat::from_template("<|im_start|>");
    EXPECT_EQ(chatml.close_piece, rt::StringView("<|im_end|>"));
    EXPECT_TRUE(app::ChatFormat::from_template("").close_piece.is_empty()); // closes with EOS
}

}
