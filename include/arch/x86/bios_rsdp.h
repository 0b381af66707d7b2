#pragma once
#include <rt/types.h>

namespace x86 {

// The ACPI RSDP where a PC BIOS leaves it (the first KiB of the EBDA, then
// 0xE0000-0xFFFFF), or null. GRUB's Multiboot2 copy, when there is one, comes first.
const u8* find_bios_rsdp();

}
