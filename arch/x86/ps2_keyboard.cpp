#include <arch/x86/io.h>
#include <arch/x86/ps2_keyboard.h>

namespace x86 {

namespace {
constexpr u16 data_port = 0x60, status_port = 0x64;
constexpr u8 output_full = 0x01, input_full = 0x02, from_mouse = 0x20;
constexpr u8 set_leds = 0xED;

// Hands a byte to the controller for the keyboard once the controller has room; false
// when it never does (no controller: its status reads 0xFF, "full", forever).
bool send_to_keyboard(u8 byte)
{
    for (int wait = 0; wait < 100000; ++wait)
        if (!(in8(status_port) & input_full)) {
            out8(data_port, byte);
            return true;
        }
    return false;
}
}

// The keyboard's LEDs are the computer's to set (a PS/2 keyboard lights caps lock only when
// told, and so does the firmware's emulation of one for a USB keyboard): set when they
// should change. The keyboard answers each byte with 0xFA, which the scan-code decoder
// takes for the release of no key. A controller that never takes a byte is not asked again.
void Ps2Keyboard::show_leds()
{
    u8 leds = m_scancodes.leds();
    if (!m_can_send || leds == m_leds_shown)
        return;
    m_can_send = send_to_keyboard(set_leds) && send_to_keyboard(leds);
    m_leds_shown = leds;
}

int Ps2Keyboard::poll()
{
    show_leds();
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
