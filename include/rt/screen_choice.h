#pragma once
// Which screen console the boot loader's framebuffer tag calls for. The decision is
// portable; building the console (VGA text is a PC device) is the platform's part.
#include <rt/cmdline.h>
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
    u64 address { 0 };     // the pixels' (or text cells') physical address
    u64 bytes { 0 };       // the pitch times the height

    // Pixels above 4 GiB, where UEFI firmware often puts them: the platform shows them
    // through a paging window (rt/address_window.h) or leaves the screen out.
    bool above_4gib() const { return address > (4ull << 30) || bytes > (4ull << 30) - address; }
};

// Says on the console why a framebuffer cannot be used (an unsupported depth, text mode
// above 4 GiB) when that is the reason for SerialOnly.
ScreenChoice choose_screen(multiboot2::BootInfo const&);

// screen_test=none|above-4g (default none). above-4g draws the screen into RAM above 4 GiB
// instead of the framebuffer, through the same paging window as a framebuffer up there
// gets: QEMU cannot place one there, and a boot test reads that RAM back.
ErrorOr<bool> screen_test_above_4gib(CommandLine const&);
constexpr StringView screen_test_choices[] = { "none", "above-4g" };
// The "[screen] ..." line of the boot report.
void describe_screen(multiboot2::BootInfo const&);

}
