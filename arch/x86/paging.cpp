#include <arch/x86/cpu.h>
#include <arch/x86/paging.h>

namespace x86::paging {

namespace {

constexpr u64 present = 1u << 0, writable = 1u << 1, write_through = 1u << 3, large_page = 1u << 7;
constexpr u32 cr0_paging = 1u << 31, cr4_pae = 1u << 5;
constexpr u32 entries = 512; // of a page directory or table: 8 bytes each, 4 KiB
constexpr u32 small_page = 4096;
constexpr u32 pat_msr = 0x277;
// PAT entry 1 (the one PWT alone selects) from write-through, which nothing here uses, to
// write-combining: the window's pages select it. Firmware's MTRRs mostly leave a
// framebuffer uncached (one above 4 GiB seldom has an MTRR at all), where every pixel is a
// bus write of its own; PAT's write-combining overrides MTRR's uncached. Every other page
// selects entry 0, write-back, which leaves the MTRRs' type as it is without paging.
constexpr u64 pat_entry_1 = 0x7ull << 8, pat_write_combining_in_entry_1 = 0x01ull << 8;

// The four page directories of PAE's 32-bit addresses, each mapping 1 GiB in 2 MiB pages,
// and their pointer table. The first 2 MiB go through a table of 4 KiB pages instead:
// there the MTRRs give the BIOS areas and the legacy video memory other memory types than
// the RAM beside them, which one large page could not follow.
alignas(small_page) u64 directories[4][entries];
alignas(small_page) u64 first_pages[entries];
alignas(32) u64 directory_pointers[4];
bool tables_built = false;
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

rt::ErrorOr<void> open_window(rt::boot::AddressWindow const& window)
{
    if (!has_pae())
        return rt::Error::format("this CPU has no PAE paging");
    u64 window_caching = 0;
    if (has_pat()) {
        boot_processor_pat = (read_msr(pat_msr) & ~pat_entry_1) | pat_write_combining_in_entry_1;
        write_msr(pat_msr, boot_processor_pat);
        pat_set = true;
        window_caching = write_through;
    }
    constexpr u64 large_bytes = rt::boot::window_page_bytes;
    u32 first = u32(window.virtual_base / large_bytes);
    for (u32 page = 0; page < 4 * entries; ++page) {
        u64 entry = u64(page) * large_bytes | present | writable | large_page;
        if (page >= first && page < first + window.pages)
            entry = (window.physical_base + u64(page - first) * large_bytes) | present | writable | large_page | window_caching;
        directories[page / entries][page % entries] = entry;
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

u32 tables_for_other_processors() { return tables_built ? u32(uptr(directory_pointers)) : 0; }

void match_boot_processor()
{
    if (pat_set)
        write_msr(pat_msr, boot_processor_pat);
}

}
