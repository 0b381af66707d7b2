#pragma once
#include <rt/acpi.h>
#include <rt/multiboot2.h>

namespace x86::smp {

// Finds the processors (ACPI via the Multiboot2 RSDP or a BIOS-area search, then the MP
// tables), starts up to `wanted - 1` application processors one at a time with
// INIT-SIPI-SIPI, and hands each to the work pool. A processor that does not report in
// within its timeout is named and left out. Returns the number of cores now working
// (the boot CPU included).
size_t start_processors(rt::multiboot2::BootInfo const&, uptr info_address, size_t wanted);

// Sends every other processor an NMI, which halts it (used when a fault stops the run).
void stop_other_processors();

// The IPI vector that wakes a sleeping core (its handler only acknowledges it).
constexpr u32 wake_vector = 48;
constexpr u32 spurious_vector = 63;
// Turns on this processor's local APIC (each core has its own).
void enable_local_apic();
void acknowledge_interrupt();

// The index (0 = boot CPU) of the processor running this code.
u32 current_cpu_index();

}
