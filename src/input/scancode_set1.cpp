#include <rt/keys.h>
#include <rt/scancode_set1.h>

namespace rt {

namespace {
constexpr u8 release_bit = 0x80;
constexpr u8 extended_prefix = 0xE0, pause_prefix = 0xE1;
constexpr u8 left_shift = 0x2A, right_shift = 0x36, control = 0x1D, alt = 0x38, caps_lock = 0x3A;

// The USB usage of each set-1 make code from 0x00 to 0x58 (0: a key that types nothing,
// or a modifier, handled before). 0x2B is the US backslash and the ISO '#' key alike.
constexpr u8 usage_of[0x59] = {
    0x00, 0x29, 0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2D, 0x2E, 0x2A, 0x2B, // Esc 1-0 - = BS Tab
    0x14, 0x1A, 0x08, 0x15, 0x17, 0x1C, 0x18, 0x0C, 0x12, 0x13, 0x2F, 0x30, 0x28, 0x00, 0x04, 0x16, // q-p [ ] Enter Ctrl a s
    0x07, 0x09, 0x0A, 0x0B, 0x0D, 0x0E, 0x0F, 0x33, 0x34, 0x35, 0x00, 0x31, 0x1D, 0x1B, 0x06, 0x19, // d-l ; ' ` Shift \ z x c v
    0x05, 0x11, 0x10, 0x36, 0x37, 0x38, 0x00, 0x55, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // b n m , . / Shift KP* Alt Space Caps F1-F5
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5F, 0x60, 0x61, 0x56, 0x5C, 0x5D, 0x5E, 0x57, 0x59, // F6-F10 NumLock ScrollLock KP7 8 9 - 4 5 6 + 1
    0x5A, 0x5B, 0x62, 0x63, 0x00, 0x00, 0x64, 0x00, 0x00,                                           // KP2 3 0 . - - ISO-key F11 F12
};

// The keys after 0xE0: the cursor block, and the keypad's Enter and '/'.
u8 extended_usage(u8 key)
{
    switch (key) {
    case 0x48: return 0x52; // up
    case 0x50: return 0x51; // down
    case 0x4B: return 0x50; // left
    case 0x4D: return 0x4F; // right
    case 0x47: return 0x4A; // home
    case 0x4F: return 0x4D; // end
    case 0x53: return 0x4C; // delete
    case 0x1C: return 0x58; // keypad enter
    case 0x35: return 0x54; // keypad /
    default: return 0;      // 0xE0 0x2A and 0xE0 0x36 (Print Screen's fake shifts) among them
    }
}
}

void ScancodeSet1::press(u8 usage)
{
    KeyModifiers modifiers { m_left_shift || m_right_shift, m_left_control || m_right_control, m_alt_graph, m_caps_lock };
    int typed[KeyTyping::most_keys];
    size_t count = m_typing.type(usage, modifiers, typed);
    if (m_pending_next == m_pending_count)
        m_pending_next = m_pending_count = 0; // all read: the queue starts again
    if (m_pending_count + count > KeyTyping::most_keys)
        return; // keys come faster than they are read: this one is dropped, whole
    for (size_t i = 0; i < count; ++i)
        m_pending[m_pending_count++] = typed[i];
}

void ScancodeSet1::take(u8 code)
{
    if (m_pause_bytes) { // Pause sends 0xE1 0x1D 0x45 0xE1 0x9D 0xC5 and no release
        --m_pause_bytes;
        return;
    }
    if (code == extended_prefix) {
        m_extended = true;
        return;
    }
    if (code == pause_prefix) {
        m_pause_bytes = 2;
        return;
    }
    bool extended = m_extended;
    m_extended = false;
    bool pressed = !(code & release_bit);
    u8 key = code & u8(~release_bit);
    if (key == control) {
        (extended ? m_right_control : m_left_control) = pressed;
        return;
    }
    if (key == alt) { // the right one is AltGr; the left one types nothing here
        if (extended)
            m_alt_graph = pressed;
        return;
    }
    if (!extended && (key == left_shift || key == right_shift)) {
        (key == left_shift ? m_left_shift : m_right_shift) = pressed;
        return;
    }
    if (!pressed)
        return;
    if (!extended && key == caps_lock) {
        m_caps_lock = !m_caps_lock;
        return;
    }
    u8 usage = extended ? extended_usage(key) : key < sizeof usage_of ? usage_of[key] : 0;
    if (usage)
        press(usage);
}

int ScancodeSet1::next()
{
    if (m_pending_next == m_pending_count)
        return nothing;
    return m_pending[m_pending_next++];
}

}
