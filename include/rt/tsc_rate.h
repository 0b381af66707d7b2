#pragma once
// The TSC's rate: what a measurement of it must look like to be believed, and what CPUID
// states of it where no reference clock can be measured against.
#include <rt/cpuid.h>

namespace rt {

// Every x86 BareFlow runs on ticks between these. A measurement outside them means the
// reference clock did not run as it claims: a PIT that is not there reads as finished at
// once (QEMU's -machine pit=off gave "5.6 MHz").
constexpr u64 lowest_plausible_tsc_hz = 100'000'000, highest_plausible_tsc_hz = 20'000'000'000;
inline bool plausible_tsc_hz(u64 hz) { return hz >= lowest_plausible_tsc_hz && hz <= highest_plausible_tsc_hz; }

// The rate of `cycles` counted while a reference clock of `reference_hz` advanced `ticks`
// (0 when it did not advance).
inline u64 rate_against(u64 cycles, u64 ticks, u64 reference_hz) { return ticks ? cycles * reference_hz / ticks : 0; }

// The rate CPUID states: leaf 0x15's TSC-to-crystal ratio times its crystal frequency,
// else leaf 0x16's base frequency (the TSC's rate on the CPUs that have both leaves);
// 0 when it states neither. `highest_leaf` is leaf 0's EAX: leaves above it are not there.
u64 tsc_hz_from_cpuid(u32 highest_leaf, CpuidResult leaf_15h, CpuidResult leaf_16h);

}
