#pragma once
#include <rt/console.h>
#include <rt/scancode_set1.h>

namespace x86 {

// The PS/2 keyboard, polled (no IRQ): its bytes read from the 8042 controller and turned
// into keys by rt::ScancodeSet1.
class Ps2Keyboard final : public rt::InputSource {
public:
    int poll() override;

private:
    rt::ScancodeSet1 m_scancodes;
};

}
