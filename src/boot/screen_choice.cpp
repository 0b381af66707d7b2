#include <rt/console.h>
#include <rt/font.h>
#include <rt/screen_choice.h>

namespace rt::boot {

namespace {

constexpr u64 four_gib = 4ull * 1024 * 1024 * 1024;

}

ScreenChoice choose_screen(multiboot2::BootInfo const& info)
{
    auto const& fb = info.framebuffer;
    // BIOS boots without the tag still have VGA text at 0xB8000; UEFI boots have nothing.
    if (!fb.present)
        return { info.efi_boot ? ScreenChoice::Kind::SerialOnly : ScreenChoice::Kind::VgaText };
    u64 bytes = u64(fb.pitch) * fb.height;
    if (bytes > ~u64(0) - fb.address) { // a boot loader's nonsense: no such memory
        println("[screen] framebuffer at {:#x} ({} bytes) runs past the end of the address space: serial only", fb.address, bytes);
        return {};
    }
    if (fb.type == multiboot2::FramebufferType::EgaText) {
        if (fb.address + bytes > four_gib) { // BIOS text mode: never up there
            println("[screen] text mode at {:#x} is above 4 GiB: serial only", fb.address);
            return {};
        }
        return { ScreenChoice::Kind::EgaText, {}, fb.address, bytes };
    }
    if (fb.bpp != 32 && fb.bpp != 24 && fb.bpp != 16) {
        println("[screen] {}-bit framebuffer not supported: serial only", fb.bpp);
        return {};
    }
    // Every row drawn must lie inside the pitch, every cell inside the screen, and every
    // pixel on its own alignment (the console stores 32- and 16-bit pixels whole).
    u32 pixel_bytes = fb.bpp / 8, alignment = pixel_bytes == 3 ? 1 : pixel_bytes;
    if (fb.width < font_width || fb.height < font_height || u64(fb.width) * pixel_bytes > fb.pitch || fb.pitch % alignment
        || fb.address % alignment) {
        println("[screen] framebuffer {}x{}x{} with pitch {} cannot hold a line of text: serial only", fb.width, fb.height, fb.bpp, fb.pitch);
        return {};
    }
    PixelFormat format { u8(fb.bpp / 8), fb.red_position, fb.red_size, fb.green_position, fb.green_size, fb.blue_position, fb.blue_size };
    return { ScreenChoice::Kind::Framebuffer, format, fb.address, bytes };
}

ErrorOr<bool> screen_test_above_4gib(CommandLine const& command_line)
{
    return TRY(command_line.get_choice("screen_test", screen_test_choices, "none")) == "above-4g";
}

void describe_screen(multiboot2::BootInfo const& info)
{
    auto const& fb = info.framebuffer;
    if (!fb.present) {
        println("[screen] no framebuffer tag: {}", info.efi_boot ? "serial only" : "VGA text 80x25");
        return;
    }
    if (fb.type == multiboot2::FramebufferType::EgaText) {
        println("[screen] EGA text {}x{} at {:#x}", fb.width, fb.height, fb.address);
        return;
    }
    auto grid = FramebufferConsole::grid_for(fb.width, fb.height);
    print("[screen] framebuffer {}x{}x{} at {:#x}, pitch {}: {}x{} characters", fb.width, fb.height, fb.bpp, fb.address, fb.pitch, grid.columns, grid.rows);
    if (grid.scale > 1)
        print(", the font drawn {}x{}", grid.scale, grid.scale);
    println("");
}

}
