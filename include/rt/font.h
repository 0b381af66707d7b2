#pragma once
#include <rt/types.h>
namespace rt {
constexpr u32 font_width = 8;
constexpr u32 font_height = 16;
constexpr u8 font_first_char = 0x20;
constexpr u8 font_last_char = 0x7E;
// Glyph rows, top to bottom; bit 7 is the leftmost pixel.
extern const u8 font8x16[95][16];
}
