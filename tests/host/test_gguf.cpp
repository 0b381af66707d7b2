#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_model.h"
#include "../../app/llm/gguf_tokenizer.h"
#include "../../app/llm/transformer.h"
#include "../../app/tools/gguf_writer.h"
#include "models.h"
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

namespace {

using tools::GgufWriter;
using ValueType = GgufWriter::ValueType;

// A file with the fields written so far and `data_bytes` of tensor data, all 0x11 (not
// zeros, so that reading it shows).
std::vector<u8> gguf_file(GgufWriter const& fields, u64 tensors, u64 pairs, size_t data_bytes)
{
    auto bytes = fields.file_start(tensors, pairs);
    bytes.resize(bytes.size() + data_bytes, 0x11);
    return bytes;
}

// A small valid file: two metadata entries, two F32 tensors of 4x2 and 8.
std::vector<u8> small_file()
{
    GgufWriter b;
    b.kv_string("general.architecture", "llama");
    b.kv_u32("llama.block_count", 2);
    b.tensor_info("a", { 4, 2 }, 0, 0);
    b.tensor_info("b", { 8 }, 0, 32);
    return gguf_file(b, 2, 2, 64);
}

std::string error_of(std::vector<u8> const& bytes)
{
    auto r = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    return r.is_error() ? std::string(r.error().message().data(), r.error().message().length()) : "";
}

TEST(Gguf, ParsesMetadataAndTensors)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto bytes = small_file();
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error()) << error_of(bytes);
    EXPECT_EQ(file.value().version(), 3u);
    EXPECT_EQ(std::string(file.value().get_string("general.architecture").value().data(), 5), "llama");
    EXPECT_EQ(file.value().get_integer("llama.block_count").value(), 2u);
    EXPECT_TRUE(file.value().get_integer("missing.key").is_error());
    EXPECT_TRUE(file.value().get_string("llama.block_count").is_error());
    auto const* b = file.value().tensor("b");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->bytes, 32u);
    EXPECT_EQ(b->element_count(), 8u);
    EXPECT_EQ(b->data - bytes.data(), long(bytes.size() - 64 + 32));
}

TEST(Gguf, EveryTruncationIsAnError)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto bytes = small_file();
    for (size_t length = 0; length + 1 < bytes.size(); ++length) {
        std::vector<u8> cut(bytes.begin(), bytes.begin() + long(length));
        EXPECT_FALSE(error_of(cut).empty()) << "accepted a file cut at " << length << " bytes";
    }
}

TEST(Gguf, MalformedHeadersAndTensors)
{
    testing_support::ScopedHeap heap(1 << 20);
    auto bad_magic = small_file();
    bad_magic[0] = 'X';
    EXPECT_NE(error_of(bad_magic).find("bad magic"), std::string::npos);
    auto bad_version = small_file();
    bad_version[4] = 7;
    EXPECT_NE(error_of(bad_version).find("version 7"), std::string::npos);
    auto absurd = small_file();
    absurd[8 + 7] = 0x7F; // tensor count ~ 2^63
    EXPECT_NE(error_of(absurd).find("absurd counts"), std::string::npos);

    auto with_tensors = [](std::vector<std::tuple<std::string, std::vector<u64>, u32, u64>> tensors, size_t data) {
        GgufWriter b;
        for (auto const& [name, dims, type, offset] : tensors)
            b.tensor_info(name, dims, type, offset);
        return gguf_file(b, tensors.size(), 0, data);
    };
    EXPECT_NE(error_of(with_tensors({ { "x", { 8 }, 0, 64 } }, 64)).find("outside"), std::string::npos);
    EXPECT_NE(error_of(with_tensors({ { "x", { 8 }, 0, 0 }, { "y", { 8 }, 0, 0 } }, 64)).find("overlap"), std::string::npos);
    EXPECT_NE(error_of(with_tensors({ { "x", { 8 }, 0, 0 }, { "x", { 8 }, 0, 32 } }, 64)).find("twice"), std::string::npos);
    EXPECT_NE(error_of(with_tensors({ { "x", { 8 }, 99, 0 } }, 64)).find("cannot read"), std::string::npos);
    EXPECT_NE(error_of(with_tensors({ { "x", { 8 }, 0, 4 } }, 64)).find("alignment"), std::string::npos);
    EXPECT_NE(error_of(with_tensors({ { "x", { 0 }, 0, 0 } }, 64)).find("dimension 0 = 0"), std::string::npos);
    EXPECT_NE(error_of(with_tensors({ { "x", { 16 }, 8, 0 } }, 64)).find("blocks"), std::string::npos); // Q8_0 rows need 32
    EXPECT_NE(error_of(with_tensors({ { "x", { 1, 1, 1, 1, 1 }, 0, 0 } }, 64)).find("5 dimensions"), std::string::npos);

    GgufWriter b;
    b.string("key"), b.put<u32>(8), b.put<u64>(u64(1) << 40); // a string claiming a terabyte
    EXPECT_NE(error_of(gguf_file(b, 0, 1, 0)).find("claims"), std::string::npos);
    GgufWriter c;
    c.string("key"), c.put<u32>(77); // unknown value type
    EXPECT_NE(error_of(gguf_file(c, 0, 1, 0)).find("unknown value type 77"), std::string::npos);
}

std::string model_error(std::vector<u8> const& bytes)
{
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    if (file.is_error())
        return "parse: " + std::string(file.error().message().data(), file.error().message().length());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    return checkpoint.is_error() ? std::string(checkpoint.error().message().data(), checkpoint.error().message().length()) : "";
}

// A tiny llama GGUF: dim 32, hidden 32, 1 layer, 4 heads, vocab 8, all F32; `skip` leaves
// one tensor out, `wrong_shape` gives attn_q the wrong width.
std::vector<u8> tiny_llama(std::string const& architecture, std::string const& skip = "", bool wrong_shape = false, std::string const& extra = "")
{
    GgufWriter b;
    b.kv_string("general.architecture", architecture);
    for (auto [key, value] : std::vector<std::pair<std::string, u32>> { { "llama.embedding_length", 32 }, { "llama.feed_forward_length", 32 },
             { "llama.block_count", 1 }, { "llama.attention.head_count", 4 }, { "llama.context_length", 16 } })
        b.kv_u32(key, value);
    std::vector<std::pair<std::string, std::vector<u64>>> tensors = { { "token_embd.weight", { 32, 8 } }, { "output_norm.weight", { 32 } },
        { "blk.0.attn_norm.weight", { 32 } }, { "blk.0.ffn_norm.weight", { 32 } }, { "blk.0.attn_q.weight", { wrong_shape ? 16u : 32u, 32 } },
        { "blk.0.attn_k.weight", { 32, 32 } }, { "blk.0.attn_v.weight", { 32, 32 } }, { "blk.0.attn_output.weight", { 32, 32 } },
        { "blk.0.ffn_gate.weight", { 32, 32 } }, { "blk.0.ffn_down.weight", { 32, 32 } }, { "blk.0.ffn_up.weight", { 32, 32 } } };
    if (!extra.empty())
        tensors.push_back({ extra, { 32, 32 } });
    u64 offset = 0, count = 0;
    for (auto const& [name, dims] : tensors) {
        if (name == skip)
            continue;
        b.tensor_info(name, dims, 0, offset);
        u64 elements = 1;
        for (u64 d : dims)
            elements *= d;
        offset += (elements * 4 + 31) / 32 * 32;
        ++count;
    }
    return gguf_file(b, count, 6, size_t(offset));
}

TEST(GgufModel, LoadsAndRejectsWithClearMessages)
{
    testing_support::ScopedHeap heap(4 << 20);
    EXPECT_EQ(model_error(tiny_llama("llama")), "");
    EXPECT_EQ(model_error(tiny_llama("gpt2")),
        "gguf: unsupported architecture \"gpt2\" (BareFlow runs llama, qwen2, qwen3, gemma2, gemma3, phi3, granite, smollm3, ernie4_5, olmo2)");
    EXPECT_NE(model_error(tiny_llama("llama", "blk.0.ffn_up.weight")).find("tensor blk.0.ffn_up.weight is missing"), std::string::npos);
    EXPECT_NE(model_error(tiny_llama("llama", "", true)).find("blk.0.attn_q.weight has shape [16, 32], the model needs [32, 32]"), std::string::npos);
}

TEST(GgufModel, MetadataThatContradictsTheTensorsIsAnError)
{
    testing_support::ScopedHeap heap(4 << 20);
    // block_count 1, but a second layer's tensor is present: it would be ignored.
    EXPECT_EQ(model_error(tiny_llama("llama", "", false, "blk.1.attn_q.weight")),
        "gguf: tensor blk.1.attn_q.weight belongs to layer 1, but llama.block_count is 1");
    EXPECT_EQ(model_error(tiny_llama("llama", "", false, "blk.99999999999999999999.ffn_up.weight")),
        "gguf: tensor blk.99999999999999999999.ffn_up.weight belongs to layer 2147483648, but llama.block_count is 1");
    EXPECT_EQ(model_error(tiny_llama("llama", "", false, "extra.weight")), ""); // unused extras stay allowed
}

TEST(Gguf, DuplicatesAndOverflowingShapesAreErrors)
{
    testing_support::ScopedHeap heap(1 << 20);
    GgufWriter b;
    b.kv_u32("llama.block_count", 2);
    b.kv_string("general.architecture", "llama");
    b.kv_u32("llama.block_count", 22);
    EXPECT_EQ(error_of(gguf_file(b, 0, 3, 0)), "gguf: metadata key llama.block_count appears twice");

    // 2^32 * 2^32 * 2^32 wraps to 0 in 64 bits, which would pass every size check.
    auto with_tensors = [](std::vector<std::pair<std::string, std::vector<u64>>> tensors) {
        GgufWriter t;
        u64 offset = 0;
        for (auto const& [name, dims] : tensors)
            t.tensor_info(name, dims, 0, offset), offset += 64;
        return gguf_file(t, tensors.size(), 0, size_t(offset));
    };
    u64 big = u64(1) << 32;
    EXPECT_EQ(error_of(with_tensors({ { "x", { big, big, big } } })), "gguf: tensor x has dimensions whose product overflows 64 bits");
    EXPECT_EQ(error_of(with_tensors({ { "x", { 16, big, big, big } } })), "gguf: tensor x has dimensions whose product overflows 64 bits");
    EXPECT_EQ(error_of(with_tensors({ { "w", { 8 } }, { "x", { 8 } }, { "w", { 8 } } })), "gguf: tensor name w appears twice");
}

// llama.cpp's tokenizer test for the vocabulary `name` (in the models folder's gguf/):
// every input of its .inp file must give the ids of its .out. Returns the inputs checked.
size_t check_llama_cpp_vocab_test(std::string const& name, llm::GgufTokenizer const& tokenizer)
{
    std::ifstream inp(testing_support::models_directory() + "/gguf/" + name + ".inp", std::ios::binary);
    std::ifstream out(testing_support::models_directory() + "/gguf/" + name + ".out");
    EXPECT_TRUE(inp && out);
    std::stringstream all;
    all << inp.rdbuf();
    std::string text = all.str();
    const std::string separator = "\n__ggml_vocab_test__\n";
    std::vector<std::string> inputs;
    for (size_t at = 0; at < text.size();) {
        size_t end = text.find(separator, at);
        if (end == std::string::npos)
            break;
        inputs.push_back(text.substr(at, end - at));
        at = end + separator.size();
    }
    size_t checked = 0;
    std::string line;
    for (auto const& input : inputs) {
        if (!std::getline(out, line))
            break;
        std::vector<i32> expected;
        std::istringstream ids(line);
        for (i32 id; ids >> id;)
            expected.push_back(id);
        std::vector<i32> tokens(3 * input.size() + 4);
        auto n = tokenizer.encode({ input.data(), input.size() }, false, { tokens.data(), tokens.size() });
        EXPECT_FALSE(n.is_error());
        tokens.resize(n.is_error() ? 0 : n.value());
        EXPECT_EQ(tokens, expected) << name << ", input: \"" << input << "\"";
        ++checked;
    }
    return checked;
}

TEST(GgufTokenizer, MatchesLlamaCppOnItsOwnTestCases)
{
    std::vector<u8> vocab;
    REQUIRE_MODEL_FILE("gguf/ggml-vocab-llama-spm.gguf", vocab);
    testing_support::ScopedHeap heap(64 << 20);
    auto file = llm::gguf::File::parse({ vocab.data(), vocab.size() });
    ASSERT_FALSE(file.is_error()) << std::string(file.error().message().data(), file.error().message().length());
    auto tokenizer = llm::GgufTokenizer::load(file.value());
    ASSERT_FALSE(tokenizer.is_error()) << std::string(tokenizer.error().message().data(), tokenizer.error().message().length());
    EXPECT_EQ(tokenizer.value().vocab_size(), 32000);
    size_t checked = check_llama_cpp_vocab_test("ggml-vocab-llama-spm.gguf", tokenizer.value());
    EXPECT_EQ(checked, 46u);

    // Decoding gives the text back, byte-fallback tokens included (the llama emoji is not
    // in the vocabulary as a piece).
    for (std::string text : { "Hello world", "naïve café", "llama \xF0\x9F\xA6\x99 time" }) {
        std::vector<i32> tokens(3 * text.size() + 4);
        auto n = tokenizer.value().encode({ text.data(), text.size() }, true, { tokens.data(), tokens.size() });
        ASSERT_FALSE(n.is_error());
        std::string decoded;
        for (size_t i = 1; i < n.value(); ++i) {
            auto piece = tokenizer.value().decode(tokens[i - 1], tokens[i]);
            decoded.append(piece.data(), piece.length());
        }
        EXPECT_EQ(decoded, text);
    }
}

// The same for byte-level BPE vocabularies, those of llama.cpp's models/ (with their test
// files) that the models folder's gguf/ holds: GPT-2's and MPT's (GPT-2's word cutting),
// StarCoder's and Refact's (numbers apart first, as smollm's). See README "GGUF".
TEST(GgufTokenizer, ByteLevelBpeMatchesLlamaCppOnItsOwnTestCases)
{
    testing_support::ScopedHeap heap(64 << 20);
    size_t vocabularies = 0;
    for (std::string name : { "ggml-vocab-gpt-2.gguf", "ggml-vocab-mpt.gguf", "ggml-vocab-starcoder.gguf", "ggml-vocab-refact.gguf" }) {
        std::vector<u8> vocab;
        if (!testing_support::read_model_file("gguf/" + name, vocab))
            continue;
        ++vocabularies;
        auto file = llm::gguf::File::parse({ vocab.data(), vocab.size() });
        ASSERT_FALSE(file.is_error()) << name;
        auto tokenizer = llm::GgufTokenizer::load(file.value());
        ASSERT_FALSE(tokenizer.is_error()) << name << ": " << std::string(tokenizer.error().message().data(), tokenizer.error().message().length());
        EXPECT_TRUE(tokenizer.value().is_byte_level());
        EXPECT_EQ(check_llama_cpp_vocab_test(name, tokenizer.value()), 46u) << name;
    }
    if (vocabularies == 0)
        GTEST_SKIP() << "no llama.cpp byte-level vocabulary (gguf/ggml-vocab-gpt-2.gguf ...) in " << testing_support::models_directory();
    std::vector<u8> vocab;
    REQUIRE_MODEL_FILE("gguf/ggml-vocab-gpt-2.gguf", vocab);
    auto file = llm::gguf::File::parse({ vocab.data(), vocab.size() });
    ASSERT_FALSE(file.is_error());
    auto tokenizer = llm::GgufTokenizer::load(file.value());
    ASSERT_FALSE(tokenizer.is_error());
    EXPECT_EQ(tokenizer.value().vocab_size(), 50257);
    EXPECT_FALSE(tokenizer.value().adds_bos());
    // Decoding gives the bytes back, whatever they are.
    for (std::string text : { "Hello world\n\n  x", "naïve café", "llama \xF0\x9F\xA6\x99 time", "\x01\x7f\xad" }) {
        std::vector<i32> tokens(3 * text.size() + 4);
        auto n = tokenizer.value().encode({ text.data(), text.size() }, false, { tokens.data(), tokens.size() });
        ASSERT_FALSE(n.is_error());
        std::string decoded;
        for (size_t i = 0; i < n.value(); ++i) {
            auto piece = tokenizer.value().decode(i ? tokens[i - 1] : -1, tokens[i]);
            decoded.append(piece.data(), piece.length());
        }
        EXPECT_EQ(decoded, text);
    }
}

}

namespace {

// A four-token GGUF vocabulary; `ids` adds bos/eos ids as (key, ggml value type, bytes).
std::string tokenizer_error(std::vector<std::tuple<std::string, u32, u64>> const& ids)
{
    GgufWriter b;
    b.kv_string("tokenizer.ggml.model", "llama");
    b.kv_strings("tokenizer.ggml.tokens", { "<unk>", "<s>", "</s>", "a" });
    b.kv_numbers("tokenizer.ggml.scores", ValueType::Float32, std::vector<float> { 0, 0, 0, -1 });
    for (auto const& [key, type, value] : ids) {
        b.string(key), b.put<u32>(type);
        if (type == 10 || type == 11)
            b.put<u64>(value);
        else
            b.put<u32>(u32(value));
    }
    auto bytes = gguf_file(b, 0, 3 + ids.size(), 0);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    if (file.is_error())
        return "parse: " + std::string(file.error().message().data(), file.error().message().length());
    auto t = llm::GgufTokenizer::load(file.value());
    return t.is_error() ? std::string(t.error().message().data(), t.error().message().length()) : "";
}

TEST(GgufTokenizer, SpecialIdsMustBeInsideTheVocabulary)
{
    testing_support::ScopedHeap heap(1 << 20);
    EXPECT_EQ(tokenizer_error({}), "");
    EXPECT_EQ(tokenizer_error({ { "tokenizer.ggml.bos_token_id", 4, 1 }, { "tokenizer.ggml.eos_token_id", 4, 3 } }), "");
    EXPECT_EQ(tokenizer_error({ { "tokenizer.ggml.eos_token_id", 5, u32(-1) } }),
        "tokenizer: gguf: metadata tokenizer.ggml.eos_token_id is negative (-1)");
    EXPECT_EQ(tokenizer_error({ { "tokenizer.ggml.bos_token_id", 4, 4 } }), "tokenizer: tokenizer.ggml.bos_token_id = 4 is outside the vocabulary of 4 tokens");
    // Ids beyond 32 bits must not wrap into range.
    EXPECT_EQ(tokenizer_error({ { "tokenizer.ggml.eos_token_id", 10, (u64(1) << 32) + 2 } }),
        "tokenizer: tokenizer.ggml.eos_token_id = 4294967298 is outside the vocabulary of 4 tokens");
    EXPECT_EQ(tokenizer_error({ { "tokenizer.ggml.bos_token_id", 11, 1 } }),
        "tokenizer: gguf: metadata tokenizer.ggml.bos_token_id is not an unsigned integer");
}

}

namespace {

// tiny_llama's shapes with deterministic pseudo-random F32 weights, in a file with the
// given general.alignment; every tensor's data starts `skew` bytes past a multiple of it.
std::vector<u8> random_tiny_llama(u32 alignment, u64 skew)
{
    GgufWriter b;
    b.kv_string("general.architecture", "llama");
    for (auto [key, value] : std::vector<std::pair<std::string, u32>> { { "llama.embedding_length", 32 }, { "llama.feed_forward_length", 32 },
             { "llama.block_count", 1 }, { "llama.attention.head_count", 4 }, { "llama.context_length", 16 }, { "general.alignment", alignment } })
        b.kv_u32(key, value);
    std::vector<std::pair<std::string, std::vector<u64>>> tensors = { { "token_embd.weight", { 32, 8 } }, { "output_norm.weight", { 32 } },
        { "blk.0.attn_norm.weight", { 32 } }, { "blk.0.ffn_norm.weight", { 32 } }, { "blk.0.attn_q.weight", { 32, 32 } },
        { "blk.0.attn_k.weight", { 32, 32 } }, { "blk.0.attn_v.weight", { 32, 32 } }, { "blk.0.attn_output.weight", { 32, 32 } },
        { "blk.0.ffn_gate.weight", { 32, 32 } }, { "blk.0.ffn_down.weight", { 32, 32 } }, { "blk.0.ffn_up.weight", { 32, 32 } } };
    std::vector<u64> offsets, sizes;
    u64 offset = skew;
    for (auto const& [name, dims] : tensors) {
        b.tensor_info(name, dims, 0, offset);
        u64 bytes = dims[0] * (dims.size() > 1 ? dims[1] : 1) * 4;
        offsets.push_back(offset), sizes.push_back(bytes);
        offset += (bytes + alignment - 1) / alignment * alignment;
    }
    auto file = b.file_start(tensors.size(), 7);
    size_t header_end = 24 + b.fields().size();
    size_t data_start = (header_end + alignment - 1) / alignment * alignment;
    file.resize(data_start + offset, 0);
    u32 state = 2024;
    for (size_t t = 0; t < tensors.size(); ++t) {
        bool is_norm = tensors[t].second.size() == 1;
        for (u64 i = 0; i < sizes[t] / 4; ++i) {
            state = state * 1664525u + 1013904223u;
            float value = float(i32(state >> 8) - (1 << 23)) / float(1 << 23) * 0.2f + (is_norm ? 1.0f : 0.0f);
            std::memcpy(file.data() + data_start + offsets[t] + 4 * i, &value, 4);
        }
    }
    return file;
}

std::vector<float> first_logits(std::vector<u8> const& bytes, bool& misaligned)
{
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    EXPECT_FALSE(file.is_error()) << (file.is_error() ? std::string(file.error().message().data(), file.error().message().length()) : "");
    if (file.is_error())
        return {};
    misaligned = false;
    for (auto const& t : file.value().tensors())
        misaligned = misaligned || uptr(t.data) % 4 != 0;
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    EXPECT_FALSE(checkpoint.is_error()) << (checkpoint.is_error() ? std::string(checkpoint.error().message().data(), checkpoint.error().message().length()) : "");
    if (checkpoint.is_error())
        return {};
    auto transformer = llm::Transformer::create(checkpoint.value()).release_value();
    transformer.forward(1, 0);
    float* logits = transformer.forward(3, 1);
    return std::vector<float>(logits, logits + 8);
}

// GGUF allows general.alignment 1: F32 tensors may then start at any byte. They must load
// and compute exactly what the same weights compute when aligned (no unaligned float
// reads, which are undefined behaviour and which UBSan reports).
TEST(GgufModel, UnalignedF32TensorsComputeLikeAlignedOnes)
{
    testing_support::ScopedHeap heap(8 << 20);
    bool misaligned = true;
    auto aligned = first_logits(random_tiny_llama(32, 0), misaligned);
    EXPECT_FALSE(misaligned);
    ASSERT_EQ(aligned.size(), 8u);
    int unaligned_files = 0;
    for (u64 skew : { 1, 2, 3 }) { // at least two of three put the tensors off 4-byte boundaries
        auto odd = first_logits(random_tiny_llama(1, skew), misaligned);
        unaligned_files += misaligned;
        EXPECT_EQ(aligned, odd) << "skew " << skew;
    }
    EXPECT_GE(unaligned_files, 2);
}

}
