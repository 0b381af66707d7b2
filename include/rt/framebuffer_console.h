#pragma once
// A text console drawn into a linear RGB framebuffer with the built-in 8x16 font: what
// UEFI boots get, since there is no VGA text mode there.
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
    FramebufferConsole(u8* pixels, u32 width, u32 height, u32 pitch, PixelFormat format);
    // Draws from now on into `pixels` (the same size and format), all of the screen at once.
    void show_at(u8* pixels);

private:
    void draw_cell(u32 column, u32 row, Cell) override;
    u32 pack(u8 red, u8 green, u8 blue) const;
    void store(u8* at, u32 pixel);

    u8* m_pixels;
    u32 m_pitch;
    PixelFormat m_format;
    u32 m_colors[6];
    u32 m_background;
};

}
