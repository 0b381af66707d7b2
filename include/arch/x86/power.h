#pragma once
#include <rt/multiboot2.h>

namespace x86 {

enum class ExitStatus : u8 { Success = 0x10, Failure = 0x11 };

// Ends the run: tells QEMU's isa-debug-exit device (port 0xf4) how it went, which makes
// QEMU exit with (status << 1) | 1. Without that device (a person watching QEMU or real
// hardware) the machine halts so the screen stays readable, unless power-off was asked
// for (end=poweroff): then it enters ACPI sleep state S5 as the firmware's tables
// describe it, and only if that fails tries the ports QEMU's machines use.
[[noreturn]] void shut_down(ExitStatus);

// end=poweroff: finds the FADT and \_S5 now (GRUB's RSDP copy, else the BIOS areas) and
// says so if it cannot, so the end of the run need not read firmware tables.
void prepare_power_off(rt::multiboot2::BootInfo const&);

}
