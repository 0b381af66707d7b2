#pragma once
#include <rt/types.h>

namespace x86::pit {

constexpr u32 frequency_hz = 1193182;

// Measures the TSC rate against PIT channel 2 (gated through port 0x61, so no
// interrupts are needed). Returns 0 when the PIT never counts down (broken or absent).
u64 measure_tsc_hz();

// Busy-waits about `microseconds` using the PIT (for hardware delays before the TSC is
// calibrated).
void wait_microseconds(u32 microseconds);

}
