#pragma once
// The SentencePiece tokenizer of a GGUF file (tokenizer.ggml.model = "llama"): spaces
// become U+2581, a space is put before the text, characters are merged pairwise, always
// the best-scoring pair first (leftmost on ties), and characters the vocabulary lacks
// fall back to <0xXX> byte tokens. This is llama.cpp's algorithm, so ids match its own.
#include "gguf.h"
#include "piece_index.h"
#include "text_tokenizer.h"

namespace llm {

class GgufTokenizer final : public TextTokenizer {
public:
    static rt::ErrorOr<GgufTokenizer> load(gguf::File const&);

    // Tokens for `text` (no BOS unless asked); `tokens` needs 3 * text length + 4 slots.
    rt::ErrorOr<size_t> encode(rt::StringView text, bool add_bos, rt::Span<i32> tokens) const;
    rt::ErrorOr<i32> encode_prompt(rt::StringView text, rt::Span<i32> tokens) const override
    {
        return i32(TRY(encode(text, true, tokens)));
    }
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
};

}
