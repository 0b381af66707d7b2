#pragma once
// A text console drawn into a linear RGB framebuffer with the built-in 8x16 font: what
// UEFI boots get, since there is no VGA text mode there. On a screen wider than the text
// grid's 240 columns (or taller than its 75 rows) each glyph pixel is drawn as a square of
// 2x2 pixels or more, so the text fills a large screen (a laptop's 2560x1600 or 3840x2400
// panel, where the firmware offers no smaller mode) at a size a person can read.
#include <rt/text_screen.h>

namespace rt {

struct PixelFormat {
    u8 bytes_per_pixel;
    u8 red_position, red_size;
    u8 green_position, green_size;
    u8 blue_position, blue_size;
};

class FramebufferConsole final : public TextScreen {
public:
    // The character grid a screen of these pixels gets, and the side of the square each
    // glyph pixel is drawn as.
    struct Grid {
        u32 columns, rows, scale;
    };
    static Grid grid_for(u32 width, u32 height);

    FramebufferConsole(u8* pixels, u32 width, u32 height, u32 pitch, PixelFormat format);
    // Draws from now on into `pixels` (the same size and format), all of the screen at once.
    void show_at(u8* pixels);
    // Also the margins right of and below the grid (what the firmware or GRUB left there).
    void clear() override;
    u32 scale() const { return m_scale; }

private:
    FramebufferConsole(u8* pixels, u32 width, u32 height, u32 pitch, PixelFormat format, Grid);
    void draw_cell(u32 column, u32 row, Cell) override;
    u32 pack(u8 red, u8 green, u8 blue) const;
    void store(u8* at, u32 pixel);

    void fill(u32 x, u32 y, u32 width, u32 height, u32 pixel);

    u8* m_pixels;
    u32 m_width, m_height;
    u32 m_scale;
    u32 m_pitch;
    PixelFormat m_format;
    u32 m_colors[6];
    u32 m_background;
};

}
