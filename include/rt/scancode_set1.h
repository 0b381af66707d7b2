#pragma once
// A PS/2 keyboard's bytes (scan code set 1, as the 8042 controller translates every
// keyboard's codes by default) turned into keys: each key's place as the USB usage that
// names it, typed through the active keyboard layout (rt/keyboard_layout.h), with shift,
// caps lock, Ctrl and AltGr (the right Alt) held as they are. The cursor keys, Home, End,
// Delete and the keypad's Enter and '/' come as two bytes (0xE0 and the key); the keypad
// types digits (num lock on, as USB keyboards are set).
#include <rt/keyboard_layout.h>

namespace rt {

class ScancodeSet1 {
public:
    static constexpr int nothing = -1;

    // Takes the next byte from the keyboard.
    void take(u8 code);
    // The next key typed (a character's UTF-8 bytes one at a time), or `nothing`.
    int next();
    // The LEDs the keyboard should show, as the byte of its "set LEDs" command: num lock
    // always (the keypad types digits), caps lock while it is on.
    static constexpr u8 num_lock_led = 1u << 1, caps_lock_led = 1u << 2;
    u8 leds() const { return num_lock_led | (m_caps_lock ? caps_lock_led : 0); }

private:
    void press(u8 usage);

    bool m_extended { false }; // the byte before was 0xE0
    u8 m_pause_bytes { 0 };    // the rest of Pause's 0xE1 sequence, ignored
    bool m_left_shift { false }, m_right_shift { false };
    bool m_left_control { false }, m_right_control { false };
    bool m_alt_graph { false };
    bool m_caps_lock { false };
    KeyTyping m_typing;
    int m_pending[KeyTyping::most_keys] {};
    u32 m_pending_count { 0 }, m_pending_next { 0 };
};

}
