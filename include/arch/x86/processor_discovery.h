#pragma once
#include <rt/acpi.h>
#include <rt/multiboot2.h>

namespace x86 {

// Finds the processors of this PC: ACPI's MADT through GRUB's copy of the RSDP, else
// through the RSDP in the BIOS areas, else the MP tables (the first KiB of the EBDA, the
// last KiB of base memory, the BIOS ROM). The parsing itself is portable (rt::acpi);
// this file only knows where a PC keeps the tables.
rt::ErrorOr<rt::acpi::Topology> discover_processors(rt::multiboot2::BootInfo const&);

}
