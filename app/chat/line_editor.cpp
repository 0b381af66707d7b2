#include "line_editor.h"
#include <rt/console.h>

namespace app {

LineStatus read_line(char* buffer, size_t capacity, size_t& length)
{
    auto& console = rt::Console::the();
    length = 0;
    buffer[0] = 0;
    bool dropped = false;
    auto finished = [&] { return dropped ? LineStatus::TooLong : LineStatus::Line; };
    while (true) {
        int c = console.poll_input();
        if (c == rt::InputSource::end_of_input)
            return length ? finished() : LineStatus::EndOfInput;
        if (c < 0)
            continue; // nothing typed yet: keep polling
        if (c == '\r' || c == '\n') {
            console.write("\n");
            return finished();
        }
        if (c == '\b' || c == 0x7F) { // backspace, or DEL from a terminal
            if (length > 0) {
                buffer[--length] = 0;
                console.write("\b \b");
            }
            continue;
        }
        if (c < 0x20)
            continue; // other control keys
        if (length + 1 >= capacity) {
            dropped = true; // the line is full
            continue;
        }
        buffer[length++] = char(c);
        buffer[length] = 0;
        char echo = char(c);
        console.write({ &echo, 1 });
    }
}

}
