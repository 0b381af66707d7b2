#pragma once
// A calendar date and time of day, as a machine's clock tells it (the PC's real-time clock
// in the kernel, the host's local time in the hosted build), for chat templates that
// write today's date (strftime_now). No time zone: the clock's own.
#include <rt/types.h>

namespace rt {

struct DateTime {
    i32 year;
    u8 month; // 1..12
    u8 day;   // 1..31
    u8 hour, minute, second;

    static constexpr bool leap(i32 y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
    static constexpr u8 days_in_month(i32 y, u8 m)
    {
        constexpr u8 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return m == 2 && leap(y) ? 29 : days[m - 1];
    }
    constexpr bool valid() const
    {
        return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month) && hour < 24
            && minute < 60 && second < 60;
    }
    // 0 = Sunday ... 6 = Saturday (the Gregorian calendar, Sakamoto's method).
    constexpr u8 weekday() const
    {
        constexpr i32 offsets[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
        i32 y = month < 3 ? year - 1 : year;
        return u8((y + y / 4 - y / 100 + y / 400 + offsets[month - 1] + day) % 7);
    }
    // 1 = the first of January.
    constexpr u16 day_of_year() const
    {
        u16 n = day;
        for (u8 m = 1; m < month; ++m)
            n = u16(n + days_in_month(year, m));
        return n;
    }
};

// The PC's CMOS real-time clock registers as read (seconds, minutes, hours, day, month,
// two-digit year, and status register B), as a DateTime: BCD unless B's bit 2 says binary,
// a 12-hour clock (the hour's bit 7 meaning PM) unless B's bit 1 says 24-hour; the century
// is taken as 2000 (the CMOS century register is not where every firmware keeps it).
struct CmosClock {
    u8 seconds, minutes, hours, day, month, year, status_b;
};
constexpr DateTime date_time_from_cmos(CmosClock c)
{
    bool binary = c.status_b & 0x04, hours_24 = c.status_b & 0x02;
    auto decode = [binary](u8 v) { return binary ? v : u8((v >> 4) * 10 + (v & 0x0F)); };
    bool pm = !hours_24 && (c.hours & 0x80);
    u8 hour = decode(u8(c.hours & 0x7F));
    if (!hours_24)
        hour = u8(hour % 12 + (pm ? 12 : 0)); // 12 AM is 0, 12 PM is 12
    return { 2000 + decode(c.year), decode(c.month), decode(c.day), hour, decode(c.minutes), decode(c.seconds) };
}

}
