#include <arch/x86/io.h>
#include <arch/x86/pit.h>
#include <rt/cycles.h>
#include <rt/tsc_rate.h>

namespace x86::pit {

namespace {
constexpr u16 channel2_data = 0x42, mode_command = 0x43, speaker_control = 0x61;
constexpr u8 channel2_lobyte_hibyte_mode0 = 0b10'11'000'0; // channel 2, lo/hi, one-shot
constexpr u8 gate2 = 0x01, speaker_data = 0x02, output2 = 0x20;

// Starts a one-shot count of `ticks` on channel 2; its output goes high at zero.
void start_one_shot(u16 ticks)
{
    u8 control = in8(speaker_control);
    out8(speaker_control, u8((control & ~speaker_data) & ~gate2)); // gate low: stop
    out8(mode_command, channel2_lobyte_hibyte_mode0);
    out8(channel2_data, u8(ticks));
    out8(channel2_data, u8(ticks >> 8));
    out8(speaker_control, u8((control & ~speaker_data) | gate2)); // gate high: count
}

// Spins until the count ends; false if it has not within `limit` TSC cycles (far more
// than any 10 ms window takes on a CPU that can run BareFlow: a bound in cycles, not in
// polls, because a poll of port 0x61 takes a microsecond on real hardware).
bool wait_for_output(u64 limit)
{
    u64 start = rt::read_cycles();
    while (!(in8(speaker_control) & output2))
        if (rt::read_cycles() - start > limit)
            return false;
    return true;
}
}

u64 measure_tsc_hz()
{
    // 10 ms windows; the fastest of three is least disturbed by emulation hiccups.
    constexpr u16 ticks = frequency_hz / 100;
    constexpr u64 limit = u64(1) << 31;
    u64 best = ~u64(0);
    for (int attempt = 0; attempt < 3; ++attempt) {
        start_one_shot(ticks);
        u64 start = rt::read_cycles();
        if (!wait_for_output(limit))
            return 0;
        u64 elapsed = rt::read_cycles() - start;
        if (elapsed < best)
            best = elapsed;
    }
    return rt::rate_against(best, ticks, frequency_hz);
}

}
