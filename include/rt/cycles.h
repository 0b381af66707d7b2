#pragma once
// Time in CPU cycles (the TSC) and its conversion to wall time. The TSC rate is measured
// once at start-up (against the PIT on bare metal, against the OS clock when hosted).
#include <rt/types.h>

namespace rt {

inline u64 read_cycles()
{
    u32 low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (u64(high) << 32) | low;
}

class CycleClock {
public:
    static void set_frequency(u64 hz) { s_hz = hz ? hz : 1; }
    static u64 frequency() { return s_hz; }
    static double to_seconds(u64 cycles) { return double(cycles) / double(s_hz); }
    static double to_microseconds(u64 cycles) { return double(cycles) * 1e6 / double(s_hz); }

private:
    static inline u64 s_hz { 1'000'000'000 };
};

// Milliseconds since the TSC started (the machine's reset), at the measured rate.
inline u64 milliseconds_now()
{
    u64 per_millisecond = CycleClock::frequency() / 1000;
    return read_cycles() / (per_millisecond ? per_millisecond : 1);
}

}
