#include <arch/x86/bios_rsdp.h>
#include <arch/x86/io.h>
#include <arch/x86/pit.h>
#include <arch/x86/tsc_calibration.h>
#include <rt/acpi.h>
#include <rt/console.h>
#include <rt/cycles.h>
#include <rt/tsc_rate.h>

namespace x86 {

namespace {

constexpr u64 four_gib = 4ull << 30;

// The TSC against the PM timer over 10 ms windows, the fastest of three; 0 when the
// timer does not advance within 2^31 cycles.
u64 measure_against_pm_timer(rt::acpi::PmTimer timer)
{
    constexpr u32 window = rt::acpi::PmTimer::frequency_hz / 100;
    constexpr u64 limit = u64(1) << 31;
    u32 mask = timer.wide ? 0xFFFF'FFFFu : 0x00FF'FFFFu;
    auto ticks_since = [&](u32 first) { return (in32(timer.port) - first) & mask; }; // wraps like the counter
    u64 best = ~u64(0);
    u32 best_ticks = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        // Start on a tick, so that the window holds whole ticks.
        u32 before = in32(timer.port) & mask;
        u64 waited = rt::read_cycles();
        while (ticks_since(before) == 0)
            if (rt::read_cycles() - waited > limit)
                return 0;
        u32 first = in32(timer.port) & mask;
        u64 start = rt::read_cycles();
        u32 ticks;
        while ((ticks = ticks_since(first)) < window)
            if (rt::read_cycles() - start > limit)
                return 0;
        u64 elapsed = rt::read_cycles() - start;
        if (elapsed < best) {
            best = elapsed;
            best_ticks = ticks;
        }
    }
    return rt::rate_against(best, best_ticks, rt::acpi::PmTimer::frequency_hz);
}

void print_mhz(const char* what, u64 hz)
{
    rt::println("[time] {} {}.{:03} MHz: not plausible for a TSC, set aside", what, hz / 1'000'000, (hz / 1000) % 1000);
}

}

TscRate calibrate_tsc(rt::multiboot2::BootInfo const& info)
{
    u64 hz = pit::measure_tsc_hz();
    if (rt::plausible_tsc_hz(hz))
        return { hz, "measured against the PIT" };
    if (hz)
        print_mhz("the PIT gave", hz);
    else
        rt::println("[time] the PIT did not count");

    auto timer = read_acpi(info, [](const u8* rsdp, size_t length) { return rt::acpi::pm_timer_from_rsdp(rsdp, length, four_gib); });
    if (!timer.is_error()) {
        hz = measure_against_pm_timer(timer.value());
        if (rt::plausible_tsc_hz(hz))
            return { hz, "measured against the ACPI PM timer" };
        if (hz)
            print_mhz("the ACPI PM timer gave", hz);
        else
            rt::println("[time] the ACPI PM timer at port {:#x} did not count", timer.value().port);
    } else {
        rt::println("[time] {}", timer.error().message());
    }

    hz = rt::tsc_hz_from_cpuid(rt::cpuid(0).eax, rt::cpuid(0x15), rt::cpuid(0x16));
    if (rt::plausible_tsc_hz(hz))
        return { hz, "as CPUID states it" };
    return { 1'000'000'000, "assumed: nothing to measure it against, times will be off" };
}

void wait_microseconds(u32 microseconds)
{
    u64 cycles = u64(microseconds) * rt::CycleClock::frequency() / 1'000'000;
    u64 start = rt::read_cycles();
    while (rt::read_cycles() - start < cycles)
        asm volatile("pause");
}

}
