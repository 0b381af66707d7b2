#include <arch/x86/cpu.h>
#include <arch/x86/paging.h>

namespace x86::paging {

namespace {

constexpr u64 present = 1u << 0, writable = 1u << 1, write_through = 1u << 3, cache_disable = 1u << 4, large_page = 1u << 7;
constexpr u32 cr0_paging = 1u << 31, cr4_pae = 1u << 5;
constexpr u32 entries = 512; // of a page directory or table: 8 bytes each, 4 KiB
constexpr u32 small_page = 4096;
constexpr u32 pat_msr = 0x277;
// PAT entry 1 (the one PWT alone selects) from write-through, which nothing here uses, to
// write-combining: the window's pages select it. Firmware's MTRRs mostly leave a
// framebuffer uncached (one above 4 GiB seldom has an MTRR at all), where every pixel is a
// bus write of its own; PAT's write-combining overrides MTRR's uncached. Every other page
// selects entry 0, write-back, which leaves the MTRRs' type as it is without paging; a
// device's registers entry 3 (PCD and PWT), uncached whatever the MTRRs say (above 4 GiB
// firmware often gives them no MTRR of their own, and the default type may be write-back).
constexpr u64 pat_entry_1 = 0x7ull << 8, pat_write_combining_in_entry_1 = 0x01ull << 8;
constexpr u32 max_windows = 4;

// The four page directories of PAE's 32-bit addresses, each mapping 1 GiB in 2 MiB pages,
// and their pointer table. The first 2 MiB go through a table of 4 KiB pages instead:
// there the MTRRs give the BIOS areas and the legacy video memory other memory types than
// the RAM beside them, which one large page could not follow.
alignas(small_page) u64 directories[4][entries];
alignas(small_page) u64 first_pages[entries];
alignas(32) u64 directory_pointers[4];
bool tables_built = false;
rt::boot::AddressWindow windows[max_windows];
Caching window_caching[max_windows];
u32 window_count = 0;
u64 boot_processor_pat = 0;
bool pat_set = false;

bool has_pae() { return cpuid(1).edx & (1u << 6); }
bool has_pat() { return cpuid(1).edx & (1u << 16); }

}

bool can_write_combine() { return has_pae() && has_pat(); }

u32 physical_address_bits()
{
    if (cpuid(0x80000000).eax >= 0x80000008)
        return cpuid(0x80000008).eax & 0xFF;
    return 36;
}

rt::ErrorOr<void> open_window(rt::boot::AddressWindow const& window, Caching caching)
{
    if (!has_pae())
        return rt::Error::format("this CPU has no PAE paging");
    u32 index = 0;
    while (index < window_count && windows[index].virtual_base != window.virtual_base)
        ++index;
    if (index == max_windows)
        return rt::Error::format("{} windows are open already", max_windows);
    windows[index] = window;
    window_caching[index] = caching;
    window_count = rt::max(window_count, index + 1);
    if (has_pat() && !pat_set) {
        boot_processor_pat = (read_msr(pat_msr) & ~pat_entry_1) | pat_write_combining_in_entry_1;
        write_msr(pat_msr, boot_processor_pat);
        pat_set = true;
    }
    constexpr u64 large_bytes = rt::boot::window_page_bytes;
    for (u32 page = 0; page < 4 * entries; ++page)
        directories[page / entries][page % entries] = u64(page) * large_bytes | present | writable | large_page;
    for (u32 w = 0; w < window_count; ++w) {
        u64 caching_bits = window_caching[w] == Caching::Uncached ? cache_disable | write_through : pat_set ? write_through : 0;
        u32 first = u32(windows[w].virtual_base / large_bytes);
        for (u32 page = 0; page < windows[w].pages; ++page)
            directories[(first + page) / entries][(first + page) % entries]
                = (windows[w].physical_base + u64(page) * large_bytes) | present | writable | large_page | caching_bits;
    }
    for (u32 page = 0; page < entries; ++page)
        first_pages[page] = u64(page) * small_page | present | writable;
    directories[0][0] = u64(uptr(first_pages)) | present | writable;
    for (u32 i = 0; i < 4; ++i) // PAE's pointer entries have no writable bit (it is reserved there)
        directory_pointers[i] = u64(uptr(directories[i])) | present;
    tables_built = true;
    write_cr4(read_cr4() | cr4_pae);
    write_cr3(u32(uptr(directory_pointers)));
    write_cr0(read_cr0() | cr0_paging);
    return {};
}

rt::Span<const rt::boot::AddressWindow> open_windows() { return { windows, window_count }; }

u32 tables_for_other_processors() { return tables_built ? u32(uptr(directory_pointers)) : 0; }

void match_boot_processor()
{
    if (pat_set)
        write_msr(pat_msr, boot_processor_pat);
}

}
