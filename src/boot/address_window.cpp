#include <rt/address_window.h>

namespace rt::boot {

namespace {

constexpr u64 four_gib = 4ull << 30;
// Below this: the BIOS's areas, the legacy video memory, and the ISA hole some chipsets
// still decode at 15-16 MiB.
constexpr u64 lowest_window = 16ull << 20;
// From here up: the I/O APICs, the HPET, the local APICs and the firmware's flash, at
// fixed addresses whether the memory map lists them or not.
constexpr u64 fixed_devices = 0xFEC00000;
// More than any framebuffer (7680x4320 at 4 bytes a pixel is 127 MiB).
constexpr u64 largest_window = 256ull << 20;

u64 align_down(u64 value) { return value & ~(window_page_bytes - 1); }
u64 align_up(u64 value) { return align_down(value + window_page_bytes - 1); }

bool overlaps(u64 base, u64 end, multiboot2::MemoryMapEntry const& entry)
{
    return entry.length && base < entry.base + entry.length && entry.base < end;
}

}

ErrorOr<AddressWindow> plan_address_window(multiboot2::BootInfo const& info, u64 physical, u64 bytes, u32 physical_address_bits,
    Span<const MemoryRange> avoid)
{
    if (bytes == 0 || bytes > largest_window)
        return Error::format("a window of {} bytes (0, or more than a framebuffer's 256 MiB)", bytes);
    u64 highest = physical_address_bits >= 52 ? 1ull << 52 : 1ull << physical_address_bits;
    if (physical >= highest || bytes > highest - physical)
        return Error::format("{:#x}-{:#x} lies beyond the CPU's {}-bit physical addresses", physical, physical + bytes - 1, physical_address_bits);
    // Unused is what the map does not list; a map cut short lists too little to tell.
    if (info.memory_entries_left_out)
        return Error::format("the memory map is not whole ({} entries left out)", info.memory_entries_left_out);
    AddressWindow window;
    window.physical_base = align_down(physical);
    u64 size = align_up(physical + bytes) - window.physical_base;
    window.pages = u32(size / window_page_bytes);
    // From the top down: below each range the memory map lists that the candidate overlaps.
    u64 end = fixed_devices & ~(window_page_bytes - 1);
    while (end >= lowest_window + size) {
        u64 base = end - size;
        u64 lowest_overlap = end;
        for (size_t i = 0; i < info.memory_entry_count; ++i)
            if (overlaps(base, end, info.memory_map[i]))
                lowest_overlap = rt::min(lowest_overlap, info.memory_map[i].base);
        for (MemoryRange range : avoid)
            if (range.overlaps({ base, size }))
                lowest_overlap = rt::min(lowest_overlap, range.base);
        if (lowest_overlap == end) {
            window.virtual_base = u32(base);
            return window;
        }
        end = align_down(lowest_overlap);
    }
    return Error::format("no {} MiB between 16 MiB and {:#x} that the memory map leaves unused", size >> 20, fixed_devices);
}

ErrorOr<AddressWindow> plan_identity_window(multiboot2::BootInfo const& info, u64 physical, u64 bytes)
{
    if (bytes == 0 || bytes > largest_window || physical < lowest_window || physical > fixed_devices || bytes > fixed_devices - physical)
        return Error::format("{:#x} + {} bytes is not a framebuffer between 16 MiB and the fixed devices", physical, bytes);
    if (info.memory_entries_left_out)
        return Error::format("the memory map is not whole ({} entries left out)", info.memory_entries_left_out);
    AddressWindow window;
    window.physical_base = align_down(physical);
    window.virtual_base = u32(window.physical_base);
    u64 end = align_up(physical + bytes);
    window.pages = u32((end - window.physical_base) / window_page_bytes);
    for (size_t i = 0; i < info.memory_entry_count; ++i)
        if (overlaps(window.physical_base, end, info.memory_map[i]))
            return Error::format("its pages share {:#x}-{:#x} with memory the map lists", info.memory_map[i].base,
                info.memory_map[i].base + info.memory_map[i].length - 1);
    return window;
}

ErrorOr<u64> ram_above_4gib(multiboot2::BootInfo const& info, u64 bytes)
{
    for (size_t i = 0; i < info.memory_entry_count; ++i) {
        auto const& entry = info.memory_map[i];
        if (entry.type != u32(multiboot2::MemoryType::Available))
            continue;
        u64 start = rt::max(entry.base, four_gib);
        if (start > ~u64(0) - window_page_bytes) // rounding it up would wrap
            continue;
        u64 base = align_up(start);
        u64 end = entry.base + entry.length; // the parser refused entries that wrap
        if (base < end && end - base >= bytes)
            return base;
    }
    return Error::format("the memory map has no {} KiB of RAM above 4 GiB (QEMU: -m 5G or more)", (bytes + 1023) / 1024);
}

}
