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

// Builds the tables (the first 4 GiB mapped to themselves, the window's pages to what it
// shows, write-combining where the CPU has PAT) and turns paging on for this processor
// (again with new tables, where it is on already). An error, and nothing changed, when the
// CPU has no PAE.
rt::ErrorOr<void> open_window(rt::boot::AddressWindow const&);

// What an application processor loads into CR3 before CR0 turns paging on for it (as the
// boot processor's CR0 says): the tables open_window built, or 0 when there are none.
u32 tables_for_other_processors();
// On an application processor, before it may draw on the screen: the boot processor's
// PAT, so the window is write-combining there too.
void match_boot_processor();

}
