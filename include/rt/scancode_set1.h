#pragma once
// A PS/2 keyboard's bytes (scan code set 1, as the 8042 controller translates every
// keyboard's codes by default) turned into keys (rt/keys.h), US layout: letters, digits,
// punctuation, the keypad's digits (as with num lock on, what USB keyboards are set to),
// shift, caps lock, Ctrl with a letter, and the cursor keys, Home, End and Delete, which
// come as two bytes (0xE0 and the key).
#include <rt/types.h>

namespace rt {

class ScancodeSet1 {
public:
    static constexpr int nothing = -1;

    // Takes the next byte; returns the key it completes, or `nothing` (a release, a
    // modifier, a prefix, or a key that types nothing).
    int take(u8 code);

private:
    int extended_key(u8 key);

    bool m_extended { false };   // the byte before was 0xE0
    u8 m_pause_bytes { 0 };      // the rest of Pause's 0xE1 sequence, ignored
    bool m_left_shift { false }, m_right_shift { false };
    bool m_left_control { false }, m_right_control { false };
    bool m_caps_lock { false };
};

}
