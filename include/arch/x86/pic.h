#pragma once
#include <rt/types.h>

namespace x86::pic {

constexpr u8 irq_base = 32; // IRQ n arrives as vector 32 + n, clear of the CPU exceptions

// Remaps both 8259 PICs to vectors 32..47 and masks every line.
void initialize();
void end_of_interrupt(u8 irq);

}
