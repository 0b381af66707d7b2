#pragma once
// What a key types depends on the country the keyboard was made for: the same key is Y on
// a US keyboard, Z on a German one, and AZERTY puts A where QWERTY has Q. Keyboards say
// which key went down, by its place (a USB usage; a PS/2 scan code is turned into one),
// and the layout chosen with keymap= says what it types: a character (as UTF-8 bytes),
// Ctrl with a letter, or a key of rt/keys.h.
#include <rt/string_view.h>
#include <rt/types.h>

namespace rt {

struct KeyModifiers {
    bool shift { false };
    bool control { false };
    bool alt_graph { false }; // the right Alt
    bool caps_lock { false };
};

class KeyboardLayout {
public:
    // The characters of the keys from usage 0x04 (A on a US keyboard) to 0x38 (/), then
    // the extra key of ISO keyboards (0x64, beside the left shift): plain, with shift,
    // with AltGr (0: none).
    static constexpr u8 first_usage = 0x04, last_usage = 0x38, iso_usage = 0x64;
    static constexpr size_t key_count = last_usage - first_usage + 2;

    StringView name;
    char16_t const* plain;
    char16_t const* shifted;
    char16_t const* alt_graph;
    // Whether the accents ^ ´ ` ¨ ~ typed without AltGr are dead keys, waiting for the
    // letter they go on (most European keyboards; not the US, British and Italian ones).
    bool dead_accents;

    // What `usage` types with `modifiers`: a character, or a key of rt/keys.h (Ctrl with
    // a letter among them), or neither (both 0).
    struct Typed {
        char16_t character;
        int key;
        // As keys: the key, or the character's UTF-8 bytes; returns how many (up to 3).
        size_t write(int* out) const;
    };
    Typed type(u8 usage, KeyModifiers modifiers) const;

    // The layout named (one of keyboard_layout_names), or null.
    static KeyboardLayout const* find(StringView name);
    // The one the keyboards type with (us until set: the kernel sets keymap='s).
    static KeyboardLayout const& active();
    static void set_active(KeyboardLayout const&);
};

// One keyboard's keys typed through the active layout: a dead key's accent waits for the
// next key and goes on its letter (^ then e: ê), or is typed alone before a space or a
// key it does not go with.
class KeyTyping {
public:
    static constexpr size_t most_keys = 8;

    // The keys `usage` types with `modifiers` written to `out` (characters as their UTF-8
    // bytes); returns how many (0: none, or a dead key waiting).
    size_t type(u8 usage, KeyModifiers modifiers, int out[most_keys]);

private:
    char16_t m_accent { 0 }; // a dead key's, waiting
};

// The values keymap= takes.
constexpr StringView keyboard_layout_names[] = { "us", "uk", "de", "fr", "es", "it", "pt", "se", "fi", "no", "dk", "ch" };

}
