#include <arch/x86/io.h>
#include <arch/x86/vga_text.h>

namespace x86 {

namespace {
constexpr u16 crtc_index = 0x3D4, crtc_data = 0x3D5;
constexpr u8 cursor_high = 0x0E, cursor_low = 0x0F;
// Attribute bytes indexed by rt::Color (background in the high nibble, foreground in the
// low one): log dark grey, text light grey, highlight white, then green, yellow, red.
constexpr u8 attributes[] = { 0x08, 0x07, 0x0F, 0x0A, 0x0E, 0x0C };
}

VgaText::VgaText(uptr address, u32 columns, u32 rows, u32 pitch)
    : TextScreen(columns, rows)
    , m_cells(reinterpret_cast<volatile u16*>(address))
    , m_pitch_cells(pitch / 2)
{
}

void VgaText::draw_cell(u32 column, u32 row, rt::Cell cell)
{
    // Bytes outside printable ASCII (UTF-8 pieces) would show as code page 437 symbols;
    // a dot is clearer.
    u8 glyph = (u8(cell.character) >= 32 && u8(cell.character) < 127) ? u8(cell.character) : '.';
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
