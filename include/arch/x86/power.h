#pragma once
#include <rt/types.h>

namespace x86 {

enum class ExitStatus : u8 { Success = 0x10, Failure = 0x11 };

// Ends the run: tells QEMU's isa-debug-exit device (port 0xf4) how it went, which makes
// QEMU exit with (status << 1) | 1. Without that device (a person watching QEMU or real
// hardware) the machine halts so the screen stays readable, unless power-off was asked
// for (end=poweroff), which tries QEMU's ACPI power-off ports first.
[[noreturn]] void shut_down(ExitStatus);
void set_power_off_at_end(bool);

}
