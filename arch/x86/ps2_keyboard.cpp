#include <arch/x86/io.h>
#include <arch/x86/ps2_keyboard.h>

namespace x86 {

namespace {
constexpr u16 data_port = 0x60, status_port = 0x64;
constexpr u8 output_full = 0x01, from_mouse = 0x20;
}

int Ps2Keyboard::poll()
{
    // A key may take several bytes (a prefix, modifiers): those waiting are read, a few at
    // most (a machine without the controller reads 0xFF, "full", from every port forever).
    for (int byte = 0; byte < 8; ++byte) {
        if (int key = m_scancodes.next(); key != rt::ScancodeSet1::nothing)
            return key; // a character's next byte, or a key read before
        u8 status = in8(status_port);
        if (!(status & output_full))
            return nothing_waiting;
        u8 code = in8(data_port);
        if (!(status & from_mouse))
            m_scancodes.take(code);
    }
    return m_scancodes.next();
}

}
