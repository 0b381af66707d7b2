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

constexpr char16_t es_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"'¡`+ççñ´º,.-" u"<";
constexpr char16_t es_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!\"·$%&/()=" u"\n\x1b\b\t " u"?¿^*ÇÇÑ¨ª;:_" u">";
constexpr char16_t es_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" u"|@#~\0¬\0\0\0\0" u"\0\0\0\0\0" u"\0\0[]}}\0{\\\0\0\0" u"\0";

constexpr char16_t it_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"'ìè+ùùòà\\,.-" u"<";
constexpr char16_t it_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!\"£$%&/()=" u"\n\x1b\b\t " u"?^é*§§ç°|;:_" u">";
constexpr char16_t it_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" u"\0\0\0\0\0\0\0\0\0\0" u"\0\0\0\0\0" u"\0\0[]\0\0@#\0\0\0\0" u"\0";

constexpr char16_t pt_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"'«+´~~çº\\,.-" u"<";
constexpr char16_t pt_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!\"#$%&/()=" u"\n\x1b\b\t " u"?»*`^^Çª|;:_" u">";
constexpr char16_t pt_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" u"\0@£§\0\0{[]}" u"\0\0\0\0\0" u"\0\0¨\0\0\0\0\0\0\0\0\0" u"\0";

constexpr char16_t se_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"+´å¨''öä§,.-" u"<";
constexpr char16_t se_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!\"#¤%&/()=" u"\n\x1b\b\t " u"?`Å^**ÖÄ½;:_" u">";
constexpr char16_t se_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0µ\0\0\0\0\0\0\0\0\0\0\0\0\0" u"\0@£$\0\0{[]}" u"\0\0\0\0\0" u"\\\0\0~\0\0\0\0\0\0\0\0" u"|";

constexpr char16_t nb_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"+\\å¨''øæ|,.-" u"<";
constexpr char16_t nb_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!\"#¤%&/()=" u"\n\x1b\b\t " u"?`Å^**ØÆ§;:_" u">";
constexpr char16_t nb_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0µ\0\0\0\0\0\0\0\0\0\0\0\0\0" u"\0@£$\0\0{[]}" u"\0\0\0\0\0" u"\0´\0~\0\0\0\0\0\0\0\0" u"\0";

constexpr char16_t dk_plain[] = u"abcdefghijklmnopqrstuvwxyz" u"1234567890" u"\n\x1b\b\t " u"+´å¨''æø½,.-" u"<";
constexpr char16_t dk_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ" u"!\"#¤%&/()=" u"\n\x1b\b\t " u"?`Å^**ÆØ§;:_" u">";
constexpr char16_t dk_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0µ\0\0\0\0\0\0\0\0\0\0\0\0\0" u"\0@£$\0\0{[]}" u"\0\0\0\0\0" u"\0|\0~\0\0\0\0\0\0\0\0" u"\\";

constexpr char16_t ch_plain[] = u"abcdefghijklmnopqrstuvwxzy" u"1234567890" u"\n\x1b\b\t " u"'^ü¨$$öä§,.-" u"<";
constexpr char16_t ch_shifted[] = u"ABCDEFGHIJKLMNOPQRSTUVWXZY" u"+\"*ç%&/()=" u"\n\x1b\b\t " u"?`è!££éà°;:_" u">";
constexpr char16_t ch_alt_graph[] = u"\0\0\0\0€\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" u"¦@#\0\0¬|¢\0\0" u"\0\0\0\0\0" u"´~[]}}\0{\0\0\0\0" u"\\";

template<size_t N>
constexpr bool whole(char16_t const (&)[N]) { return N == KeyboardLayout::key_count + 1; }
static_assert(whole(no_alt_graph) && whole(us_plain) && whole(us_shifted) && whole(uk_plain) && whole(uk_shifted) && whole(uk_alt_graph)
    && whole(de_plain) && whole(de_shifted) && whole(de_alt_graph) && whole(fr_plain) && whole(fr_shifted) && whole(fr_alt_graph)
    && whole(es_plain) && whole(es_shifted) && whole(es_alt_graph) && whole(it_plain) && whole(it_shifted) && whole(it_alt_graph)
    && whole(pt_plain) && whole(pt_shifted) && whole(pt_alt_graph) && whole(se_plain) && whole(se_shifted) && whole(se_alt_graph)
    && whole(nb_plain) && whole(nb_shifted) && whole(nb_alt_graph) && whole(dk_plain) && whole(dk_shifted) && whole(dk_alt_graph)
    && whole(ch_plain) && whole(ch_shifted) && whole(ch_alt_graph));

constexpr KeyboardLayout layouts[] = {
    { "us", us_plain, us_shifted, no_alt_graph, false },
    { "uk", uk_plain, uk_shifted, uk_alt_graph, false },
    { "de", de_plain, de_shifted, de_alt_graph, true },
    { "fr", fr_plain, fr_shifted, fr_alt_graph, true },
    { "es", es_plain, es_shifted, es_alt_graph, true },
    { "it", it_plain, it_shifted, it_alt_graph, false },
    { "pt", pt_plain, pt_shifted, pt_alt_graph, true },
    { "se", se_plain, se_shifted, se_alt_graph, true },
    { "fi", se_plain, se_shifted, se_alt_graph, true }, // Finland's keyboards are Sweden's
    { "no", nb_plain, nb_shifted, nb_alt_graph, true }, // Norwegian (bokmål's code nb names the tables)
    { "dk", dk_plain, dk_shifted, dk_alt_graph, true },
    { "ch", ch_plain, ch_shifted, ch_alt_graph, true },
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

KeyboardLayout::Typed KeyboardLayout::type(u8 usage, KeyModifiers modifiers) const
{
    if (int key = navigation_key(usage))
        return { 0, key };
    if (usage >= 0x54 && usage <= 0x63)
        return { char16_t(keypad[usage - 0x54]), 0 };
    size_t at;
    if (usage >= first_usage && usage <= last_usage)
        at = usage - first_usage;
    else if (usage == iso_usage)
        at = key_count - 1;
    else
        return { 0, 0 };
    if (modifiers.control && plain[at] >= u'a' && plain[at] <= u'z')
        return { 0, key::control(char(plain[at])) };
    if (modifiers.alt_graph && alt_graph[at])
        return { alt_graph[at], 0 };
    bool shift = modifiers.shift;
    if (modifiers.caps_lock && has_capital(plain[at], shifted[at]))
        shift = !shift;
    return { shift ? shifted[at] : plain[at], 0 };
}

namespace {
// The accents dead keys type, and the letters each goes on: "ae..." with "âê..." (the
// small letters; the capitals are 0x20 before them, but for ÿ, whose Ÿ is elsewhere).
struct AccentedLetters {
    char16_t accent;
    char16_t const* letters;
    char16_t const* accented;
};
constexpr AccentedLetters accented_letters[] = {
    { u'^', u"aeiou", u"âêîôû" },
    { u'´', u"aeiouy", u"áéíóúý" },
    { u'`', u"aeiou", u"àèìòù" },
    { u'¨', u"aeiouy", u"äëïöüÿ" },
    { u'~', u"ano", u"ãñõ" },
};

// The accent on `letter`, or 0 where it does not go on it.
char16_t compose(char16_t accent, char16_t letter)
{
    for (auto const& entry : accented_letters) {
        if (entry.accent != accent)
            continue;
        for (size_t i = 0; entry.letters[i]; ++i) {
            if (letter == entry.letters[i])
                return entry.accented[i];
            if (letter == entry.letters[i] - 0x20 && entry.accented[i] != u'ÿ')
                return char16_t(entry.accented[i] - 0x20);
        }
    }
    return 0;
}

bool is_dead_accent(char16_t character)
{
    for (auto const& entry : accented_letters)
        if (entry.accent == character)
            return true;
    return false;
}

size_t put_character(char16_t character, int* out) { return KeyboardLayout::Typed { character, 0 }.write(out); }
}

size_t KeyboardLayout::Typed::write(int* out) const
{
    if (key) {
        out[0] = key;
        return 1;
    }
    if (!character)
        return 0;
    char bytes[4];
    size_t count = encode_utf8(character, bytes);
    for (size_t i = 0; i < count; ++i)
        out[i] = u8(bytes[i]);
    return count;
}

size_t KeyTyping::type(u8 usage, KeyModifiers modifiers, int out[most_keys])
{
    KeyboardLayout const& layout = KeyboardLayout::active();
    auto typed = layout.type(usage, modifiers);
    if (!typed.character && !typed.key)
        return 0; // a key that types nothing leaves a waiting accent waiting
    size_t count = 0;
    if (typed.character && layout.dead_accents && !modifiers.alt_graph && is_dead_accent(typed.character)) {
        if (m_accent) // two dead keys: the first typed alone
            count = put_character(m_accent, out);
        m_accent = typed.character;
        return count;
    }
    if (m_accent) {
        char16_t accent = m_accent;
        m_accent = 0;
        if (char16_t composed = typed.character ? compose(accent, typed.character) : 0)
            return put_character(composed, out);
        count = put_character(accent, out);
        if (typed.character == u' ')
            return count; // a space after a dead key types the accent alone
    }
    return count + typed.write(out + count);
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
