#pragma once
// GPT-2's byte-level BPE writes every byte as a printable character, so that a vocabulary of
// strings covers all 256 bytes: the bytes Latin-1 prints as themselves ('!' to '~', '¡' to
// '¬', '®' to 'ÿ') stand for themselves, and the other 68 (the controls, space, DEL, NBSP and
// the soft hyphen) for U+0100 onwards, in byte order: space is U+0120 'Ġ', newline U+010A 'Ċ'.
#include <rt/types.h>

namespace llm::byte_level {

// The character byte `b` is written as.
u32 character_of(u8 b);
// The byte `character` stands for, or -1 for a character no byte is written as.
int byte_of(u32 character);

}
