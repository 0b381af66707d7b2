#pragma once
#include <rt/text_screen.h>

namespace x86 {

// The EGA/VGA text screen (80x25 at 0xB8000 on BIOS boots, or wherever the Multiboot2
// framebuffer tag says): each cell is a character and an attribute byte.
class VgaText final : public rt::TextScreen {
public:
    VgaText(uptr address = 0xB8000, u32 columns = 80, u32 rows = 25, u32 pitch = 160);

private:
    void draw_cell(u32 column, u32 row, rt::Cell) override;
    void move_cursor(u32 column, u32 row) override;

    volatile u16* m_cells;
    u32 m_pitch_cells;
};

}
