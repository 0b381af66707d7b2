#pragma once
#include <rt/types.h>

namespace x86::pit {

constexpr u32 frequency_hz = 1193182;

// Measures the TSC rate against PIT channel 2 (gated through port 0x61, so no
// interrupts are needed). Returns 0 when the PIT never counts down within a few hundred
// million TSC cycles (broken or absent); the caller judges whether the rate is plausible.
u64 measure_tsc_hz();

}
