#include <rt/keyboard_layout.h>
#include <rt/keys.h>
#include <rt/utf8.h>

namespace rt {

namespace {
// Each string holds the keys from usage 0x04 to 0x38 in order (letters, digits, then
// Enter, Escape, Backspace, Tab and Space as themselves, then the punctuation keys), and
// the ISO key last. Usages 0x31 (US backslash) and 0x32 (the ISO key beside Enter) share
// their character on ISO layouts: a PS/2 keyboard reports both as the same scan code.
constexpr char16_t no_alt_graph[] = u"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                    u"\0\0\0\0\0\0\0\0\0\0" u"\0\0\0\0\0" u"\0\0\0\0\0\0\0\0\0\0\0\0" u"\0";

constexpr char16_t us_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"-=[]\\\\;'`,./" u"\\";
constexpr char16_t us_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!@#$%^&*()" u"\n\x1b\b\t " u"_+{}||:\"~<>?" u"|";

constexpr char16_t uk_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"-=[]##;'`,./" u"\\";
constexpr char16_t uk_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!\"£$%^&*()" u"\n\x1b\b\t " u"_+{}~~:@¬<>?" u"|";
constexpr char16_t uk_alt_graph[] = u"\0\0\0\0é\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                    u"\0\0\0€\0\0\0\0\0\0" u"\0\0\0\0\0" u"\0\0\0\0\0\0\0\0¦\0\0\0" u"\0";

constexpr char16_t de_plain[] = u"abcdefghijklmnopqrstuvwxzy" u"1234567890" u"\n\x1b\b\t " u"ß´ü+##öä^,.-" u"<";
constexpr char16_t de_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXZY" u"!\"§$%&/()=" u"\n\x1b\b\t " u"?`Ü*''ÖÄ°;:_" u">";
constexpr char16_t de_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0µ\0\0\0@\0\0\0\0\0\0\0\0\0"
                                    u"\0²³\0\0\0{[]}" u"\0\0\0\0\0" u"\\\0\0~\0\0\0\0\0\0\0\0" u"|";

constexpr char16_t fr_plain[] = u"qbcdefghijkl,noparstuvzxyw" u"&é\"'(-è_çà" u"\n\x1b\b\t " u")=^$**mù²;:!" u"<";
constexpr char16_t fr_shifted[] = u"QBCDEFGHIJKL?NOPARSTUVZXYW" u"1234567890" u"\n\x1b\b\t " u"°+¨£µµM%\0./§" u">";
constexpr char16_t fr_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                    u"\0~#{[|`\\^@" u"\0\0\0\0\0" u"]}\0¤\0\0\0\0\0\0\0\0" u"\0";

template<size_t N>
constexpr bool whole(char16_t const (&)[N]) { return N == KeyboardLayout::key_count + 1; }
static_assert(whole(no_alt_graph) && whole(us_plain) && whole(us_shifted) && whole(uk_plain) && whole(uk_shifted) && whole(uk_alt_graph)
    && whole(de_plain) && whole(de_shifted) && whole(de_alt_graph) && whole(fr_plain) && whole(fr_shifted) && whole(fr_alt_graph));

constexpr KeyboardLayout layouts[] = {
    { "us", us_plain, us_shifted, no_alt_graph },
    { "uk", uk_plain, uk_shifted, uk_alt_graph },
    { "de", de_plain, de_shifted, de_alt_graph },
    { "fr", fr_plain, fr_shifted, fr_alt_graph },
};
static_assert(sizeof layouts / sizeof layouts[0] == sizeof keyboard_layout_names / sizeof keyboard_layout_names[0]);

KeyboardLayout const* active_layout = &layouts[0];

// The keys of the cursor block, which type nothing, whatever the layout.
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

// The keypad's characters, usages 0x54 (/) to 0x63 (.), as num lock on gives them.
constexpr char keypad[] = "/*-+\n1234567890.";
static_assert(sizeof keypad == 0x63 - 0x54 + 2);

// A letter whose capital is the shifted character (a-z, and Latin-1's à-þ: 0x20 apart in
// both): what caps lock shifts.
bool has_capital(char16_t plain, char16_t shifted)
{
    bool ascii = plain >= u'a' && plain <= u'z';
    bool latin1 = plain >= 0xE0 && plain <= 0xFE && plain != 0xF7;
    return (ascii || latin1) && shifted == plain - 0x20;
}
}

size_t KeyboardLayout::type(u8 usage, KeyModifiers modifiers, int out[4]) const
{
    if (int key = navigation_key(usage)) {
        out[0] = key;
        return 1;
    }
    if (usage >= 0x54 && usage <= 0x63) {
        out[0] = keypad[usage - 0x54];
        return 1;
    }
    size_t at;
    if (usage >= first_usage && usage <= last_usage)
        at = usage - first_usage;
    else if (usage == iso_usage)
        at = key_count - 1;
    else
        return 0;
    char16_t character = plain[at];
    if (modifiers.control && character >= u'a' && character <= u'z') {
        out[0] = key::control(char(character));
        return 1;
    }
    if (modifiers.alt_graph) {
        character = alt_graph[at] ? alt_graph[at] : character;
    } else {
        bool shift = modifiers.shift;
        if (modifiers.caps_lock && has_capital(plain[at], shifted[at]))
            shift = !shift;
        character = shift ? shifted[at] : plain[at];
    }
    if (!character)
        return 0;
    char bytes[4];
    size_t count = encode_utf8(character, bytes);
    for (size_t i = 0; i < count; ++i)
        out[i] = u8(bytes[i]);
    return count;
}

KeyboardLayout const* KeyboardLayout::find(StringView name)
{
    for (auto const& layout : layouts)
        if (layout.name == name)
            return &layout;
    return nullptr;
}

KeyboardLayout const& KeyboardLayout::active() { return *active_layout; }

void KeyboardLayout::set_active(KeyboardLayout const& layout) { active_layout = &layout; }

}
