#include <arch/x86/io.h>
#include <arch/x86/vga_text.h>
#include <rt/font.h>

namespace x86 {

namespace {
constexpr u16 crtc_index = 0x3D4, crtc_data = 0x3D5;
constexpr u8 cursor_high = 0x0E, cursor_low = 0x0F;
// Attribute bytes indexed by rt::Color (background in the high nibble, foreground in the
// low one): log dark grey, text light grey, highlight white, then green, yellow, red.
constexpr u8 attributes[] = { 0x08, 0x07, 0x0F, 0x0A, 0x0E, 0x0C };

// The characters of code page 437 (the VGA's own font) from 0x80 to 0xAF, Latin letters
// and signs most of them: a cell shows these as they are, others as rt::stand_in_for's.
constexpr u16 code_page_437_high[] = {
    0xC7, 0xFC, 0xE9, 0xE2, 0xE4, 0xE0, 0xE5, 0xE7, 0xEA, 0xEB, 0xE8, 0xEF, 0xEE, 0xEC, 0xC4, 0xC5,
    0xC9, 0xE6, 0xC6, 0xF4, 0xF6, 0xF2, 0xFB, 0xF9, 0xFF, 0xD6, 0xDC, 0xA2, 0xA3, 0xA5, 0x20A7, 0x192,
    0xE1, 0xED, 0xF3, 0xFA, 0xF1, 0xD1, 0xAA, 0xBA, 0xBF, 0x2310, 0xAC, 0xBD, 0xBC, 0xA1, 0xAB, 0xBB,
};
// And a few more of its: ß, µ, ±, ÷, °, ·, ².
constexpr struct {
    u16 character;
    u8 code;
} code_page_437_signs[] = { { 0xDF, 0xE1 }, { 0xB5, 0xE6 }, { 0xB1, 0xF1 }, { 0xF7, 0xF6 }, { 0xB0, 0xF8 }, { 0xB7, 0xFA }, { 0xB2, 0xFD } };

u8 glyph_of(u16 character)
{
    if (character < 0x80)
        return u8(rt::stand_in_for(character)); // ASCII's control characters as '?'
    for (u8 i = 0; i < sizeof code_page_437_high / sizeof code_page_437_high[0]; ++i)
        if (code_page_437_high[i] == character)
            return u8(0x80 + i);
    for (auto const& sign : code_page_437_signs)
        if (sign.character == character)
            return sign.code;
    return u8(rt::stand_in_for(character));
}
}

VgaText::VgaText(uptr address, u32 columns, u32 rows, u32 pitch)
    : TextScreen(columns, rows)
    , m_cells(reinterpret_cast<volatile u16*>(address))
    , m_pitch_cells(pitch / 2)
{
}

void VgaText::draw_cell(u32 column, u32 row, rt::Cell cell)
{
    u8 glyph = glyph_of(cell.character);
    m_cells[row * m_pitch_cells + column] = u16(attributes[u8(cell.color)]) << 8 | glyph;
}

void VgaText::move_cursor(u32 column, u32 row)
{
    u16 position = u16(row * columns() + column);
    out8(crtc_index, cursor_high);
    out8(crtc_data, u8(position >> 8));
    out8(crtc_index, cursor_low);
    out8(crtc_data, u8(position));
}

}
