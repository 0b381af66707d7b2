#pragma once
#include <rt/console.h>

namespace x86 {

// The EGA/VGA text screen (80x25 at 0xB8000 on BIOS boots, or wherever the Multiboot2
// framebuffer tag says), with scrolling and colours.
class VgaText final : public rt::ConsoleSink {
public:
    VgaText(uptr address = 0xB8000, u32 columns = 80, u32 rows = 25, u32 pitch = 160);
    void clear();
    void write(rt::StringView) override;
    void set_color(rt::Color) override;

private:
    void put(char);
    void scroll();
    void sync_cursor();
    volatile u16* m_cells;
    u32 m_columns, m_rows, m_pitch_cells;
    u32 m_column { 0 }, m_row { 0 };
    u8 m_attribute { 0x07 };
};

}
