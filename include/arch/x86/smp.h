#pragma once
#include <rt/multiboot2.h>

namespace x86::smp {

// Finds the processors (processor_discovery.h), starts up to `wanted - 1` application
// processors one at a time with INIT-SIPI-SIPI through the start-up code of ap_boot.asm,
// and hands each to the work pool. A processor that does not report in within its timeout
// is named and left out. The local APICs run in x2APIC mode when the firmware left them so
// or `want_x2apic` and the CPU has it (local_apic.h). Returns the number of cores now
// working (the boot CPU included).
size_t start_processors(rt::multiboot2::BootInfo const&, uptr info_address, size_t wanted, bool want_x2apic);

}
