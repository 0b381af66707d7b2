#include <arch/x86/io.h>
#include <arch/x86/rtc.h>

namespace x86 {

namespace {

constexpr u16 index_port = 0x70, data_port = 0x71;
constexpr u8 seconds = 0x00, minutes = 0x02, hours = 0x04, day = 0x07, month = 0x08, year = 0x09, status_a = 0x0A, status_b = 0x0B;
constexpr u8 update_in_progress = 0x80;

u8 read_register(u8 index)
{
    out8(index_port, index); // bit 7 clear: NMIs stay as the firmware left them
    io_wait();
    return in8(data_port);
}

rt::CmosClock read_registers()
{
    return { read_register(seconds), read_register(minutes), read_register(hours), read_register(day), read_register(month),
        read_register(year), read_register(status_b) };
}

bool same(rt::CmosClock const& a, rt::CmosClock const& b)
{
    return a.seconds == b.seconds && a.minutes == b.minutes && a.hours == b.hours && a.day == b.day && a.month == b.month
        && a.year == b.year && a.status_b == b.status_b;
}

}

rt::ErrorOr<rt::DateTime> read_real_time_clock()
{
    // No device at the ports reads as all ones.
    if (read_register(status_a) == 0xFF && read_register(status_b) == 0xFF)
        return rt::Error::format("no real-time clock answers at ports 0x70/0x71");
    // The registers change once a second, during an update (status A bit 7, under 2 ms):
    // read them outside one, twice, until two reads agree. A port read takes about a
    // microsecond, so the bounds below keep a clock that never settles to ~50 ms.
    for (u32 attempt = 0; attempt < 5; ++attempt) {
        for (u32 waits = 0; (read_register(status_a) & update_in_progress) && waits < 5000; ++waits) {
        }
        rt::CmosClock first = read_registers();
        if (read_register(status_a) & update_in_progress)
            continue;
        if (!same(first, read_registers()))
            continue;
        rt::DateTime now = rt::date_time_from_cmos(first);
        if (!now.valid())
            return rt::Error::format("the real-time clock reads {}-{}-{} {}:{}:{}, not a date", now.year, now.month, now.day, now.hour,
                now.minute, now.second);
        return now;
    }
    return rt::Error::format("the real-time clock never held still for two reads");
}

}
