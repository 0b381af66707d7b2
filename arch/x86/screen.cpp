#include <arch/x86/paging.h>
#include <arch/x86/screen.h>
#include <arch/x86/vga_text.h>
#include <rt/address_window.h>
#include <rt/console.h>
#include <rt/screen_choice.h>

namespace x86 {

namespace {

constexpr u64 four_gib = 4ull << 30;

// Storage for whichever screen console the boot loader's framebuffer calls for.
alignas(VgaText) u8 vga_storage[sizeof(VgaText)];
alignas(rt::FramebufferConsole) u8 framebuffer_storage[sizeof(rt::FramebufferConsole)];
rt::FramebufferConsole* framebuffer = nullptr;
rt::boot::AddressWindow window; // pages 0: none opened
// Why a framebuffer below 4 GiB keeps the firmware's memory type (see pixels_at).
rt::Error uncombined;
bool left_uncombined = false;

bool above_4gib(rt::boot::AddressWindow const& w) { return w.physical_base >= four_gib; }

// Below 4 GiB: the framebuffer's own pages made write-combining, where they can be.
rt::ErrorOr<void> write_combine(rt::multiboot2::BootInfo const& info, u64 address, u64 bytes)
{
    if (!paging::can_write_combine())
        return rt::Error::format("this CPU has no PAE paging or no PAT");
    auto identity = TRY(rt::boot::plan_identity_window(info, address, bytes));
    TRY(paging::open_window(identity, paging::Caching::WriteCombining));
    window = identity;
    return {};
}

// Pixels at physical `address`: above 4 GiB through a paging window, below it where they
// are. There, too, paging is turned on where it can make them write-combining: firmware
// mostly leaves a framebuffer uncached, where every pixel is a bus write of its own.
rt::ErrorOr<u8*> pixels_at(rt::multiboot2::BootInfo const& info, u64 address, u64 bytes)
{
    if (address > four_gib || bytes > four_gib - address) {
        window = TRY(rt::boot::plan_address_window(info, address, bytes, paging::physical_address_bits()));
        TRY(paging::open_window(window, paging::Caching::WriteCombining));
        left_uncombined = false;
        return window.address_of(address);
    }
    auto combined = write_combine(info, address, bytes);
    left_uncombined = combined.is_error();
    if (left_uncombined)
        uncombined = combined.release_error();
    return reinterpret_cast<u8*>(uptr(address));
}

void describe_window()
{
    if (left_uncombined)
        rt::println("[screen] drawn with the firmware's memory type: {}", uncombined.message());
    if (!window.pages)
        return;
    u64 bytes = window.pages * rt::boot::window_page_bytes;
    if (above_4gib(window))
        rt::println("[screen] seen through PAE paging: {:#x}-{:#x} (above 4 GiB) at {:#x}-{:#x}, {} pages of 2 MiB", window.physical_base,
            window.physical_base + bytes - 1, window.virtual_base, window.virtual_base + bytes - 1, window.pages);
    else
        rt::println("[screen] write-combining through PAE paging: {:#x}-{:#x}, {} pages of 2 MiB", window.physical_base,
            window.physical_base + bytes - 1, window.pages);
}

}

void attach_screen(rt::multiboot2::BootInfo const& info)
{
    auto const& fb = info.framebuffer;
    auto choice = rt::boot::choose_screen(info);
    rt::TextScreen* screen = nullptr;
    switch (choice.kind) {
    case rt::boot::ScreenChoice::Kind::SerialOnly:
        return;
    case rt::boot::ScreenChoice::Kind::VgaText:
        screen = new (vga_storage) VgaText();
        break;
    case rt::boot::ScreenChoice::Kind::EgaText:
        screen = new (vga_storage) VgaText(uptr(fb.address), fb.width, fb.height, fb.pitch);
        break;
    case rt::boot::ScreenChoice::Kind::Framebuffer: {
        auto pixels = pixels_at(info, choice.address, choice.bytes);
        if (pixels.is_error()) {
            rt::println("[screen] framebuffer at {:#x} is above 4 GiB and cannot be shown: {}: serial only", choice.address, pixels.error().message());
            return;
        }
        screen = framebuffer = new (framebuffer_storage) rt::FramebufferConsole(pixels.value(), fb.width, fb.height, fb.pitch, choice.format);
        break;
    }
    }
    screen->clear();
    rt::Console::the().attach_output(*screen);
}

void describe_screen(rt::multiboot2::BootInfo const& info)
{
    rt::boot::describe_screen(info);
    describe_window();
}

rt::ErrorOr<void> run_screen_test(rt::multiboot2::BootInfo const& info, rt::CommandLine const& command_line)
{
    if (!TRY(rt::boot::screen_test_above_4gib(command_line)))
        return {};
    if (!framebuffer)
        return rt::Error::format("screen_test=above-4g moves a framebuffer, and this boot has none (boot through UEFI)");
    if (window.pages && above_4gib(window))
        return rt::Error::format("screen_test=above-4g: the framebuffer is above 4 GiB already");
    u64 bytes = u64(info.framebuffer.pitch) * info.framebuffer.height;
    u64 ram = TRY(rt::boot::ram_above_4gib(info, bytes));
    framebuffer->show_at(TRY(pixels_at(info, ram, bytes)));
    rt::println("[screen] screen_test=above-4g: the screen is now drawn into RAM at {:#x}-{:#x}", ram, ram + bytes - 1);
    describe_window();
    return {};
}

}
