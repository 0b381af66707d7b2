#include <rt/hid_keyboard.h>
#include <rt/keyboard_layout.h>

namespace rt {

namespace {
// Usage IDs of the keyboard page (HID Usage Tables, chapter 10).
constexpr u8 caps_lock = 0x39, roll_over_error = 0x01;
// Bits of the modifier byte.
constexpr u8 left_control = 0x01, left_shift = 0x02, right_control = 0x10, right_shift = 0x20, right_alt = 0x40;
}

void BootKeyboardReports::take(u8 const* report, size_t size, u64 now_ms)
{
    if (size < report_size)
        return;
    u8 const* keys = report + 2;
    if (keys[0] == roll_over_error) // too many keys at once: the report says nothing of which
        return;
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
            continue;
        }
        u8 modifiers = report[0];
        KeyModifiers held { (modifiers & (left_shift | right_shift)) != 0, (modifiers & (left_control | right_control)) != 0,
            (modifiers & right_alt) != 0, m_caps_lock };
        int typed[KeyTyping::most_keys];
        size_t count = m_typing.type(usage, held, typed);
        if (count == 0)
            continue; // a key that types nothing, or a dead key: nothing repeats
        push(typed, count);
        m_repeat_usage = usage;
        m_repeat_modifiers = held;
        m_next_repeat_ms = now_ms + repeat_delay_ms;
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
        // The key itself again, without the accent a dead key may have put before it.
        int typed[KeyTyping::most_keys];
        push(typed, KeyboardLayout::active().type(m_repeat_usage, m_repeat_modifiers).write(typed));
    }
    if (m_count == 0)
        return -1;
    int key = m_pending[m_head];
    m_head = (m_head + 1) % pending_capacity;
    --m_count;
    return key;
}

void BootKeyboardReports::push(int const* keys, size_t count)
{
    if (m_count + count > pending_capacity) // typed faster than read: the newest are dropped, whole
        return;
    for (size_t i = 0; i < count; ++i)
        m_pending[(m_head + m_count++) % pending_capacity] = u16(keys[i]);
}

}
