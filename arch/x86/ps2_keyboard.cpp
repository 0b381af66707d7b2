#include <arch/x86/io.h>
#include <arch/x86/ps2_keyboard.h>
#include <rt/cycles.h>

namespace x86 {

namespace {
constexpr u16 data_port = 0x60, status_port = 0x64;
constexpr u8 output_full = 0x01, input_full = 0x02, from_mouse = 0x20;
constexpr u8 set_leds = 0xED, acknowledge = 0xFA, send_again = 0xFE;

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

// A command's byte, sent once the keyboard has taken the one before: it answers each with
// 0xFA within 20 ms (0xFE: send it again). Keys typed meanwhile go on to the decoder.
bool Ps2Keyboard::send_command_byte(u8 byte)
{
    u64 const answer_time = rt::CycleClock::frequency() / 50;
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (!send_to_keyboard(byte))
            return false;
        bool send_again_asked = false;
        for (u64 start = rt::read_cycles(); !send_again_asked && rt::read_cycles() - start < answer_time;) {
            u8 status = in8(status_port);
            if (!(status & output_full))
                continue;
            u8 code = in8(data_port);
            if (status & from_mouse)
                continue;
            if (code == acknowledge)
                return true;
            send_again_asked = code == send_again;
            if (!send_again_asked)
                m_scancodes.take(code);
        }
        if (!send_again_asked)
            return false; // no answer
    }
    return false;
}

// The keyboard's LEDs are the computer's to set (a PS/2 keyboard lights caps lock only when
// told, and so does the firmware's emulation of one for a USB keyboard): set when they
// should change. A keyboard or controller that does not take a command is not asked again,
// so no poll waits for it twice.
void Ps2Keyboard::show_leds()
{
    u8 leds = m_scancodes.leds();
    if (!m_can_send || leds == m_leds_shown)
        return;
    m_can_send = send_command_byte(set_leds) && send_command_byte(leds);
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
