#include <arch/x86/io.h>
#include <arch/x86/vga_text.h>

namespace x86 {

namespace {
constexpr u16 crtc_index = 0x3D4, crtc_data = 0x3D5;
constexpr u8 cursor_high = 0x0E, cursor_low = 0x0F;
// Attribute bytes: background in the high nibble, foreground in the low one.
constexpr u8 attributes[] = { 0x07, 0x08, 0x0F, 0x0A, 0x0E, 0x0C };
}

VgaText::VgaText(uptr address, u32 columns, u32 rows, u32 pitch)
    : m_cells(reinterpret_cast<volatile u16*>(address))
    , m_columns(columns)
    , m_rows(rows)
    , m_pitch_cells(pitch / 2)
{
}

void VgaText::clear()
{
    for (u32 row = 0; row < m_rows; ++row)
        for (u32 column = 0; column < m_columns; ++column)
            m_cells[row * m_pitch_cells + column] = u16(m_attribute) << 8 | ' ';
    m_row = m_column = 0;
    sync_cursor();
}

void VgaText::set_color(rt::Color color) { m_attribute = attributes[u8(color)]; }

void VgaText::scroll()
{
    for (u32 row = 1; row < m_rows; ++row)
        for (u32 column = 0; column < m_columns; ++column)
            m_cells[(row - 1) * m_pitch_cells + column] = m_cells[row * m_pitch_cells + column];
    for (u32 column = 0; column < m_columns; ++column)
        m_cells[(m_rows - 1) * m_pitch_cells + column] = u16(attributes[0]) << 8 | ' ';
}

void VgaText::put(char c)
{
    if (c == '\n') {
        m_column = 0;
        ++m_row;
    } else if (c == '\r') {
        m_column = 0;
    } else if (c == '\b') {
        if (m_column > 0)
            --m_column;
        m_cells[m_row * m_pitch_cells + m_column] = u16(m_attribute) << 8 | ' ';
    } else if (c == '\t') {
        m_column = (m_column + 4) & ~3u;
    } else {
        // Bytes outside printable ASCII (UTF-8 pieces) show as code page 437 glyphs; a
        // dot is clearer than a random symbol.
        u8 glyph = (u8(c) >= 32 && u8(c) < 127) ? u8(c) : '.';
        m_cells[m_row * m_pitch_cells + m_column] = u16(m_attribute) << 8 | glyph;
        ++m_column;
    }
    if (m_column >= m_columns) {
        m_column = 0;
        ++m_row;
    }
    if (m_row >= m_rows) {
        scroll();
        m_row = m_rows - 1;
    }
}

void VgaText::write(rt::StringView text)
{
    for (char c : text)
        put(c);
    sync_cursor();
}

void VgaText::sync_cursor()
{
    u16 position = u16(m_row * m_columns + m_column);
    out8(crtc_index, cursor_high);
    out8(crtc_data, u8(position >> 8));
    out8(crtc_index, cursor_low);
    out8(crtc_data, u8(position));
}

}
