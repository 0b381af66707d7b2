#pragma once
#include <rt/error.h>

namespace app {

// TooLong: the line ended, but characters beyond the buffer were dropped (the caller
// should refuse it rather than act on part of it).
enum class LineStatus { Line, TooLong, EndOfInput };

// Reads one line from the console's input sources (keyboard, serial, or stdin when
// hosted) with echo and backspace, into `buffer` (kept NUL-terminated).
LineStatus read_line(char* buffer, size_t capacity, size_t& length);

}
