#pragma once
// The llama2.c tokenizer format: int32 max_token_length, then per token a float merge
// score, an int32 byte length and the bytes. Encoding is SentencePiece-style BPE: start
// from code points (bytes as <0xXX> tokens when a code point is unknown) and repeatedly
// merge the adjacent pair whose merged piece has the highest score.
#include <rt/error.h>
#include "text_tokenizer.h"
#include "piece_index.h"
#include <rt/heap.h>

namespace llm {

// Whether a decoded piece is worth printing: a lone control byte is not (llama2.c's rule).
bool is_printable_piece(rt::StringView);

class Tokenizer final : public TextTokenizer {
public:
    static constexpr i32 bos = 1;
    static constexpr i32 eos = 2;
    static constexpr i32 first_byte_token = 3; // <0x00> .. <0xFF> follow

    // `vocab_size` comes from the model: the file must hold exactly that many tokens.
    static rt::ErrorOr<Tokenizer> load(rt::Bytes file, i32 vocab_size);

    // Encodes `text` into `tokens` (capacity: text length + 3 always suffices).
    rt::ErrorOr<i32> encode(rt::StringView text, bool add_bos, bool add_eos, rt::Span<i32> tokens) const;

    // The text of `token` as it should be printed after `previous`.
    rt::StringView decode(i32 previous, i32 token) const override;
    rt::ErrorOr<i32> encode_prompt(rt::StringView text, rt::Span<i32> tokens) const override { return encode(text, true, false, tokens); }
    bool ends_text(i32 token) const override { return token == bos; } // as llama2.c's run.c
    bool printable(rt::StringView piece) const override { return is_printable_piece(piece); }

    rt::StringView piece(i32 token) const { return m_pieces[size_t(token)]; }
    i32 vocab_size() const { return m_vocab_size; }

private:
    i32 lookup(rt::StringView) const;

    i32 m_vocab_size { 0 };
    u32 m_max_token_length { 0 };
    rt::HeapArray<rt::StringView> m_pieces; // point into the module: no copies
    rt::HeapArray<float> m_scores;
    PieceIndex m_index;
    rt::HeapArray<char> m_merge_buffer;     // two pieces side by side while merging
    u8 m_byte_values[256] {};               // backing store for decoded <0xXX> tokens
};



}
