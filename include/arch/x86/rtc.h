#pragma once
// The PC's real-time clock (CMOS registers through ports 0x70/0x71).
#include <rt/date_time.h>
#include <rt/error.h>

namespace x86 {

// Today's date and time as the clock keeps it; an error when no clock answers sensibly
// (every wait is bounded).
rt::ErrorOr<rt::DateTime> read_real_time_clock();

}
