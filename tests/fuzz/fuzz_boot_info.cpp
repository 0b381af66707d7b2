// libFuzzer target: the Multiboot2 boot information is the boot loader's, so nothing in it
// is trusted. Any byte string must parse or be refused without reading out of bounds, and
// what the boot decides from a parsed block must hold whatever it says: the screen, the
// heap's memory, the paging window onto a framebuffer above 4 GiB (in memory the map leaves
// unused, 2 MiB-aligned, covering the framebuffer) or a framebuffer's own pages made
// write-combining below it (none of them listed in the map), the RAM screen_test=above-4g draws into
// (usable, above 4 GiB), and the command line.
#include "fuzz_support.h"
#include <rt/address_window.h>
#include <rt/boot_options.h>
#include <rt/cmdline.h>
#include <rt/framebuffer_console.h>
#include <rt/heap_setup.h>
#include <rt/screen_choice.h>
#include <vector>

namespace {

constexpr u64 four_gib = 4ull << 30, page = rt::boot::window_page_bytes;

void require(bool holds)
{
    if (!holds)
        abort();
}

bool overlaps(u64 base, u64 end, rt::multiboot2::MemoryMapEntry const& entry)
{
    return entry.length && base < entry.base + entry.length && entry.base < end;
}

void check_window(rt::multiboot2::BootInfo const& info, u64 physical, u64 bytes)
{
    auto planned = rt::boot::plan_address_window(info, physical, bytes, 46);
    if (planned.is_error())
        return;
    auto const& window = planned.value();
    u64 base = window.virtual_base, end = base + window.pages * page;
    require(base % page == 0 && window.physical_base % page == 0);
    require(base >= (16ull << 20) && end <= 0xFEC00000);
    require(window.physical_base <= physical && physical + bytes <= window.physical_base + window.pages * page);
    for (size_t i = 0; i < info.memory_entry_count; ++i)
        require(!overlaps(base, end, info.memory_map[i]));
    require(info.memory_entries_left_out == 0);
}

void check_identity_window(rt::multiboot2::BootInfo const& info, u64 physical, u64 bytes)
{
    auto planned = rt::boot::plan_identity_window(info, physical, bytes);
    if (planned.is_error())
        return;
    auto const& window = planned.value();
    u64 end = window.physical_base + window.pages * page;
    require(window.virtual_base == window.physical_base && window.physical_base % page == 0);
    require(window.physical_base <= physical && physical + bytes <= end && end <= 0xFEC00000);
    for (size_t i = 0; i < info.memory_entry_count; ++i)
        require(!overlaps(window.physical_base, end, info.memory_map[i]));
}

void check_ram_above_4gib(rt::multiboot2::BootInfo const& info, u64 bytes)
{
    auto ram = rt::boot::ram_above_4gib(info, bytes);
    if (ram.is_error())
        return;
    require(ram.value() >= four_gib && ram.value() % page == 0);
    bool inside = false;
    for (size_t i = 0; i < info.memory_entry_count; ++i) {
        auto const& entry = info.memory_map[i];
        inside |= entry.type == u32(rt::multiboot2::MemoryType::Available) && entry.base <= ram.value()
            && ram.value() + bytes <= entry.base + entry.length;
    }
    require(inside);
}

}

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    fuzz::reset_heap(16 << 20);
    fuzz::Part block(data, size); // page-aligned, as GRUB places it
    rt::multiboot2::BootInfo info;
    if (rt::multiboot2::parse(block.bytes().data(), size, info).is_error())
        return 0;
    require(info.memory_entry_count <= rt::multiboot2::BootInfo::max_memory_entries);
    require(info.module_count <= rt::multiboot2::BootInfo::max_modules);

    auto screen = rt::boot::choose_screen(info);
    if (screen.kind == rt::boot::ScreenChoice::Kind::Framebuffer && screen.bytes <= (4u << 20)) {
        // A screen the choice accepts is drawn inside its pitch x height bytes (ASan sees a
        // pixel past them), scrolling included.
        auto const& fb = info.framebuffer;
        std::vector<u8> memory(screen.bytes);
        rt::FramebufferConsole console(memory.data(), fb.width, fb.height, fb.pitch, screen.format);
        console.clear();
        for (u32 line = 0; line <= console.rows(); ++line)
            console.write("Once upon a time, there was a little girl named Lily who loved to play outside.\n");
    }
    if (screen.kind == rt::boot::ScreenChoice::Kind::Framebuffer && screen.above_4gib())
        check_window(info, screen.address, screen.bytes);
    else if (screen.kind == rt::boot::ScreenChoice::Kind::Framebuffer)
        check_identity_window(info, screen.address, screen.bytes);
    rt::boot::describe_screen(info);
    if (info.framebuffer.present)
        check_ram_above_4gib(info, u64(info.framebuffer.pitch) * info.framebuffer.height);
    // Whatever the block says, a window for an 8 MiB framebuffer at 256 GiB.
    check_window(info, 0x4000000000, 8 << 20);

    auto layout = rt::boot::plan_heap(info, { 0x200000, 0x100000 }, { 0x300000, size });
    require(layout.usable_count <= info.memory_entry_count);
    require(layout.reserved_count == 3 + info.module_count);

    rt::CommandLine command_line;
    if (!rt::CommandLine::parse(info.command_line, command_line).is_error()) {
        (void)rt::boot::wanted_processor_count(command_line);
        (void)rt::boot::x2apic_wanted(command_line);
        (void)rt::boot::screen_test_above_4gib(command_line);
    }
    return 0;
}
