#include <rt/hid_keyboard.h>

namespace rt {

namespace {
// Usage IDs of the keyboard page (HID Usage Tables, chapter 10).
constexpr u8 first_letter = 0x04, last_letter = 0x1D, caps_lock = 0x39, roll_over_error = 0x01;
constexpr u8 left_shift = 0x02, right_shift = 0x20; // bits of the modifier byte

// Usages 0x1E (1) to 0x38 (/) without and with shift; 0x32 (non-US #) as '\'.
constexpr char plain[] = "1234567890\n\x1b\b\t -=[]\\\\;'`,./";
constexpr char shifted[] = "!@#$%^&*()\n\x1b\b\t _+{}||:\"~<>?";
static_assert(sizeof plain == 0x38 - 0x1E + 2 && sizeof shifted == sizeof plain);

// The keypad's characters, usages 0x54 (/) to 0x63 (.), as num lock on gives them.
constexpr char keypad[] = "/*-+\n1234567890.";
static_assert(sizeof keypad == 0x63 - 0x54 + 2);

char character(u8 usage, bool shift, bool caps_lock)
{
    if (usage >= first_letter && usage <= last_letter) {
        char letter = char('a' + (usage - first_letter));
        return shift != caps_lock ? char(letter - 'a' + 'A') : letter;
    }
    if (usage >= 0x1E && usage <= 0x38)
        return (shift ? shifted : plain)[usage - 0x1E];
    if (usage >= 0x54 && usage <= 0x63)
        return keypad[usage - 0x54];
    return 0;
}
}

void BootKeyboardReports::take(u8 const* report, size_t size, u64 now_ms)
{
    if (size < report_size)
        return;
    u8 const* keys = report + 2;
    if (keys[0] == roll_over_error) // too many keys at once: the report says nothing of which
        return;
    bool shift = report[0] & (left_shift | right_shift);
    for (size_t i = 0; i < 6; ++i) {
        u8 usage = keys[i];
        if (usage == 0)
            continue;
        bool was_held = false;
        for (u8 held : m_held)
            was_held = was_held || held == usage;
        if (was_held)
            continue;
        if (usage == caps_lock) {
            m_caps_lock = !m_caps_lock;
        } else if (char c = character(usage, shift, m_caps_lock)) {
            push(c);
            m_repeat_usage = usage;
            m_repeat_character = c;
            m_next_repeat_ms = now_ms + repeat_delay_ms;
        }
    }
    bool repeat_held = false;
    for (size_t i = 0; i < 6; ++i) {
        m_held[i] = keys[i];
        repeat_held = repeat_held || keys[i] == m_repeat_usage;
    }
    if (!repeat_held)
        m_repeat_usage = 0;
}

void BootKeyboardReports::release_all()
{
    for (u8& held : m_held)
        held = 0;
    m_repeat_usage = 0;
}

int BootKeyboardReports::next(u64 now_ms)
{
    if (m_count == 0 && m_repeat_usage && now_ms >= m_next_repeat_ms) {
        // From now, not from when it was due: a reader that looked away gets one, not a burst.
        m_next_repeat_ms = now_ms + repeat_interval_ms;
        return u8(m_repeat_character);
    }
    if (m_count == 0)
        return -1;
    char c = m_pending[m_head];
    m_head = (m_head + 1) % sizeof m_pending;
    --m_count;
    return u8(c);
}

void BootKeyboardReports::push(char c)
{
    if (m_count == sizeof m_pending) // typed faster than read: the newest are dropped
        return;
    m_pending[(m_head + m_count) % sizeof m_pending] = c;
    ++m_count;
}

}
