#include <arch/x86/device_memory.h>
#include <arch/x86/paging.h>
#include <rt/console.h>

namespace x86 {

namespace {
constexpr u64 four_gib = 4ull << 30;
constexpr u32 max_avoided = 16;
}

rt::ErrorOr<u8 volatile*> reach_device(rt::multiboot2::BootInfo const& info, u64 physical, u64 bytes, rt::Span<const rt::MemoryRange> avoid)
{
    rt::MemoryRange registers { physical, bytes };
    auto windows = paging::open_windows();
    bool behind_window = false;
    for (auto const& window : windows)
        behind_window = behind_window || registers.overlaps({ window.virtual_base, window.pages * rt::boot::window_page_bytes });
    if (physical < four_gib && bytes <= four_gib - physical && !behind_window)
        return reinterpret_cast<u8 volatile*>(uptr(physical));

    rt::MemoryRange avoided[max_avoided];
    u32 count = 0;
    for (auto const& window : windows)
        avoided[count++] = { window.virtual_base, window.pages * rt::boot::window_page_bytes };
    if (info.framebuffer.present && info.framebuffer.address < four_gib)
        avoided[count++] = { info.framebuffer.address, u64(info.framebuffer.pitch) * info.framebuffer.height };
    for (auto range : avoid)
        if (count < max_avoided)
            avoided[count++] = range;
    auto window = TRY(rt::boot::plan_address_window(info, physical, bytes, paging::physical_address_bits(), { avoided, count }));
    TRY(paging::open_window(window, paging::Caching::Uncached));
    u64 size = window.pages * rt::boot::window_page_bytes;
    rt::println("[paging] {:#x}-{:#x} (a device's registers) seen at {:#x}-{:#x}, uncached", window.physical_base,
        window.physical_base + size - 1, window.virtual_base, window.virtual_base + size - 1);
    return window.address_of(physical);
}

}
