#include <rt/hid_keyboard.h>
#include <rt/keys.h>

namespace rt {

namespace {
// Usage IDs of the keyboard page (HID Usage Tables, chapter 10).
constexpr u8 first_letter = 0x04, last_letter = 0x1D, caps_lock = 0x39, roll_over_error = 0x01;
// Bits of the modifier byte.
constexpr u8 left_control = 0x01, left_shift = 0x02, right_control = 0x10, right_shift = 0x20;

// Usages 0x1E (1) to 0x38 (/) without and with shift; 0x32 (non-US #) as '\'.
constexpr char plain[] = "1234567890\n\x1b\b\t -=[]\\\\;'`,./";
constexpr char shifted[] = "!@#$%^&*()\n\x1b\b\t _+{}||:\"~<>?";
static_assert(sizeof plain == 0x38 - 0x1E + 2 && sizeof shifted == sizeof plain);

// The keypad's characters, usages 0x54 (/) to 0x63 (.), as num lock on gives them.
constexpr char keypad[] = "/*-+\n1234567890.";
static_assert(sizeof keypad == 0x63 - 0x54 + 2);

// The keys of the cursor block that type nothing.
int navigation_key(u8 usage)
{
    switch (usage) {
    case 0x4A: return key::home;
    case 0x4C: return key::forward_delete;
    case 0x4D: return key::end;
    case 0x4F: return key::right;
    case 0x50: return key::left;
    case 0x51: return key::down;
    case 0x52: return key::up;
    default: return 0;
    }
}

// The key a usage gives (rt/keys.h), 0 for none.
int key_of(u8 usage, u8 modifiers, bool caps_lock)
{
    bool shift = modifiers & (left_shift | right_shift);
    if (usage >= first_letter && usage <= last_letter) {
        char letter = char('a' + (usage - first_letter));
        if (modifiers & (left_control | right_control))
            return key::control(letter);
        return shift != caps_lock ? char(letter - 'a' + 'A') : letter;
    }
    if (int key = navigation_key(usage))
        return key;
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
        } else if (int key = key_of(usage, report[0], m_caps_lock)) {
            push(key);
            m_repeat_usage = usage;
            m_repeat_key = key;
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
        return m_repeat_key;
    }
    if (m_count == 0)
        return -1;
    int key = m_pending[m_head];
    m_head = (m_head + 1) % pending_capacity;
    --m_count;
    return key;
}

void BootKeyboardReports::push(int key)
{
    if (m_count == pending_capacity) // typed faster than read: the newest are dropped
        return;
    m_pending[(m_head + m_count) % pending_capacity] = u16(key);
    ++m_count;
}

}
