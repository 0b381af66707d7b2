#include "../../app/chat/chat.h"
#include "../../app/tools/gguf_writer.h"
#include "chat_templates.h"
#include "models.h"
#include <algorithm>
#include <cstdio>
#include <gtest/gtest.h>

namespace {

using Kind = app::ChatFormat::Kind;

TEST(ChatFormat, RecognisedFromTheTemplate)
{
    // Excerpts of the Jinja templates real GGUF files carry.
    EXPECT_EQ(app::ChatFormat::from_template("{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token }}").kind, Kind::Zephyr);
    EXPECT_EQ(app::ChatFormat::from_template("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}").kind, Kind::ChatMl);
    EXPECT_EQ(app::ChatFormat::from_template("{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}").kind, Kind::Llama2);
    EXPECT_EQ(app::ChatFormat::from_template("{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}").kind, Kind::Llama3);
    EXPECT_EQ(app::ChatFormat::from_template("{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{{ '<|assistant|>\n' }}").kind, Kind::Phi3);
    EXPECT_EQ(app::ChatFormat::from_template("{{- '<|start_of_role|>' + message['role'] + '<|end_of_role|>' }}").kind, Kind::Granite);
    EXPECT_EQ(app::ChatFormat::from_template("<start_of_turn>").kind, Kind::Gemma);
    EXPECT_EQ(app::ChatFormat::from_template("").kind, Kind::Zephyr); // no template: TinyLlama's
    auto chatml = app::ChatFormat::from_template("<|im_start|>");
    EXPECT_EQ(chatml.close_piece, rt::StringView("<|im_end|>"));
    EXPECT_TRUE(app::ChatFormat::from_template("").close_piece.is_empty()); // closes with EOS
}

}

namespace {

std::string message_of(rt::Error const& e) { return std::string(e.message().data(), e.message().length()); }

std::vector<i32> encode(llm::GgufTokenizer const& tokenizer, std::string const& text)
{
    std::vector<i32> tokens(3 * text.size() + 4);
    auto n = tokenizer.encode({ text.data(), text.size() }, false, { tokens.data(), tokens.size() });
    EXPECT_FALSE(n.is_error());
    tokens.resize(n.is_error() ? 0 : n.value());
    return tokens;
}

std::vector<i32> exchange(app::ChatFormat const& format, llm::GgufTokenizer const& tokenizer, const char* system, const char* message,
    bool first)
{
    rt::HeapArray<i32> tokens;
    auto n = app::exchange_tokens(format, tokenizer, system, message, first, tokens);
    EXPECT_FALSE(n.is_error()) << (n.is_error() ? message_of(n.error()) : "");
    return n.is_error() ? std::vector<i32> {} : std::vector<i32>(tokens.data(), tokens.data() + n.value());
}

std::vector<i32> concat(std::initializer_list<std::vector<i32>> parts)
{
    std::vector<i32> all;
    for (auto const& p : parts)
        all.insert(all.end(), p.begin(), p.end());
    return all;
}

// TinyLlama-1.1B-Chat's vocabulary is Llama 2's: the real one, from llama.cpp's test file.
// Skips the test when the file is absent; leaves `name` bound to the loaded tokenizer.
#define LOAD_LLAMA_VOCABULARY(name)                                                                      \
    std::vector<u8> vocab_bytes;                                                                         \
    REQUIRE_MODEL_FILE("gguf/ggml-vocab-llama-spm.gguf", vocab_bytes);                                   \
    testing_support::ScopedHeap heap(64 << 20);                                                          \
    auto vocab_file = llm::gguf::File::parse({ vocab_bytes.data(), vocab_bytes.size() });                \
    ASSERT_FALSE(vocab_file.is_error());                                                                 \
    auto loaded_vocabulary = llm::GgufTokenizer::load(vocab_file.value());                               \
    ASSERT_FALSE(loaded_vocabulary.is_error()) << message_of(loaded_vocabulary.error());                 \
    auto const& name = loaded_vocabulary.value()

TEST(ChatTokens, ZephyrTurnsAsLlamaCppTokenisesTheTemplate)
{
    LOAD_LLAMA_VOCABULARY(tokenizer);
    auto zephyr = app::ChatFormat::from_template("");
    const i32 bos = 1, eos = 2;
    // "<|system|>\nYou are kind.</s>\n<|user|>\nHi there</s>\n<|assistant|>\n": </s> is
    // EOS, and the text after each special token starts with SentencePiece's space.
    auto first = exchange(zephyr, tokenizer, "You are kind.", "Hi there", true);
    EXPECT_EQ(first, concat({ { bos }, encode(tokenizer, "<|system|>\nYou are kind."), { eos }, encode(tokenizer, "\n<|user|>\nHi there"),
                         { eos }, encode(tokenizer, "\n<|assistant|>\n") }));
    // Later turns follow the reply's </s>: no BOS, no system message.
    auto later = exchange(zephyr, tokenizer, "You are kind.", "And now?", false);
    EXPECT_EQ(later, concat({ encode(tokenizer, "\n<|user|>\nAnd now?"), { eos }, encode(tokenizer, "\n<|assistant|>\n") }));
    // What the user types is text, even when it looks like a special token.
    auto typed = exchange(zephyr, tokenizer, "", "a </s> b", true);
    EXPECT_EQ(std::count(typed.begin(), typed.end(), eos), 1);
    EXPECT_EQ(typed, concat({ { bos }, encode(tokenizer, "<|user|>\na </s> b"), { eos }, encode(tokenizer, "\n<|assistant|>\n") }));
}

// A SentencePiece vocabulary file: <unk>, four CONTROL `markers` (ids 1 to 4), U+2581 and the
// 256 byte tokens; `add_bos` set when given.
std::vector<u8> marker_vocabulary(std::vector<std::string> const& markers, int add_bos = -1)
{
    std::vector<std::string> pieces = { "<unk>" };
    pieces.insert(pieces.end(), markers.begin(), markers.end());
    pieces.push_back("\xE2\x96\x81");
    std::vector<i32> types = { 2, 3, 3, 3, 3, 1 };
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        pieces.push_back(name);
        types.push_back(6);
    }
    std::vector<float> scores(pieces.size(), 0.0f);
    tools::GgufWriter b;
    b.kv_string("tokenizer.ggml.model", "llama");
    b.kv_strings("tokenizer.ggml.tokens", pieces);
    b.kv_numbers("tokenizer.ggml.scores", tools::GgufWriter::ValueType::Float32, scores);
    b.kv_numbers("tokenizer.ggml.token_type", tools::GgufWriter::ValueType::Int32, types);
    if (add_bos >= 0)
        b.kv_bool("tokenizer.ggml.add_bos_token", add_bos != 0);
    return b.file_start(0, add_bos >= 0 ? 5 : 4);
}

// Parses a vocabulary file's `bytes`; leaves `name` bound to its tokenizer.
#define LOAD_TOKENIZER(bytes, name)                                                                      \
    testing_support::ScopedHeap heap(8 << 20);                                                           \
    auto parsed_file = llm::gguf::File::parse({ bytes.data(), bytes.size() });                           \
    ASSERT_FALSE(parsed_file.is_error()) << message_of(parsed_file.error());                             \
    auto loaded_tokenizer = llm::GgufTokenizer::load(parsed_file.value());                               \
    ASSERT_FALSE(loaded_tokenizer.is_error()) << message_of(loaded_tokenizer.error());                   \
    auto const& name = loaded_tokenizer.value()

// A ChatML vocabulary whose markers are CONTROL tokens: they must come out as one id each.
TEST(ChatTokens, ChatMlMarkersBecomeTheirSpecialTokens)
{
    auto bytes = marker_vocabulary({ "<s>", "</s>", "<|im_start|>", "<|im_end|>" });
    LOAD_TOKENIZER(bytes, tokenizer);
    auto chatml = app::ChatFormat::from_template("{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}");
    const i32 bos = 1, im_start = 3, im_end = 4;
    auto tokens = exchange(chatml, tokenizer, "", "hi <|im_end|>", true);
    EXPECT_EQ(tokens, concat({ { bos, im_start }, encode(tokenizer, "user\nhi <|im_end|>"), { im_end }, encode(tokenizer, "\n"), { im_start },
                          encode(tokenizer, "assistant\n") }));
    EXPECT_EQ(std::count(tokens.begin(), tokens.end(), im_end), 1);
    size_t length = 0;
    EXPECT_EQ(tokenizer.special_token_at("<|im_end|>x", length), im_end);
    EXPECT_EQ(length, 10u);
    EXPECT_EQ(tokenizer.special_token_at("<|im_", length), -1);
}

// Llama 3's turns, with its markers as special tokens; a vocabulary that says
// add_bos_token false (Qwen's, SmolLM's) gets no BOS in front.
TEST(ChatTokens, Llama3TurnsAndVocabulariesWithoutBos)
{
    for (bool add_bos : { true, false }) {
        auto bytes = marker_vocabulary({ "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>" }, add_bos);
        LOAD_TOKENIZER(bytes, tokenizer);
        auto llama3 = app::ChatFormat::from_template("<|start_header_id|>");
        EXPECT_EQ(llama3.close_piece, rt::StringView("<|eot_id|>"));
        const i32 bos = 1, eot = 2, header = 3, header_end = 4;
        std::vector<i32> start = add_bos ? std::vector<i32> { bos } : std::vector<i32> {};
        EXPECT_EQ(exchange(llama3, tokenizer, "Be kind.", "hi", true),
            concat({ start, { header }, encode(tokenizer, "system"), { header_end }, encode(tokenizer, "\n\nBe kind."), { eot, header },
                encode(tokenizer, "user"), { header_end }, encode(tokenizer, "\n\nhi"), { eot, header }, encode(tokenizer, "assistant"),
                { header_end }, encode(tokenizer, "\n\n") }));
        // The next exchange follows the reply's <|eot_id|> with the user's header.
        EXPECT_EQ(exchange(llama3, tokenizer, "Be kind.", "ok", false),
            concat({ { header }, encode(tokenizer, "user"), { header_end }, encode(tokenizer, "\n\nok"), { eot, header }, encode(tokenizer, "assistant"),
                { header_end }, encode(tokenizer, "\n\n") }));
    }
}

TEST(ChatTokens, TokenTypesMustCoverTheVocabulary)
{
    tools::GgufWriter b;
    b.kv_string("tokenizer.ggml.model", "llama");
    b.kv_strings("tokenizer.ggml.tokens", { "<unk>", "<s>", "</s>" });
    b.kv_numbers("tokenizer.ggml.scores", tools::GgufWriter::ValueType::Float32, std::vector<float> { 0, 0, 0 });
    b.kv_numbers("tokenizer.ggml.token_type", tools::GgufWriter::ValueType::Int32, std::vector<i32> { 2, 3 });
    auto bytes = b.file_start(0, 4);
    testing_support::ScopedHeap heap(1 << 20);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error());
    auto loaded = llm::GgufTokenizer::load(file.value());
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(message_of(loaded.error()), "tokenizer: 2 token types for 3 tokens");
}

}

namespace {

// A raw prompt (mode=generate) is parsed for special tokens as llama.cpp's programs do.
TEST(ChatTokens, PromptsParseSpecialTokens)
{
    LOAD_LLAMA_VOCABULARY(tokenizer);
    std::string prompt = "<|user|>\nHi</s>\n<|assistant|>\n";
    std::vector<i32> tokens(llm::TextTokenizer::token_capacity(prompt.size()));
    auto n = tokenizer.encode_prompt({ prompt.data(), prompt.size() }, { tokens.data(), tokens.size() });
    ASSERT_FALSE(n.is_error());
    tokens.resize(size_t(n.value()));
    EXPECT_EQ(tokens, concat({ { 1 }, encode(tokenizer, "<|user|>\nHi"), { 2 }, encode(tokenizer, "\n<|assistant|>\n") }));
    // llama.cpp treats UNKNOWN tokens as special too: "<unk>" in a prompt is id 0.
    auto ids_of = [&](std::string const& text) {
        std::vector<i32> ids(llm::TextTokenizer::token_capacity(text.size()));
        auto count = tokenizer.encode_prompt({ text.data(), text.size() }, { ids.data(), ids.size() });
        EXPECT_FALSE(count.is_error());
        ids.resize(count.is_error() ? 0 : size_t(count.value()));
        return ids;
    };
    EXPECT_EQ(ids_of("<unk>"), (std::vector<i32> { 1, 0 }));
    EXPECT_EQ(ids_of("Hi <unk> there"), concat({ { 1 }, encode(tokenizer, "Hi "), { 0 }, encode(tokenizer, " there") }));
    // What a chat user types is never parsed for special tokens, <unk> included.
    auto typed = exchange(app::ChatFormat::from_template(""), tokenizer, "", "<unk>", true);
    EXPECT_EQ(std::count(typed.begin(), typed.end(), 0), 0);
    // A prompt of nothing but spaces still fits the advertised capacity.
    std::string spaces(40, ' ');
    std::vector<i32> room(llm::TextTokenizer::token_capacity(spaces.size()));
    EXPECT_FALSE(tokenizer.encode_prompt({ spaces.data(), spaces.size() }, { room.data(), room.size() }).is_error());
}

}

namespace {

std::vector<i32> templated(std::string const& source, llm::GgufTokenizer const& tokenizer, const char* system, const char* message, i32 replies)
{
    rt::HeapArray<i32> tokens;
    auto n = app::template_exchange_tokens({ source.data(), source.size() }, tokenizer, system, message, replies, tokenizer.piece(tokenizer.eos()), tokens);
    EXPECT_FALSE(n.is_error()) << (n.is_error() ? message_of(n.error()) : "");
    return n.is_error() ? std::vector<i32> {} : std::vector<i32>(tokens.data(), tokens.data() + n.value());
}

// A test template's exchange (tests/host/NAME) and the same exchange in the built-in
// markers the chat falls back to for it, which must be `kind`: the same tokens for each
// (system, message, replies) case, the turns closed by `close`.
struct ExchangeCase {
    const char* system;
    const char* message;
    i32 replies;
};
void expect_markers_give_the_templates_tokens(const char* name, app::ChatFormat::Kind kind, const char* close, std::vector<ExchangeCase> const& cases)
{
    LOAD_LLAMA_VOCABULARY(tokenizer);
    std::string source = testing_support::test_source(name);
    ASSERT_FALSE(source.empty()) << name;
    auto format = app::ChatFormat::from_template({ source.data(), source.size() });
    EXPECT_EQ(format.kind, kind) << name;
    for (auto const& c : cases) {
        rt::HeapArray<i32> tokens;
        auto n = app::template_exchange_tokens({ source.data(), source.size() }, tokenizer, c.system, c.message, c.replies, close, tokens);
        ASSERT_FALSE(n.is_error()) << message_of(n.error());
        EXPECT_EQ(std::vector<i32>(tokens.data(), tokens.data() + n.value()), exchange(format, tokenizer, c.system, c.message, c.replies == 0))
            << name << ": " << c.system << " / " << c.message;
    }
}

// Gemma 3's template gives the tokens of the built-in Gemma markers: the system message
// opening the first user turn, and later turns after the reply's <end_of_turn>.
TEST(ChatTokens, GemmaMarkersAreGemmaTemplatesTokens)
{
    expect_markers_give_the_templates_tokens("gemma3_shape.jinja", app::ChatFormat::Kind::Gemma, "<end_of_turn>",
        { { "You are kind.", "Hi there", 0 }, { "", "Hi there", 0 }, { "You are kind.", "And now?", 1 } });
}

// Phi-3's: every turn closed by <|end|>, the system turn first.
TEST(ChatTokens, Phi3MarkersArePhi3TemplatesTokens)
{
    expect_markers_give_the_templates_tokens("phi3_shape.jinja", app::ChatFormat::Kind::Phi3, "<|end|>",
        { { "You are kind.", "Hi there", 0 }, { "", "Hi there", 0 }, { "You are kind.", "And now?", 1 } });
}

// Granite's, where the chat has a system message (without one the template writes its
// own, which the markers cannot know).
TEST(ChatTokens, GraniteMarkersAreGraniteTemplatesTokens)
{
    expect_markers_give_the_templates_tokens("granite_shape.jinja", app::ChatFormat::Kind::Granite, "<|end_of_text|>",
        { { "You are kind.", "Hi there", 0 }, { "You are kind.", "And now?", 1 } });
}

// A template without a system role (Gemma 2's: it raises) gets the system message at the
// start of the first user message, as llama.cpp gives it; later turns are unchanged.
TEST(ChatTokens, SystemMessageFoldedWhereTheTemplateRefusesIt)
{
    LOAD_LLAMA_VOCABULARY(tokenizer);
    std::string gemma = testing_support::test_source("gemma2_shape.jinja"); // Gemma 2's template's shape
    EXPECT_EQ(templated(gemma, tokenizer, "Be brief.", "Hi", 0),
        concat({ { tokenizer.bos() }, encode(tokenizer, "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n") }));
    EXPECT_EQ(templated(gemma, tokenizer, "Be brief.", "And?", 1),
        encode(tokenizer, "<end_of_turn>\n<start_of_turn>user\nAnd?<end_of_turn>\n<start_of_turn>model\n"));
    // A refusal for another reason still fails, and the chat falls back to its markers.
    rt::HeapArray<i32> tokens;
    std::string strict = "{{ raise_exception('Only user and assistant roles are supported!') }}";
    EXPECT_TRUE(app::template_exchange_tokens({ strict.data(), strict.size() }, tokenizer, "Be brief.", "Hi", 0, "</s>", tokens).is_error());
}

// strftime_now writes the chat's date where there is one (Llama 3.1-3.3's system header);
// without one, the template's own default.
TEST(ChatTokens, TemplatesWriteTheChatsDate)
{
    LOAD_LLAMA_VOCABULARY(tokenizer);
    std::string dated = "{% if strftime_now is defined %}{{ strftime_now('Today Date: %d %b %Y') }}{% else %}Today Date: 26 Jul 2024{% endif %}"
                        "{% for m in messages %} {{ m.content }}{% endfor %}";
    rt::DateTime today { 2026, 11, 30, 15, 4, 5 };
    auto rendered = [&](rt::DateTime const* date) {
        rt::HeapArray<i32> tokens;
        auto n = app::template_exchange_tokens({ dated.data(), dated.size() }, tokenizer, "", "Hi", 0, "</s>", tokens, { date });
        EXPECT_FALSE(n.is_error());
        return n.is_error() ? std::vector<i32> {} : std::vector<i32>(tokens.data(), tokens.data() + n.value());
    };
    EXPECT_EQ(rendered(&today), concat({ { tokenizer.bos() }, encode(tokenizer, "Today Date: 30 Nov 2026 Hi") }));
    EXPECT_EQ(rendered(nullptr), concat({ { tokenizer.bos() }, encode(tokenizer, "Today Date: 26 Jul 2024 Hi") }));
}

// think=off sets enable_thinking false, as Qwen3's template reads it (an empty thought
// after the generation prompt); think=on sets it true, and by default it is undefined.
TEST(ChatTokens, TemplatesSwitchThinking)
{
    LOAD_LLAMA_VOCABULARY(tokenizer);
    std::string source = "{% for m in messages %}{{ m.content }}{% endfor %}"
                         "{% if enable_thinking is defined and enable_thinking is false %} without thinking{% endif %}"
                         "{% if enable_thinking is not defined %} as the template likes{% endif %}";
    auto rendered = [&](app::Thinking thinking) {
        rt::HeapArray<i32> tokens;
        auto n = app::template_exchange_tokens({ source.data(), source.size() }, tokenizer, "", "Hi", 0, "</s>", tokens, { nullptr, thinking });
        EXPECT_FALSE(n.is_error());
        return n.is_error() ? std::vector<i32> {} : std::vector<i32>(tokens.data(), tokens.data() + n.value());
    };
    EXPECT_EQ(rendered(app::Thinking::Off), concat({ { tokenizer.bos() }, encode(tokenizer, "Hi without thinking") }));
    EXPECT_EQ(rendered(app::Thinking::On), concat({ { tokenizer.bos() }, encode(tokenizer, "Hi") }));
    EXPECT_EQ(rendered(app::Thinking::Undefined), concat({ { tokenizer.bos() }, encode(tokenizer, "Hi as the template likes") }));
}

// Rendering TinyLlama's own template gives exactly the tokens of its built-in markers,
// on the first exchange and on later ones; Llama 2's template closes replies with " </s>".
TEST(ChatTokens, RenderedTemplatesGiveTheMarkersTokens)
{
    using namespace testing_support::chat_templates;
    LOAD_LLAMA_VOCABULARY(tokenizer);
    auto zephyr = app::ChatFormat::from_template({ tinyllama.data(), tinyllama.size() });
    EXPECT_EQ(templated(tinyllama, tokenizer, "You are kind.", "Hi </s> there", 0), exchange(zephyr, tokenizer, "You are kind.", "Hi </s> there", true));
    EXPECT_EQ(templated(tinyllama, tokenizer, "You are kind.", "And now?", 1), exchange(zephyr, tokenizer, "You are kind.", "And now?", false));
    EXPECT_EQ(templated(tinyllama, tokenizer, "", "Third", 2), exchange(zephyr, tokenizer, "", "Third", false));
    auto llama = app::ChatFormat::from_template({ llama2.data(), llama2.size() });
    EXPECT_EQ(templated(llama2, tokenizer, "Be brief.", "Hi", 0), exchange(llama, tokenizer, "Be brief.", "Hi", true));
    EXPECT_EQ(templated(llama2, tokenizer, "Be brief.", "More", 1), exchange(llama, tokenizer, "Be brief.", "More", false));

    // A template that shows the new message twice cannot be used turn by turn.
    std::string twice = "{% for m in messages %}{{ m.content }}{{ m.content }}{% endfor %}";
    rt::HeapArray<i32> tokens;
    auto n = app::template_exchange_tokens({ twice.data(), twice.size() }, tokenizer, "", "x", 0, "</s>", tokens);
    ASSERT_TRUE(n.is_error());
    EXPECT_EQ(message_of(n.error()), "chat template: the rendered text does not show the new message once");
}

}
