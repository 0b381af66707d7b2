// The byte-level BPE half of GgufTokenizer (gguf_tokenizer.h): words, their bytes as
// characters, joined by the merges.
#include "bigram_queue.h"
#include "byte_level.h"
#include "gguf_tokenizer.h"
#include <rt/utf8.h>

namespace llm {

namespace {
// The tokenizer.ggml.pre values whose cutting GPT-2's expression is (llama.cpp's names).
constexpr rt::StringView gpt2_pre_tokenizers[] = { "gpt-2", "phi-2", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de",
    "jina-v2-code", "roberta-bpe", "gigachat", "mpt", "olmo", "jais" };
// Those llama.cpp reads as Llama 3's (its word cutting, whole words, BOS by default).
constexpr rt::StringView llama3_pre_tokenizers[] = { "llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2" };
// Those llama.cpp reads as GPT-4o's (Phi-4's, Llama 4's).
constexpr rt::StringView gpt4o_pre_tokenizers[] = { "gpt-4o", "llama4", "kanana2", "talkie" };
}

rt::ErrorOr<void> GgufTokenizer::load_byte_level(gguf::File const& file)
{
    m_add_space_prefix = false;
    // Older converters wrote no pre-tokenizer: GPT-2's expression, the one the others vary.
    m_pre_tokenizer = PreTokenizer::Gpt2;
    if (file.find("tokenizer.ggml.pre")) {
        auto pre = TRY(file.get_string("tokenizer.ggml.pre"));
        bool gpt2 = false;
        for (auto name : gpt2_pre_tokenizers)
            gpt2 = gpt2 || pre == name;
        bool llama3 = false;
        for (auto name : llama3_pre_tokenizers)
            llama3 = llama3 || pre == name;
        bool gpt4o = false;
        for (auto name : gpt4o_pre_tokenizers)
            gpt4o = gpt4o || pre == name;
        // Mistral's Tekken: like Llama 3's vocabularies, BOS by default and whole words.
        bool tekken = pre == "tekken";
        // DBRX's (OLMo 2's) and Smaug's cut words as Llama 3's, without its other two habits.
        bool llama3_words = llama3 || pre == "dbrx" || pre == "smaug-bpe";
        if (pre == "smollm" || pre == "starcoder" || pre == "refact")
            m_pre_tokenizer = PreTokenizer::SmolLm; // llama.cpp cuts these three alike
        else if (llama3_words)
            m_pre_tokenizer = PreTokenizer::Llama3;
        else if (pre == "qwen2" || pre == "deepseek-r1-qwen" || pre == "stablelm2")
            m_pre_tokenizer = PreTokenizer::Qwen2;
        else if (gpt4o)
            m_pre_tokenizer = PreTokenizer::Gpt4o;
        else if (tekken)
            m_pre_tokenizer = PreTokenizer::Tekken;
        else if (!gpt2)
            return rt::Error::format("tokenizer: BPE pre-tokenizer \"{}\" is not supported (gpt-2, smollm, llama-bpe, qwen2, gpt-4o and "
                                     "tekken and the vocabularies that cut words as they do are)",
                pre);
        // Llama 3's and Tekken's vocabularies start a text with BOS unless they say
        // otherwise, and take a word that is a token whole.
        if ((llama3 || tekken) && !file.find("tokenizer.ggml.add_bos_token"))
            m_add_bos = true;
        m_whole_words = llama3 || tekken;
    }
    // Some vocabularies leave out bytes that UTF-8 never uses (0xC0, 0xC1, 0xF5 and up: MPT's);
    // such a byte in a text is dropped. The letters and digits of ASCII must all be there.
    for (int b = 0; b < 256; ++b) {
        char bytes[4];
        size_t length = rt::encode_utf8(byte_level::character_of(u8(b)), bytes);
        m_byte_level_tokens[b] = lookup({ bytes, length });
        bool needed = b < 0x80;
        if (m_byte_level_tokens[b] < 0 && needed)
            return rt::Error::format("tokenizer: the byte-level vocabulary has no token for byte {:#04x}", b);
    }
    auto merges = TRY(file.get_array("tokenizer.ggml.merges", gguf::ValueType::String));
    m_merges = TRY(BpeMerges::build(merges, { m_pieces.data(), m_pieces.size() }, m_index));
    return {};
}

rt::ErrorOr<size_t> GgufTokenizer::encode_words(rt::StringView text, rt::Span<i32> tokens) const
{
    // A token per byte at most.
    if (tokens.size() < text.length())
        return rt::Error::format("tokenizer: token buffer of {} too small for {} bytes", tokens.size(), text.length());
    size_t count = 0;
    for (size_t at = 0; at < text.length();) {
        size_t end = word_end(text, at, m_pre_tokenizer);
        count += encode_word(text.substring(at, end - at), tokens.data() + count);
        at = end;
    }
    return count;
}

// The word's bytes as their characters' tokens, then joined: the pair learned first, the
// leftmost of the same pair first. Returns how many tokens are left. Llama 3's vocabularies
// take a word that is a token whole, whatever the merges would make of it (llama.cpp's
// ignore_merges: m_whole_words).
size_t GgufTokenizer::encode_word(rt::StringView word, i32* tokens) const
{
    if (m_whole_words && word.length() <= 64) {
        char characters[2 * 64];
        size_t length = 0;
        for (char byte : word)
            length += rt::encode_utf8(byte_level::character_of(u8(byte)), characters + length);
        if (i32 whole = lookup({ characters, length }); whole >= 0) {
            tokens[0] = whole;
            return 1;
        }
    }
    // Symbols and the queue live on the stack for a short word, as most are.
    constexpr size_t on_stack = 64;
    Symbol stack_symbols[on_stack];
    Bigram stack_bigrams[3 * on_stack];
    rt::HeapArray<Symbol> heap_symbols;
    rt::HeapArray<Bigram> heap_bigrams;
    Symbol* symbols = stack_symbols;
    Bigram* bigrams = stack_bigrams;
    size_t n = word.length();
    if (n > on_stack) {
        auto s = rt::HeapArray<Symbol>::allocate(n);
        auto b = rt::HeapArray<Bigram>::allocate(3 * n);
        if (s.is_error() || b.is_error()) { // no memory to join them: the bytes' tokens
            size_t count = 0;
            for (size_t i = 0; i < n; ++i)
                if (m_byte_level_tokens[u8(word[i])] >= 0)
                    tokens[count++] = m_byte_level_tokens[u8(word[i])];
            return count;
        }
        heap_symbols = s.release_value();
        heap_bigrams = b.release_value();
        symbols = heap_symbols.data();
        bigrams = heap_bigrams.data();
    }
    // A symbol's `offset` holds its token here (its `length` how many bytes it covers).
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
        i32 token = m_byte_level_tokens[u8(word[i])];
        if (token >= 0) {
            symbols[kept] = { u32(token), 1, i32(kept) - 1, i32(kept) + 1 };
            ++kept;
        }
    }
    if (kept == 0)
        return 0;
    n = kept;
    symbols[n - 1].next = -1;
    BigramQueue queue(bigrams, 3 * n);
    auto try_add = [&](i32 left, i32 right) {
        if (left < 0 || right < 0)
            return;
        auto merge = m_merges.find(i32(symbols[left].offset), i32(symbols[right].offset));
        if (merge.rank >= 0) // the earliest learned scores highest
            queue.push({ -float(merge.rank), left, right, symbols[left].length + symbols[right].length });
    };
    for (size_t i = 1; i < n; ++i)
        try_add(i32(i - 1), i32(i));
    join_pairs(symbols, queue, [&](Symbol& left, Symbol& right) { left.offset = u32(m_merges.find(i32(left.offset), i32(right.offset)).token); },
        try_add);
    size_t count = 0;
    for (i32 i = 0; i != -1; i = symbols[size_t(i)].next)
        tokens[count++] = i32(symbols[size_t(i)].offset);
    return count;
}

// A piece's characters back to the bytes they stand for; a character that stands for none
// (in a special token such as "<|im_end|>" every character is itself) is kept as it is.
rt::StringView GgufTokenizer::decode_byte_level(rt::StringView piece) const
{
    size_t length = 0;
    for (size_t i = 0; i < piece.length();) {
        u8 lead = u8(piece[i]);
        size_t n = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
        n = rt::min(n, piece.length() - i);
        u32 character = n == 1 ? lead : lead & (0x7F >> n);
        for (size_t k = 1; k < n; ++k)
            character = (character << 6) | (u8(piece[i + k]) & 0x3F);
        int byte = byte_level::byte_of(character);
        if (byte >= 0) {
            m_decode_buffer[length++] = char(byte);
        } else {
            for (size_t k = 0; k < n; ++k)
                m_decode_buffer[length++] = piece[i + k];
        }
        i += n;
    }
    return { m_decode_buffer.data(), length };
}

}
