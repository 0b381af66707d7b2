#pragma once
#include <rt/console.h>
#include <rt/scancode_set1.h>

namespace x86 {

// The PS/2 keyboard, polled (no IRQ): its bytes read from the 8042 controller and turned
// into keys by rt::ScancodeSet1; its LEDs set to num lock and, while it is on, caps lock.
class Ps2Keyboard final : public rt::InputSource {
public:
    int poll() override;

private:
    void show_leds();
    bool send_command_byte(u8);

    rt::ScancodeSet1 m_scancodes;
    u8 m_leds_shown { 0xFF }; // none yet: the first poll sets them
    bool m_can_send { true };
};

}
