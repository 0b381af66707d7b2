#pragma once
#include <rt/error.h>

namespace app {

enum class LineStatus { Line, EndOfInput };

// Reads one line from the console's input sources (keyboard, serial, or stdin when
// hosted) with echo and backspace, into `buffer` (kept NUL-terminated).
LineStatus read_line(char* buffer, size_t capacity, size_t& length);

}
