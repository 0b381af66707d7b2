#pragma once
// The SentencePiece tokenizer of a GGUF file (tokenizer.ggml.model = "llama"): spaces
// become U+2581, a space is put before the text, characters are merged pairwise, always
// the best-scoring pair first (leftmost on ties), and characters the vocabulary lacks
// fall back to <0xXX> byte tokens. This is llama.cpp's algorithm, so ids match its own.
// Special tokens (token types CONTROL, USER_DEFINED and UNKNOWN, e.g. "</s>", "<|im_end|>"
// or "<unk>") are found in template text and become their ids, as llama.cpp's
// parse_special does.
#include "gguf.h"
#include "piece_index.h"
#include "text_tokenizer.h"

namespace llm {

class GgufTokenizer final : public TextTokenizer {
public:
    static rt::ErrorOr<GgufTokenizer> load(gguf::File const&);

    // Tokens for `text` (no BOS unless asked); `tokens` needs 3 * text length + 4 slots.
    rt::ErrorOr<size_t> encode(rt::StringView text, bool add_bos, rt::Span<i32> tokens) const;

    // A piece of a chat prompt. Template text (the format's markers) may hold special
    // tokens; what the user typed never does, so typing "</s>" cannot end a turn.
    struct Fragment {
        rt::StringView text;
        bool is_template;
    };
    // Slots encode_fragments needs for fragments of `text_length` bytes in all (special
    // tokens of a single character could need more: then it says the buffer is too small).
    static size_t fragments_capacity(size_t text_length) { return 3 * text_length + 3; }
    // The fragments' tokens, as llama.cpp tokenises a formatted chat: text between special
    // tokens is encoded in one piece (fragments join), with the space prefix at the very
    // start and after each special token.
    rt::ErrorOr<size_t> encode_fragments(rt::Span<const Fragment>, rt::Span<i32> tokens) const;
    // The special token `text` starts with (the longest), or -1; `length` gets its length.
    i32 special_token_at(rt::StringView text, size_t& length) const;
    // BOS, then the prompt with its special tokens parsed (as llama.cpp's own programs do).
    rt::ErrorOr<i32> encode_prompt(rt::StringView text, rt::Span<i32> tokens) const override;
    rt::StringView decode(i32 previous, i32 token) const override;
    bool ends_text(i32 token) const override { return token == m_eos || token == m_bos; }
    i32 vocab_size() const { return m_vocab_size; }
    i32 bos() const { return m_bos; }
    i32 eos() const { return m_eos; }
    rt::StringView piece(i32 id) const { return m_pieces[size_t(id)]; }
    // The id of a token by its exact text (e.g. "<|im_end|>"), or -1.
    i32 find_piece(rt::StringView text) const { return lookup(text); }

private:
    i32 lookup(rt::StringView) const;
    rt::ErrorOr<size_t> encode_text(rt::StringView text, bool space_prefix, rt::Span<i32> tokens) const;

    i32 m_vocab_size { 0 };
    i32 m_bos { 1 }, m_eos { 2 };
    bool m_add_space_prefix { true };
    rt::HeapArray<rt::StringView> m_pieces;
    rt::HeapArray<float> m_scores;
    PieceIndex m_index;
    i32 m_byte_tokens[256] {};
    u8 m_byte_values[256] {};
    rt::HeapArray<i16> m_byte_of_token; // per token: the byte a <0xXX> token stands for, or -1
    rt::HeapArray<char> m_decode_buffer; // a piece with U+2581 turned back into spaces
    rt::HeapArray<i32> m_special_tokens; // ids of CONTROL, USER_DEFINED and UNKNOWN tokens
};

}
