#include <rt/font.h>
#include <rt/framebuffer_console.h>

namespace rt {

namespace {
struct Rgb {
    u8 red, green, blue;
};
constexpr Rgb palette[] = {
    { 0xC8, 0xC8, 0xC8 }, // Default
    { 0x70, 0x70, 0x70 }, // Dim
    { 0xFF, 0xFF, 0xFF }, // Highlight
    { 0x50, 0xE0, 0x70 }, // Good
    { 0xF0, 0xD0, 0x40 }, // Warning
    { 0xFF, 0x60, 0x50 }, // Bad
};
}

FramebufferConsole::FramebufferConsole(u8* pixels, u32 width, u32 height, u32 pitch, PixelFormat format)
    : m_pixels(pixels)
    , m_pitch(pitch)
    , m_format(format)
    , m_columns(width / font_width)
    , m_rows(height / font_height)
{
    m_foreground = pack(palette[0].red, palette[0].green, palette[0].blue);
    m_background = pack(0x10, 0x14, 0x20);
}

u32 FramebufferConsole::pack(u8 red, u8 green, u8 blue) const
{
    // Keep the top `size` bits of each 8-bit channel, placed where the mode says.
    auto channel = [](u8 value, u8 position, u8 size) -> u32 {
        if (size == 0 || size > 8)
            return 0;
        return (u32(value) >> (8 - size)) << position;
    };
    return channel(red, m_format.red_position, m_format.red_size) | channel(green, m_format.green_position, m_format.green_size)
        | channel(blue, m_format.blue_position, m_format.blue_size);
}

void FramebufferConsole::store(u8* at, u32 pixel)
{
    switch (m_format.bytes_per_pixel) {
    case 4:
        *reinterpret_cast<volatile u32*>(at) = pixel;
        break;
    case 3:
        at[0] = u8(pixel);
        at[1] = u8(pixel >> 8);
        at[2] = u8(pixel >> 16);
        break;
    case 2:
        *reinterpret_cast<volatile u16*>(at) = u16(pixel);
        break;
    default:
        break;
    }
}

void FramebufferConsole::fill_cell(u32 column, u32 row, u32 pixel)
{
    for (u32 y = 0; y < font_height; ++y) {
        u8* line = m_pixels + (row * font_height + y) * m_pitch + column * font_width * m_format.bytes_per_pixel;
        for (u32 x = 0; x < font_width; ++x)
            store(line + x * m_format.bytes_per_pixel, pixel);
    }
}

void FramebufferConsole::draw_glyph(u32 column, u32 row, char c)
{
    u8 code = u8(c);
    // Bytes outside the font (UTF-8 pieces) are drawn as the '?' glyph.
    if (code < font_first_char || code > font_last_char)
        code = '?';
    const u8* glyph = font8x16[code - font_first_char];
    for (u32 y = 0; y < font_height; ++y) {
        u8* line = m_pixels + (row * font_height + y) * m_pitch + column * font_width * m_format.bytes_per_pixel;
        for (u32 x = 0; x < font_width; ++x)
            store(line + x * m_format.bytes_per_pixel, (glyph[y] & (0x80 >> x)) ? m_foreground : m_background);
    }
}

void FramebufferConsole::clear()
{
    for (u32 row = 0; row < m_rows; ++row)
        for (u32 column = 0; column < m_columns; ++column)
            fill_cell(column, row, m_background);
    m_column = m_row = 0;
}

void FramebufferConsole::set_color(Color color)
{
    auto const& rgb = palette[u8(color)];
    m_foreground = pack(rgb.red, rgb.green, rgb.blue);
}

void FramebufferConsole::scroll()
{
    size_t line_bytes = size_t(m_pitch) * font_height;
    __builtin_memmove(m_pixels, m_pixels + line_bytes, line_bytes * (m_rows - 1));
    for (u32 column = 0; column < m_columns; ++column)
        fill_cell(column, m_rows - 1, m_background);
}

void FramebufferConsole::put(char c)
{
    if (c == '\n') {
        m_column = 0;
        ++m_row;
    } else if (c == '\r') {
        m_column = 0;
    } else if (c == '\b') {
        if (m_column > 0)
            --m_column;
        fill_cell(m_column, m_row, m_background);
    } else if (c == '\t') {
        m_column = (m_column + 4) & ~3u;
    } else {
        draw_glyph(m_column, m_row, c);
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

void FramebufferConsole::write(StringView text)
{
    if (m_columns == 0 || m_rows == 0)
        return;
    for (char c : text)
        put(c);
}

}
