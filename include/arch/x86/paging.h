#pragma once
// PAE paging, turned on only to show memory above 4 GiB through a window
// (rt/address_window.h); every other address stays what it is without paging. With nothing
// up there to show, the kernel runs without paging, as the boot loader left it.
#include <rt/address_window.h>

namespace x86::paging {

// The width of this CPU's physical addresses (CPUID 0x80000008), 36 where it does not say.
u32 physical_address_bits();

// Whether this CPU pages with PAE and has a PAT to make a window write-combining.
bool can_write_combine();

// How a window's pages are cached: a framebuffer's write-combining (where the CPU has
// PAT), a device's registers not at all.
enum class Caching { WriteCombining, Uncached };

// Builds the tables (the first 4 GiB mapped to themselves, the pages of every window opened
// so far to what they show) and turns paging on for this processor (again with new tables,
// where it is on already). A window at the virtual address of one opened before takes its
// place. An error, and nothing changed, when the CPU has no PAE or four windows are open.
rt::ErrorOr<void> open_window(rt::boot::AddressWindow const&, Caching);
// The windows open now, for planning another beside them.
rt::Span<const rt::boot::AddressWindow> open_windows();

// What an application processor loads into CR3 before CR0 turns paging on for it (as the
// boot processor's CR0 says): the tables open_window built, or 0 when there are none.
u32 tables_for_other_processors();
// On an application processor, before it may draw on the screen: the boot processor's
// PAT, so the window is write-combining there too.
void match_boot_processor();

}
