#pragma once
// A USB keyboard's boot-protocol reports (HID 1.11, appendix B: a modifier byte, a reserved
// byte, up to six keys held) turned into the keys the PS/2 keyboard gives: each new key
// typed through the active keyboard layout (rt/keyboard_layout.h) with shift, caps lock,
// Ctrl and AltGr as held. A report says which keys
// are down; a key counts when it first appears, and the last one pressed repeats while it
// is held, as a PS/2 keyboard's does (boot keyboards report changes only: the repeat is
// timed here).
#include <rt/keyboard_layout.h>

namespace rt {

class BootKeyboardReports {
public:
    static constexpr size_t report_size = 8;

    static constexpr u64 repeat_delay_ms = 500, repeat_interval_ms = 33;

    // Takes one report (shorter ones are ignored), received at `now_ms`; its new keys
    // become characters.
    void take(u8 const* report, size_t size, u64 now_ms);
    // The keyboard is gone (unplugged, its endpoint halted): no key is held any more.
    void release_all();
    // The next key typed by `now_ms` (a character's UTF-8 bytes one at a time), or -1.
    int next(u64 now_ms);
    // The LEDs the keyboard should show (its output report): num lock always (the keypad
    // types digits), caps lock while it is on.
    static constexpr u8 num_lock_led = 1u << 0, caps_lock_led = 1u << 1;
    u8 leds() const { return num_lock_led | (m_caps_lock ? caps_lock_led : 0); }

private:
    void push(int const* keys, size_t count);

    u8 m_held[6] {};
    u8 m_repeat_usage { 0 }; // 0: nothing repeats
    KeyTyping m_typing;
    KeyModifiers m_repeat_modifiers; // held when it went down
    u64 m_next_repeat_ms { 0 };
    bool m_caps_lock { false };
    static constexpr u32 pending_capacity = 16;
    u16 m_pending[pending_capacity] {};
    u32 m_head { 0 }, m_count { 0 };
};

}
