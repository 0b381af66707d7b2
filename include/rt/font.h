#pragma once
#include <rt/types.h>
namespace rt {
constexpr u32 font_width = 8;
constexpr u32 font_height = 16;
constexpr u8 font_first_char = 0x20;
constexpr u8 font_last_char = 0x7E;
// Glyph rows, top to bottom; bit 7 is the leftmost pixel.
extern const u8 font8x16[95][16];

// The character the font draws for `code_point`: itself where the font has it, else the
// ASCII one closest (a letter without its accent, a straight quote for a curly one), else
// '?'. Screens show every character of a model's text in one cell, as a terminal does.
char stand_in_for(u32 code_point);

// The glyph of one of Latin-1's accented letters (é, Ü, ç, ñ ...): its letter with the
// accent drawn over (or under) it, written to `out`. False for every other code point.
bool accented_glyph(u32 code_point, u8 out[font_height]);
}
