// Byte-level BPE (tokenizer.ggml.model = "gpt2"): how text is cut into words, how a word's
// bytes are joined by the merges, and the vocabularies refused. llama.cpp's own GPT-2 test
// cases are in test_gguf (when the models folder has that vocabulary).
#include "../../app/llm/byte_level.h"
#include "../../app/llm/gguf_tokenizer.h"
#include "../../app/llm/pre_tokenizer.h"
#include "../../app/tools/gguf_writer.h"
#include "models.h"
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

std::vector<std::string> words(std::string const& text, llm::PreTokenizer pre = llm::PreTokenizer::Gpt2)
{
    std::vector<std::string> out;
    for (size_t at = 0; at < text.size();) {
        size_t end = llm::word_end({ text.data(), text.size() }, at, pre);
        EXPECT_GT(end, at);
        out.push_back(text.substr(at, end - at));
        at = end;
    }
    return out;
}
using Words = std::vector<std::string>;

TEST(PreTokenizer, Gpt2Words)
{
    EXPECT_EQ(words("Hello world"), (Words { "Hello", " world" }));
    EXPECT_EQ(words("  Hello"), (Words { " ", " Hello" })); // the last space goes with the word
    EXPECT_EQ(words("a\n\nb"), (Words { "a", "\n", "\n", "b" }));
    EXPECT_EQ(words("end   "), (Words { "end", "   " })); // whitespace at the end stays whole
    EXPECT_EQ(words("it's don't!!"), (Words { "it", "'s", " don", "'t", "!!" }));
    EXPECT_EQ(words("x  = 42;"), (Words { "x", " ", " =", " 42", ";" }));
    EXPECT_EQ(words("ied 4 \xc2\xbd months"), (Words { "ied", " 4", " \xc2\xbd", " months" })); // ½ is a number
    EXPECT_EQ(words("na\xc3\xafve \xd0\xbd\xd0\xb0"), (Words { "na\xc3\xafve", " \xd0\xbd\xd0\xb0" })); // ï and Cyrillic are letters
    EXPECT_EQ(words("\xf0\x9f\xa6\x99.cpp"), (Words { "\xf0\x9f\xa6\x99.", "cpp" })); // the emoji is neither
    EXPECT_EQ(words("a\xff" "b"), (Words { "a", "\xff", "b" })); // a byte that is no UTF-8 stands alone
}

TEST(PreTokenizer, SmolLmCutsEveryNumberCharacter)
{
    EXPECT_EQ(words("x 123", llm::PreTokenizer::SmolLm), (Words { "x", " ", "1", "2", "3" }));
    EXPECT_EQ(words("x 123", llm::PreTokenizer::Gpt2), (Words { "x", " 123" }));
    EXPECT_EQ(words("a1 b", llm::PreTokenizer::SmolLm), (Words { "a", "1", " b" }));
}

TEST(ByteLevel, EveryByteHasACharacterAndBack)
{
    for (int b = 0; b < 256; ++b)
        EXPECT_EQ(llm::byte_level::byte_of(llm::byte_level::character_of(u8(b))), b);
    EXPECT_EQ(llm::byte_level::character_of(u8(' ')), 0x120u); // 'Ġ'
    EXPECT_EQ(llm::byte_level::character_of(u8('a')), u32('a'));
    EXPECT_EQ(llm::byte_level::byte_of(0x144), -1);
    EXPECT_EQ(llm::byte_level::byte_of(0xAD), -1); // the soft hyphen is written as U+0143
}

// The UTF-8 of byte b's character.
std::string character(u8 b)
{
    u32 c = llm::byte_level::character_of(b);
    std::string s;
    if (c < 0x80) {
        s += char(c);
    } else {
        s += char(0xC0 | (c >> 6));
        s += char(0x80 | (c & 0x3F));
    }
    return s;
}

// A vocabulary of the 256 bytes' characters, some joined tokens and the merges that make them.
struct Vocabulary {
    std::vector<std::string> tokens;
    std::vector<i32> types; // llama.cpp's token types, when given
    std::vector<std::string> merges { "h e", "l l", "ll o", "\xc4\xa0 t", "\xc4\xa0t he", "he llo" };
    std::string pre { "gpt-2" };
    Vocabulary()
    {
        for (int b = 0; b < 256; ++b)
            tokens.push_back(character(u8(b)));
        for (std::string joined : { "he", "ll", "llo", "\xc4\xa0t", "\xc4\xa0the", "hello", "<|endoftext|>" })
            tokens.push_back(joined);
    }
    i32 id(std::string const& token) const { return i32(std::find(tokens.begin(), tokens.end(), token) - tokens.begin()); }
    std::vector<u8> file() const
    {
        tools::GgufWriter b;
        b.kv_string("tokenizer.ggml.model", "gpt2");
        b.kv_string("tokenizer.ggml.pre", pre);
        b.kv_strings("tokenizer.ggml.tokens", tokens);
        b.kv_strings("tokenizer.ggml.merges", merges);
        b.kv_u32("tokenizer.ggml.bos_token_id", u32(tokens.size() - 1));
        b.kv_u32("tokenizer.ggml.eos_token_id", u32(tokens.size() - 1));
        if (!types.empty())
            b.kv_numbers("tokenizer.ggml.token_type", tools::GgufWriter::ValueType::Int32, types);
        return b.file_start(0, types.empty() ? 6 : 7);
    }
};

struct Loaded {
    std::vector<u8> bytes;
    rt::ErrorOr<llm::gguf::File> file;
    rt::ErrorOr<llm::GgufTokenizer> tokenizer;
    explicit Loaded(Vocabulary const& v)
        : bytes(v.file()), file(llm::gguf::File::parse({ bytes.data(), bytes.size() })),
          tokenizer(file.is_error() ? rt::ErrorOr<llm::GgufTokenizer>(file.error()) : llm::GgufTokenizer::load(file.value()))
    {
    }
    std::string error() const
    {
        return tokenizer.is_error() ? std::string(tokenizer.error().message().data(), tokenizer.error().message().length()) : "";
    }
    std::vector<i32> encode(std::string const& text) const
    {
        std::vector<i32> tokens(3 * text.size() + 4);
        auto n = tokenizer.value().encode({ text.data(), text.size() }, false, { tokens.data(), tokens.size() });
        EXPECT_FALSE(n.is_error());
        tokens.resize(n.is_error() ? 0 : n.value());
        return tokens;
    }
};

TEST(ByteLevelBpe, MergesJoinInTheOrderLearned)
{
    testing_support::ScopedHeap heap(8 << 20);
    Vocabulary v;
    Loaded t(v);
    ASSERT_EQ(t.error(), "");
    // "hello": h+e, l+l, ll+o, he+llo; " the": h+e first (learned before Ġ+t), then Ġ+t, Ġt+he.
    EXPECT_EQ(t.encode("hello the"), (std::vector<i32> { v.id("hello"), v.id("\xc4\xa0the") }));
    // Equal pairs: the leftmost joins first.
    EXPECT_EQ(t.encode("lll"), (std::vector<i32> { v.id("ll"), v.id("l") }));
    // Without merges every byte is its own token: the tab, é's two bytes.
    EXPECT_EQ(t.encode("\t\xc3\xa9"), (std::vector<i32> { 9, 0xC3, 0xA9 }));
    // A long word (past the encoder's room on the stack) joins the same way.
    std::string long_word;
    for (int i = 0; i < 40; ++i)
        long_word += "hello";
    EXPECT_EQ(t.encode(long_word), std::vector<i32>(40, v.id("hello")));
    // Decoding gives every byte back; the special token decodes as its text.
    std::string all_bytes;
    for (int b = 1; b < 256; ++b)
        all_bytes += char(b);
    std::string decoded;
    for (i32 token : t.encode(all_bytes + " hello")) {
        auto piece = t.tokenizer.value().decode(-1, token);
        decoded.append(piece.data(), piece.length());
    }
    EXPECT_EQ(decoded, all_bytes + " hello");
    auto special = t.tokenizer.value().decode(-1, v.id("<|endoftext|>"));
    EXPECT_EQ(std::string(special.data(), special.length()), ""); // EOS: a marker, not text
    // No BOS unless the vocabulary asks for one; but an empty prompt starts from it (it
    // started from an uninitialised token before: a crash on a large vocabulary).
    EXPECT_FALSE(t.tokenizer.value().adds_bos());
    std::vector<i32> prompt(32, -7);
    auto n = t.tokenizer.value().encode_prompt("", { prompt.data(), prompt.size() });
    ASSERT_FALSE(n.is_error());
    ASSERT_EQ(n.value(), 1);
    EXPECT_EQ(prompt[0], t.tokenizer.value().bos());
    auto word = t.tokenizer.value().encode_prompt("hello", { prompt.data(), prompt.size() });
    ASSERT_FALSE(word.is_error());
    EXPECT_EQ(word.value(), 1);
    EXPECT_EQ(prompt[0], v.id("hello"));
}

TEST(ByteLevelBpe, Llama3TakesAWordThatIsATokenWhole)
{
    testing_support::ScopedHeap heap(8 << 20);
    Vocabulary v;
    v.tokens.push_back("lo"); // a token no merge makes
    {
        Loaded gpt2(v);
        EXPECT_EQ(gpt2.encode("lo"), (std::vector<i32> { 'l', 'o' }));
        EXPECT_FALSE(gpt2.tokenizer.value().adds_bos());
    }
    v.pre = "llama-bpe";
    Loaded llama3(v);
    ASSERT_EQ(llama3.error(), "");
    EXPECT_EQ(llama3.encode("lo"), (std::vector<i32> { v.id("lo") }));
    EXPECT_EQ(llama3.encode("hello"), (std::vector<i32> { v.id("hello") }));
    EXPECT_TRUE(llama3.tokenizer.value().adds_bos()); // Llama 3 starts with BOS unless told otherwise
    // Its word cutting: a letter run takes the character before it, digits come in threes.
    EXPECT_EQ(words("(hello 12345", llm::PreTokenizer::Llama3), (Words { "(hello", " ", "123", "45" }));
    EXPECT_EQ(words("12345", llm::PreTokenizer::Qwen2), (Words { "1", "2", "3", "4", "5" }));
    // DBRX's (OLMo 2's) and Smaug's vocabularies cut words as Llama 3's but merge every
    // word and start without BOS, as llama.cpp reads them.
    for (const char* pre : { "dbrx", "smaug-bpe" }) {
        v.pre = pre;
        Loaded same_words(v);
        ASSERT_EQ(same_words.error(), "") << pre;
        EXPECT_EQ(same_words.encode("lo"), (std::vector<i32> { 'l', 'o' })) << pre;
        EXPECT_FALSE(same_words.tokenizer.value().adds_bos()) << pre;
        EXPECT_EQ(same_words.tokenizer.value().pre_tokenizer(), llm::PreTokenizer::Llama3) << pre;
    }
}

// GPT-4o's vocabularies (Phi-4's, Llama 4's) cut words at changes of case and keep a
// contraction with its word, merging every word and adding BOS only when told; Mistral's
// Tekken cuts likewise, without contractions and with one digit a word, and starts with
// BOS and takes a word that is a token whole, as llama.cpp reads them.
TEST(ByteLevelBpe, Gpt4oAndTekkenCutAtChangesOfCase)
{
    testing_support::ScopedHeap heap(8 << 20);
    Vocabulary v;
    v.tokens.push_back("lo");
    for (const char* pre : { "gpt-4o", "llama4" }) {
        v.pre = pre;
        Loaded gpt4o(v);
        ASSERT_EQ(gpt4o.error(), "") << pre;
        EXPECT_EQ(gpt4o.tokenizer.value().pre_tokenizer(), llm::PreTokenizer::Gpt4o) << pre;
        EXPECT_EQ(gpt4o.encode("lo"), (std::vector<i32> { 'l', 'o' })) << pre;
        EXPECT_FALSE(gpt4o.tokenizer.value().adds_bos()) << pre;
    }
    v.pre = "tekken";
    Loaded tekken(v);
    ASSERT_EQ(tekken.error(), "");
    EXPECT_EQ(tekken.tokenizer.value().pre_tokenizer(), llm::PreTokenizer::Tekken);
    EXPECT_EQ(tekken.encode("lo"), (std::vector<i32> { v.id("lo") }));
    EXPECT_TRUE(tekken.tokenizer.value().adds_bos());
    EXPECT_EQ(words("HelloWorld HTTPServer don't 12345", llm::PreTokenizer::Gpt4o),
        (Words { "Hello", "World", " HTTPServer", " don't", " ", "123", "45" }));
    EXPECT_EQ(words("HelloWorld HTTPServer don't 12", llm::PreTokenizer::Tekken),
        (Words { "Hello", "World", " HTTPServer", " don", "'t", " ", "1", "2" }));
    // Outside ASCII every letter is both cases (llama.cpp's lookaheads): ÉCOLE backtracks to É.
    // Other characters take the line breaks and slashes after them.
    EXPECT_EQ(words("ÉCOLE a/b\n/ x!/\n/y", llm::PreTokenizer::Gpt4o), (Words { "É", "COLE", " a", "/b", "\n", "/", " x", "!/\n/", "y" }));
}

// Control tokens are markers: printed as nothing, and those that end a turn in chat
// models' vocabularies end the text, EOS or not (Llama 3's <|eot_id|>, ChatML's <|im_end|>),
// even where the file marks them user-defined (Phi-3's <|end|>).
TEST(ByteLevelBpe, ControlTokensAreNotPrintedAndTheTurnEndingOnesEndTheText)
{
    testing_support::ScopedHeap heap(8 << 20);
    Vocabulary v;
    v.tokens.insert(v.tokens.end() - 1, { "<|eot_id|>", "<|im_end|>", "<|tool|>", "<extra>", "<|end|>" });
    v.types.assign(v.tokens.size(), 1);
    for (std::string name : { "<|eot_id|>", "<|im_end|>", "<|tool|>", "<|endoftext|>" })
        v.types[size_t(v.id(name))] = 3; // control
    v.types[size_t(v.id("<extra>"))] = 4; // user-defined: text
    v.types[size_t(v.id("<|end|>"))] = 4;
    Loaded t(v);
    ASSERT_EQ(t.error(), "");
    auto const& tokenizer = t.tokenizer.value();
    for (std::string name : { "<|eot_id|>", "<|im_end|>", "<|endoftext|>", "<|end|>" })
        EXPECT_TRUE(tokenizer.ends_text(v.id(name))) << name;
    EXPECT_FALSE(tokenizer.ends_text(v.id("<|tool|>")));
    EXPECT_FALSE(tokenizer.ends_text(v.id("hello")));
    auto text = [&](std::string const& name) {
        auto piece = tokenizer.decode(-1, v.id(name));
        return std::string(piece.data(), piece.length());
    };
    EXPECT_EQ(text("<|tool|>"), "");
    EXPECT_EQ(text("<|end|>"), "");
    EXPECT_EQ(text("<extra>"), "<extra>");
    EXPECT_EQ(text("hello"), "hello");
}

TEST(ByteLevelBpe, VocabulariesThatCannotBeUsed)
{
    testing_support::ScopedHeap heap(8 << 20);
    Vocabulary deepseek;
    deepseek.pre = "deepseek-coder";
    EXPECT_NE(Loaded(deepseek).error().find("tokenizer: BPE pre-tokenizer \"deepseek-coder\" is not supported"), std::string::npos);
    Vocabulary missing;
    missing.merges.push_back("he x1");
    EXPECT_EQ(Loaded(missing).error(), "tokenizer: merge 6 (\"he x1\") names a token the vocabulary lacks");
    Vocabulary one_word;
    one_word.merges[2] = "llo";
    EXPECT_EQ(Loaded(one_word).error(), "tokenizer: merge 2 (\"llo\") is not two tokens with a space between");
    Vocabulary no_byte;
    no_byte.tokens[0x41] = "A-not";
    EXPECT_EQ(Loaded(no_byte).error(), "tokenizer: the byte-level vocabulary has no token for byte 0x41");
    Vocabulary smollm;
    smollm.pre = "smollm";
    EXPECT_EQ(Loaded(smollm).error(), "");
}

}
