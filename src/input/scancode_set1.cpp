#include <rt/keys.h>
#include <rt/scancode_set1.h>

namespace rt {

namespace {
constexpr u8 release_bit = 0x80;
constexpr u8 extended_prefix = 0xE0, pause_prefix = 0xE1;
constexpr u8 left_shift = 0x2A, right_shift = 0x36, control = 0x1D, caps_lock = 0x3A;

// Make codes 0x00..0x39 to characters, without and with shift.
constexpr char plain[] = "\0\x1b" "1234567890-=\b\tqwertyuiop[]\n\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
constexpr char shifted[] = "\0\x1b" "!@#$%^&*()_+\b\tQWERTYUIOP{}\n\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";
static_assert(sizeof plain == caps_lock + 1 && sizeof shifted == caps_lock + 1);

// The keypad, make codes 0x47 (7) to 0x53 (.), as num lock on gives them.
constexpr u8 keypad_first = 0x47;
constexpr char keypad[] = "789-456+1230.";
static_assert(sizeof keypad == 0x53 - keypad_first + 2);
}

// The keys that come after 0xE0: the cursor block, and the keypad's Enter and '/'.
int ScancodeSet1::extended_key(u8 key)
{
    switch (key) {
    case 0x48: return key::up;
    case 0x50: return key::down;
    case 0x4B: return key::left;
    case 0x4D: return key::right;
    case 0x47: return key::home;
    case 0x4F: return key::end;
    case 0x53: return key::forward_delete;
    case 0x1C: return key::enter;
    case 0x35: return '/';
    default: return nothing; // 0xE0 0x2A and 0xE0 0x36 (Print Screen's fake shifts) among them
    }
}

int ScancodeSet1::take(u8 code)
{
    if (m_pause_bytes) { // Pause sends 0xE1 0x1D 0x45 0xE1 0x9D 0xC5 and no release
        --m_pause_bytes;
        return nothing;
    }
    if (code == extended_prefix) {
        m_extended = true;
        return nothing;
    }
    if (code == pause_prefix) {
        m_pause_bytes = 2;
        return nothing;
    }
    bool extended = m_extended;
    m_extended = false;
    bool pressed = !(code & release_bit);
    u8 key = code & u8(~release_bit);
    if (key == control) {
        (extended ? m_right_control : m_left_control) = pressed;
        return nothing;
    }
    if (extended)
        return pressed ? extended_key(key) : nothing;
    if (key == left_shift || key == right_shift) {
        (key == left_shift ? m_left_shift : m_right_shift) = pressed;
        return nothing;
    }
    if (!pressed)
        return nothing;
    if (key == caps_lock) {
        m_caps_lock = !m_caps_lock;
        return nothing;
    }
    if (key >= keypad_first && key < keypad_first + sizeof keypad - 1)
        return keypad[key - keypad_first];
    if (key >= sizeof plain - 1)
        return nothing;
    bool shift = m_left_shift || m_right_shift;
    char c = shift ? shifted[key] : plain[key];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (letter && (m_left_control || m_right_control))
        return key::control(c);
    if (letter && m_caps_lock)
        c = char(c ^ 0x20);
    return c ? u8(c) : nothing;
}

}
