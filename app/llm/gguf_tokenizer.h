#pragma once
// The tokenizer of a GGUF file, in either of the two formats small llama models come with:
// - SentencePiece (tokenizer.ggml.model = "llama": TinyLlama, Llama 2): spaces become
//   U+2581, a space is put before the text, characters are merged pairwise, always the
//   best-scoring pair first (leftmost on ties), and characters the vocabulary lacks fall
//   back to <0xXX> byte tokens.
// - byte-level BPE (tokenizer.ggml.model = "gpt2": SmolLM, GPT-2): the text is cut into
//   words (pre_tokenizer.h), each word's bytes written as characters (byte_level.h), and
//   those joined by the merges in the order they were learned (bpe_merges.h).
// These are llama.cpp's algorithms, so ids match its own. Special tokens (token types
// CONTROL, USER_DEFINED and UNKNOWN, e.g. "</s>", "<|im_end|>" or "<unk>") are found in
// template text and become their ids, as llama.cpp's parse_special does; USER_DEFINED ones
// (a vocabulary's additions) in any text, as llama.cpp finds them.
#include "bpe_merges.h"
#include "gguf.h"
#include "piece_index.h"
#include "pre_tokenizer.h"
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
    // Outside template text only USER_DEFINED tokens count.
    i32 special_token_at(rt::StringView text, size_t& length, bool template_text = true) const;
    struct SpecialToken {
        i32 id;
        bool in_any_text; // USER_DEFINED: found in what the user typed too
        bool control;     // CONTROL: never printed
    };
    // BOS (where the vocabulary asks for it: tokenizer.ggml.add_bos_token, by default
    // SentencePiece's yes and BPE's no), then the prompt with its special tokens parsed (as
    // llama.cpp's own programs do).
    rt::ErrorOr<i32> encode_prompt(rt::StringView text, rt::Span<i32> tokens) const override;
    rt::StringView decode(i32 previous, i32 token) const override;
    // EOS and BOS, and the tokens that end a turn or a text in the vocabularies of chat
    // models (llama.cpp's end-of-generation set): Llama 3's <|eot_id|> where EOS is
    // <|end_of_text|>, ChatML's <|im_end|>, <|endoftext|> ...
    bool ends_text(i32 token) const override;
    // Everything but a lone control byte (a terminal would act on it).
    bool printable(rt::StringView piece) const override;
    i32 vocab_size() const { return m_vocab_size; }
    i32 bos() const { return m_bos; }
    i32 eos() const { return m_eos; }
    rt::StringView piece(i32 id) const { return m_pieces[size_t(id)]; }
    // The id of a token by its exact text (e.g. "<|im_end|>"), or -1.
    i32 find_piece(rt::StringView text) const { return lookup(text); }

    bool adds_bos() const { return m_add_bos; }
    PreTokenizer pre_tokenizer() const { return m_pre_tokenizer; } // byte-level BPE's word cutting
    bool is_byte_level() const { return m_byte_level; }

private:
    rt::ErrorOr<void> load_byte_level(gguf::File const&);
    void find_end_tokens(gguf::File const&);
    bool is_control(i32 token) const;
    i32 lookup(rt::StringView) const;
    rt::ErrorOr<size_t> encode_text(rt::StringView text, bool space_prefix, rt::Span<i32> tokens) const;
    rt::ErrorOr<size_t> encode_words(rt::StringView text, rt::Span<i32> tokens) const;
    size_t encode_word(rt::StringView word, i32* tokens) const;
    rt::StringView decode_byte_level(rt::StringView piece) const;

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
    rt::HeapArray<SpecialToken> m_special_tokens; // CONTROL, USER_DEFINED and UNKNOWN tokens
    bool m_add_bos { true };
    static constexpr size_t max_end_tokens = 8;
    i32 m_end_tokens[max_end_tokens] {};
    size_t m_end_token_count { 0 };
    // Byte-level BPE only:
    bool m_byte_level { false };
    PreTokenizer m_pre_tokenizer { PreTokenizer::Gpt2 };
    bool m_whole_words { false }; // a word that is a token is taken whole (llama.cpp's ignore_merges: Llama 3's)
    BpeMerges m_merges;
    i32 m_byte_level_tokens[256] {}; // the token of each byte's character
};

}
