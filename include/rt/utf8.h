#pragma once
// UTF-8 decoded a byte at a time, as text reaches a screen: a model's pieces may split a
// character between them (byte tokens), so the decoder keeps what it has between calls.
#include <rt/types.h>

namespace rt {

class Utf8Decoder {
public:
    static constexpr u32 replacement = 0xFFFD; // for bytes that make no character

    // Takes the next byte; writes the characters it completes to `out` (none while a
    // character is unfinished, two when a cut-short one is replaced before this one) and
    // returns how many.
    size_t take(u8 byte, u32 out[2]);

private:
    u32 m_code { 0 };
    u32 m_remaining { 0 }; // continuation bytes still to come
};

// Writes `code_point` as UTF-8 to `out` (room for 4), returns its length.
size_t encode_utf8(u32 code_point, char* out);

}
