#include "byte_level.h"

namespace llm::byte_level {

namespace {

constexpr bool prints_as_itself(u32 b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

constexpr u32 moved_count = 68; // the bytes written as U+0100 onwards

struct Table {
    u32 character[256];
    u8 moved_byte[moved_count]; // the byte U+0100 + i stands for
};

constexpr Table make_table()
{
    Table t {};
    u32 next = 0x100;
    for (u32 b = 0; b < 256; ++b) {
        if (prints_as_itself(b)) {
            t.character[b] = b;
        } else {
            t.moved_byte[next - 0x100] = u8(b);
            t.character[b] = next++;
        }
    }
    return t;
}

constexpr Table table = make_table();
static_assert(table.character[u8(' ')] == 0x120 && table.character[u8('\n')] == 0x10A && table.character[0xAD] == 0x143);

}

u32 character_of(u8 b) { return table.character[b]; }

int byte_of(u32 character)
{
    if (character < 0x100)
        return prints_as_itself(character) ? int(character) : -1;
    return character - 0x100 < moved_count ? table.moved_byte[character - 0x100] : -1;
}

}
