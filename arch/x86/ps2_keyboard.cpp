#include <arch/x86/io.h>
#include <arch/x86/ps2_keyboard.h>

namespace x86 {

namespace {
constexpr u16 data_port = 0x60, status_port = 0x64;
constexpr u8 output_full = 0x01, from_mouse = 0x20;
constexpr u8 release_bit = 0x80;
constexpr u8 left_shift = 0x2A, right_shift = 0x36, caps_lock = 0x3A;

// Set 1 make codes 0x00..0x39 to characters, without and with shift.
constexpr char plain[] = "\0\x1b" "1234567890-=\b\tqwertyuiop[]\n\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
constexpr char shifted[] = "\0\x1b" "!@#$%^&*()_+\b\tQWERTYUIOP{}\n\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";
static_assert(sizeof plain == 0x3A + 1 && sizeof shifted == 0x3A + 1);
}

int Ps2Keyboard::poll()
{
    u8 status = in8(status_port);
    if (!(status & output_full))
        return nothing_waiting;
    u8 code = in8(data_port);
    if (status & from_mouse)
        return nothing_waiting;
    bool released = code & release_bit;
    u8 key = code & u8(~release_bit);
    if (key == left_shift || key == right_shift) {
        m_shift = !released;
        return nothing_waiting;
    }
    if (released || code == 0xE0) // key-up events and extended-key prefixes
        return nothing_waiting;
    if (key == caps_lock) {
        m_caps_lock = !m_caps_lock;
        return nothing_waiting;
    }
    if (key >= sizeof plain - 1)
        return nothing_waiting;
    char c = m_shift ? shifted[key] : plain[key];
    if (m_caps_lock && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        c = char(c ^ 0x20);
    return c ? u8(c) : nothing_waiting;
}

}
