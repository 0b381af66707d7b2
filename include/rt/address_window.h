#pragma once
// Windows onto a framebuffer through paging. Without paging a 32-bit kernel reaches only the
// first 4 GiB of physical addresses, yet UEFI firmware often puts the framebuffer above
// them: a graphics card's memory with Resizable BAR, the graphics aperture of many recent
// Intel laptops (0x4000000000). Such memory is shown through a window: PAE paging maps the
// first 4 GiB to themselves, in 2 MiB pages, except a few pages that nothing else uses,
// which show the high memory instead. Below 4 GiB the window is the framebuffer's own pages
// (an identity window): paging is then there for the memory type alone, write-combining
// where the firmware's MTRRs leave the framebuffer uncached, as they mostly do. This plans
// the windows (which pages, where); arch/x86/paging.h builds the tables and turns paging on.
#include <rt/error.h>
#include <rt/heap.h>
#include <rt/multiboot2.h>

namespace rt::boot {

constexpr u64 window_page_bytes = 2ull << 20; // PAE's large pages

struct AddressWindow {
    u32 virtual_base { 0 };  // the window's first address, page-aligned, below 4 GiB
    u64 physical_base { 0 }; // what its first page shows, page-aligned
    u32 pages { 0 };

    // Where physical address `physical` (inside the window's pages) is seen.
    u8* address_of(u64 physical) const { return reinterpret_cast<u8*>(uptr(virtual_base + u32(physical - physical_base))); }
};

// A window onto physical [physical, physical + bytes) (a framebuffer or a device's registers
// above 4 GiB), placed where the memory map lists nothing (no RAM, no firmware table, no
// reserved range) between 16 MiB and the chipset's fixed devices at 0xFEC00000 (I/O APIC,
// HPET, local APIC, the firmware's flash), as high as it fits, and clear of `avoid` (the
// windows open already, the devices the kernel reaches where they are): that is where the
// PCI devices' memory lies, which the kernel does not touch but for those; never when the
// memory map was too long to keep whole (what it left out may lie there).
// `physical_address_bits` is the CPU's (CPUID 0x80000008; 36 where it does not say). An
// error says why there is no window.
ErrorOr<AddressWindow> plan_address_window(multiboot2::BootInfo const&, u64 physical, u64 bytes, u32 physical_address_bits,
    Span<const MemoryRange> avoid = {});

// The framebuffer's own 2 MiB pages, below 4 GiB, to be mapped write-combining: only where
// the memory map lists nothing in them (a framebuffer in a PCI device's memory, as on real
// PCs and QEMU's VGA); not where they hold RAM (QEMU's ramfb, graphics memory taken from
// RAM), which the kernel's own data may share. An error says why not.
ErrorOr<AddressWindow> plan_identity_window(multiboot2::BootInfo const&, u64 physical, u64 bytes);

// The first `bytes` of usable RAM above 4 GiB, page-aligned (for screen_test=above-4g:
// what a framebuffer up there gets, on machines that cannot place one there); an error
// when the memory map has none that large.
ErrorOr<u64> ram_above_4gib(multiboot2::BootInfo const&, u64 bytes);

}
