#pragma once
#include <rt/multiboot2.h>

namespace x86 {

// The TSC's rate and what it was taken from (for the boot log).
struct TscRate {
    u64 hz;
    const char* source;
};

// Measures the TSC against PIT channel 2, else against the ACPI PM timer; a measurement
// that is not plausible (rt/tsc_rate.h) is set aside with a [time] line saying why. Else
// takes what CPUID states, else assumes 1 GHz (said: times will then be off).
TscRate calibrate_tsc(rt::multiboot2::BootInfo const&);

// Busy-waits about `microseconds` on the TSC at rt::CycleClock's rate (calibrated first):
// a delay that cannot hang on a machine whose PIT does not count.
void wait_microseconds(u32 microseconds);

}
