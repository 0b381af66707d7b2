#pragma once
// A USB keyboard's boot-protocol reports (HID 1.11, appendix B: a modifier byte, a reserved
// byte, up to six keys held) turned into the characters the PS/2 keyboard gives: US
// layout, shift and caps lock, enter as '\n', backspace as '\b'. A report says which keys
// are down; a key counts when it first appears.
#include <rt/types.h>

namespace rt {

class BootKeyboardReports {
public:
    static constexpr size_t report_size = 8;

    // Takes one report (shorter ones are ignored); its new keys become characters.
    void take(u8 const* report, size_t size);
    // The next character typed, or -1.
    int next();

private:
    void push(char);

    u8 m_held[6] {};
    bool m_caps_lock { false };
    char m_pending[16] {};
    u32 m_head { 0 }, m_count { 0 };
};

}
