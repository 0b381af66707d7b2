#pragma once
// A text console drawn into a linear RGB framebuffer with the built-in 8x16 font: what
// UEFI boots get, since there is no VGA text mode there.
#include <rt/console.h>

namespace rt {

struct PixelFormat {
    u8 bytes_per_pixel;
    u8 red_position, red_size;
    u8 green_position, green_size;
    u8 blue_position, blue_size;
};

class FramebufferConsole final : public ConsoleSink {
public:
    FramebufferConsole(u8* pixels, u32 width, u32 height, u32 pitch, PixelFormat format);
    void clear();
    void write(StringView) override;
    void set_color(Color) override;
    u32 columns() const { return m_columns; }
    u32 rows() const { return m_rows; }

private:
    u32 pack(u8 red, u8 green, u8 blue) const;
    void put(char);
    void draw_glyph(u32 column, u32 row, char);
    void fill_cell(u32 column, u32 row, u32 pixel);
    void scroll();
    void store(u8* at, u32 pixel);

    u8* m_pixels;
    u32 m_pitch;
    PixelFormat m_format;
    u32 m_columns, m_rows;
    u32 m_column { 0 }, m_row { 0 };
    u32 m_foreground, m_background;
};

}
