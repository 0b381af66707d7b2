#pragma once
// What generation needs from a tokenizer, whichever file format it came from (llama2.c's
// tokenizer.bin or a GGUF vocabulary).
#include <rt/error.h>

namespace llm {

class TextTokenizer {
public:
    // Slots encode_prompt may need for `text_length` bytes of text.
    static size_t token_capacity(size_t text_length) { return 3 * text_length + 4; }
    // The prompt's tokens, BOS first (unless the vocabulary starts texts without one); at
    // least one token (an empty prompt is BOS).
    virtual rt::ErrorOr<i32> encode_prompt(rt::StringView text, rt::Span<i32> tokens) const = 0;
    // The text of `token` as printed after `previous`.
    virtual rt::StringView decode(i32 previous, i32 token) const = 0;
    // Whether a decoded piece is printed: llama2.c drops a lone byte that is not printable
    // ASCII (its tokenizer.bin's <0xXX> pieces), and its stories are reproduced exactly; a
    // GGUF vocabulary's bytes are printed, UTF-8 characters split over tokens included.
    virtual bool printable(rt::StringView piece) const = 0;
    // Whether the model ends its text by emitting `token`.
    virtual bool ends_text(i32 token) const = 0;

protected:
    ~TextTokenizer() = default;
};

}
