#include "../../app/llm/tokenizer.h"
#include "models.h"
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

// Builds a tokenizer file: <unk> <s> </s>, the 256 byte tokens, then `extra` pieces.
std::vector<u8> build_tokenizer(std::vector<std::pair<std::string, float>> const& extra, u32 max_length = 16)
{
    std::vector<u8> out(4);
    std::memcpy(out.data(), &max_length, 4);
    auto add = [&](std::string const& piece, float score) {
        size_t at = out.size();
        out.resize(at + 8 + piece.size());
        i32 length = i32(piece.size());
        std::memcpy(out.data() + at, &score, 4);
        std::memcpy(out.data() + at + 4, &length, 4);
        std::memcpy(out.data() + at + 8, piece.data(), piece.size());
    };
    add("<unk>", 0), add("\n<s>\n", 0), add("\n</s>\n", 0);
    char hex[8];
    for (int b = 0; b < 256; ++b) {
        std::snprintf(hex, sizeof hex, "<0x%02X>", b);
        add(hex, 0);
    }
    for (auto const& [piece, score] : extra)
        add(piece, score);
    return out;
}

const std::vector<std::pair<std::string, float>> pieces = {
    { " ", -1 }, { "a", -2 }, { "b", -3 }, { "c", -4 }, { "ab", -5 }, { " a", -6 }, { " ab", -0.5f }, { "bc", -0.1f }, { "é", -7 },
};
constexpr i32 first_extra = 259;

std::string text(rt::StringView v) { return std::string(v.data(), v.length()); }

std::vector<i32> encode(llm::Tokenizer const& t, std::string const& s, bool bos = false)
{
    std::vector<i32> ids(s.size() + 3);
    auto n = t.encode({ s.data(), s.size() }, bos, false, { ids.data(), ids.size() });
    EXPECT_FALSE(n.is_error());
    ids.resize(size_t(n.is_error() ? 0 : n.value()));
    return ids;
}

TEST(Tokenizer, MergesByScore)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto file = build_tokenizer(pieces);
    auto t = llm::Tokenizer::load({ file.data(), file.size() }, first_extra + i32(pieces.size())).release_value();
    // " abc": "bc" (-0.1) beats " a" (-6) and "ab" (-5); then " a" + "bc" is unknown, " " + "a" merges.
    EXPECT_EQ(encode(t, "abc"), (std::vector<i32> { first_extra + 5, first_extra + 7 }));
    // " ab": " a" first? No: "ab" (-5) beats " a" (-6), then " " + "ab" = " ab".
    EXPECT_EQ(encode(t, "ab"), (std::vector<i32> { first_extra + 6 }));
    EXPECT_EQ(encode(t, "ab", true), (std::vector<i32> { 1, first_extra + 6 }));
    EXPECT_TRUE(encode(t, "").empty());
}

TEST(Tokenizer, ByteFallbackAndUtf8)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto file = build_tokenizer(pieces);
    auto t = llm::Tokenizer::load({ file.data(), file.size() }, first_extra + i32(pieces.size())).release_value();
    // "é" is in the vocabulary as one code point; "ü" (0xC3 0xBC) falls back to bytes.
    EXPECT_EQ(encode(t, "é"), (std::vector<i32> { first_extra, first_extra + 8 }));
    EXPECT_EQ(encode(t, "ü"), (std::vector<i32> { first_extra, 0xC3 + 3, 0xBC + 3 }));
    EXPECT_EQ(text(t.decode(5, 0xC3 + 3)), "\xC3");
    EXPECT_EQ(text(t.decode(5, 'A' + 3)), "A");
}

TEST(Tokenizer, DecodeStripsTheSpaceAfterBos)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto file = build_tokenizer(pieces);
    auto t = llm::Tokenizer::load({ file.data(), file.size() }, first_extra + i32(pieces.size())).release_value();
    EXPECT_EQ(text(t.decode(llm::Tokenizer::bos, first_extra + 6)), "ab");
    EXPECT_EQ(text(t.decode(first_extra + 1, first_extra + 6)), " ab");
    EXPECT_FALSE(llm::is_printable_piece("\x01"));
    EXPECT_FALSE(llm::is_printable_piece("\xC3"));
    EXPECT_TRUE(llm::is_printable_piece("\n"));
    EXPECT_TRUE(llm::is_printable_piece("ab"));
}

TEST(Tokenizer, VocabularyMustMatchTheModel)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto file = build_tokenizer(pieces);
    i32 real = first_extra + i32(pieces.size());
    auto bigger_model = llm::Tokenizer::load({ file.data(), file.size() }, real + 10);
    ASSERT_TRUE(bigger_model.is_error());
    EXPECT_NE(text(bigger_model.error().message()).find("do not belong together"), std::string::npos);
    auto smaller_model = llm::Tokenizer::load({ file.data(), file.size() }, real - 1);
    ASSERT_TRUE(smaller_model.is_error());
    EXPECT_NE(text(smaller_model.error().message()).find("larger vocabulary"), std::string::npos);
}

TEST(Tokenizer, MalformedFiles)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto file = build_tokenizer(pieces);
    i32 vocab = first_extra + i32(pieces.size());
    auto truncated = llm::Tokenizer::load({ file.data(), file.size() - 3 }, vocab);
    EXPECT_TRUE(truncated.is_error());
    EXPECT_TRUE(llm::Tokenizer::load({ file.data(), 2 }, vocab).is_error());
    auto bad_length = file;
    i32 huge = 1 << 30;
    std::memcpy(bad_length.data() + 4 + 4, &huge, 4);
    EXPECT_TRUE(llm::Tokenizer::load({ bad_length.data(), bad_length.size() }, vocab).is_error());
    auto zero_max = build_tokenizer(pieces, 0);
    EXPECT_TRUE(llm::Tokenizer::load({ zero_max.data(), zero_max.size() }, vocab).is_error());
}

TEST(Tokenizer, SpecialIdsMustBeInsideTheVocabulary)
{
    testing_support::ScopedHeap heap(1 << 20);
    // A one-token vocabulary (a checkpoint that says vocab_size 1): BOS and EOS are 1 and 2.
    std::vector<u8> one(4);
    u32 max_length = 8;
    std::memcpy(one.data(), &max_length, 4);
    float score = 0;
    i32 length = 1;
    one.resize(4 + 8 + 1);
    std::memcpy(one.data() + 4, &score, 4);
    std::memcpy(one.data() + 8, &length, 4);
    one[12] = 'a';
    auto tiny = llm::Tokenizer::load({ one.data(), one.size() }, 1);
    ASSERT_TRUE(tiny.is_error());
    EXPECT_EQ(text(tiny.error().message()), "tokenizer: a vocabulary of 1 tokens cannot hold BOS (1), EOS (2) and the 256 byte tokens (3..258)");

    // Byte fallback writes id 3 + byte: those ids must be the byte tokens.
    auto file = build_tokenizer(pieces);
    i32 vocab = first_extra + i32(pieces.size());
    size_t at = 4;
    for (int id = 0; id < 3 + 0x41; ++id) { // to token 3 + 0x41, "<0x41>"
        i32 piece_length;
        std::memcpy(&piece_length, file.data() + at + 4, 4);
        at += 8 + size_t(piece_length);
    }
    file[at + 8 + 4] = 'Z'; // "<0x41>" -> "<0x4Z>"
    auto misplaced = llm::Tokenizer::load({ file.data(), file.size() }, vocab);
    ASSERT_TRUE(misplaced.is_error());
    EXPECT_EQ(text(misplaced.error().message()), "tokenizer: token 68 is \"<0x4Z>\", not the byte token <0x41> that byte fallback needs there");
}

TEST(Tokenizer, RealTok512RoundTrips)
{
    std::vector<u8> file;
    REQUIRE_MODEL_FILE("tok512.bin", file);
    testing_support::ScopedHeap heap(4 << 20);
    auto t = llm::Tokenizer::load({ file.data(), file.size() }, 512).release_value();
    for (std::string s : { "Once upon a time", "Lily's mom said, \"Lily, let's go to the park.\"", "naïve café 42!" }) {
        auto ids = encode(t, s, true);
        ASSERT_FALSE(ids.empty());
        EXPECT_EQ(ids[0], 1);
        std::string decoded;
        for (size_t i = 1; i < ids.size(); ++i)
            decoded += text(t.decode(ids[i - 1], ids[i]));
        EXPECT_EQ(decoded, s);
    }
    EXPECT_EQ(encode(t, "Once upon a time", true).size(), 5u); // BOS + 4 pieces, as llama2.c
}

}
