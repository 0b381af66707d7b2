#pragma once
// Which screen console the boot loader's framebuffer tag calls for. The decision is
// portable; building the console (VGA text is a PC device) is the platform's part.
#include <rt/framebuffer_console.h>
#include <rt/multiboot2.h>

namespace rt::boot {

struct ScreenChoice {
    enum class Kind {
        SerialOnly,
        VgaText, // no tag on a BIOS boot: VGA text mode at 0xB8000, 80x25
        EgaText, // text mode as the tag describes it
        Framebuffer, // pixels, drawn with the built-in font
    };
    Kind kind { Kind::SerialOnly };
    PixelFormat format {}; // for Framebuffer
};

// Says on the console why a framebuffer cannot be used (above 4 GiB, an unsupported
// depth) when that is the reason for SerialOnly.
ScreenChoice choose_screen(multiboot2::BootInfo const&);
// The "[screen] ..." line of the boot report.
void describe_screen(multiboot2::BootInfo const&);

}
