#pragma once
#include <rt/console.h>

namespace x86 {

// The PS/2 keyboard, polled (no IRQ): US layout, scancode set 1 as the 8042 controller
// translates it. Enough for typing prompts: letters, digits, punctuation, shift, caps
// lock, enter and backspace.
class Ps2Keyboard final : public rt::InputSource {
public:
    int poll() override;

private:
    bool m_shift { false };
    bool m_caps_lock { false };
};

}
