#include <rt/font.h>
#include <rt/framebuffer_console.h>
#include <rt/utility.h>

namespace rt {

namespace {
struct Rgb {
    u8 red, green, blue;
};
// Indexed by Color: log grey, text light grey, highlight white, green, yellow, red.
constexpr Rgb palette[] = {
    { 0x78, 0x80, 0x90 },
    { 0xD8, 0xD8, 0xD8 },
    { 0xFF, 0xFF, 0xFF },
    { 0x50, 0xE0, 0x70 },
    { 0xF0, 0xD0, 0x40 },
    { 0xFF, 0x60, 0x50 },
};
static_assert(sizeof palette / sizeof palette[0] == 6);
}

FramebufferConsole::Grid FramebufferConsole::grid_for(u32 width, u32 height)
{
    u32 columns = width / font_width, rows = height / font_height;
    u32 scale = max(max((columns + max_columns - 1) / max_columns, (rows + max_rows - 1) / max_rows), 1u);
    return { min(columns / scale, max_columns), min(rows / scale, max_rows), scale };
}

FramebufferConsole::FramebufferConsole(u8* pixels, u32 width, u32 height, u32 pitch, PixelFormat format)
    : FramebufferConsole(pixels, width, height, pitch, format, grid_for(width, height))
{
}

FramebufferConsole::FramebufferConsole(u8* pixels, u32 width, u32 height, u32 pitch, PixelFormat format, Grid grid)
    : TextScreen(grid.columns, grid.rows)
    , m_pixels(pixels)
    , m_width(width)
    , m_height(height)
    , m_scale(grid.scale)
    , m_pitch(pitch)
    , m_format(format)
{
    for (size_t i = 0; i < 6; ++i)
        m_colors[i] = pack(palette[i].red, palette[i].green, palette[i].blue);
    m_background = pack(0x10, 0x14, 0x20);
}

void FramebufferConsole::clear()
{
    u32 used_width = columns() * font_width * m_scale, used_height = rows() * font_height * m_scale;
    fill(used_width, 0, m_width - used_width, m_height, m_background);
    fill(0, used_height, used_width, m_height - used_height, m_background);
    TextScreen::clear();
}

void FramebufferConsole::fill(u32 x, u32 y, u32 width, u32 height, u32 pixel)
{
    u32 bytes = m_format.bytes_per_pixel;
    for (u32 row = y; row < y + height; ++row)
        for (u32 column = x; column < x + width; ++column)
            store(m_pixels + row * m_pitch + column * bytes, pixel);
}

void FramebufferConsole::show_at(u8* pixels)
{
    m_pixels = pixels;
    redraw();
}

u32 FramebufferConsole::pack(u8 red, u8 green, u8 blue) const
{
    // Keep the top `size` bits of each 8-bit channel, placed where the mode says (a field
    // the boot loader placed outside a 32-bit pixel is left out).
    auto channel = [](u8 value, u8 position, u8 size) -> u32 {
        if (size == 0 || size > 8 || position + size > 32)
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

void FramebufferConsole::draw_cell(u32 column, u32 row, Cell cell)
{
    // The font's own glyph, an accented letter composed, or the closest character the font has.
    u8 composed[font_height];
    const u8* glyph = accented_glyph(cell.character, composed) ? composed : font8x16[u8(stand_in_for(cell.character)) - font_first_char];
    u32 foreground = m_colors[u8(cell.color)];
    u32 bytes = m_format.bytes_per_pixel;
    u32 scale = m_scale;
    u8* origin = m_pixels + row * font_height * scale * m_pitch + column * font_width * scale * bytes;
    // Each glyph row is drawn `scale` times, each of its bits as `scale` pixels.
    for (u32 glyph_row = 0; glyph_row < font_height; ++glyph_row) {
        u8 bits = glyph[glyph_row];
        for (u32 repeat = 0; repeat < scale; ++repeat) {
            u8* line = origin + (glyph_row * scale + repeat) * m_pitch;
            if (bytes == 4) {
                // The usual 32-bit mode gets whole-pixel stores: a story redraws many cells per line.
                u32* pixel = reinterpret_cast<u32*>(line);
                for (u32 bit = 0; bit < font_width; ++bit)
                    for (u32 copy = 0; copy < scale; ++copy)
                        *pixel++ = (bits & (0x80 >> bit)) ? foreground : m_background;
                continue;
            }
            for (u32 bit = 0; bit < font_width; ++bit)
                for (u32 copy = 0; copy < scale; ++copy, line += bytes)
                    store(line, (bits & (0x80 >> bit)) ? foreground : m_background);
        }
    }
}

}
