// Keys from a terminal's bytes (rt::TerminalKeys) and from a PS/2 keyboard's scan codes
// (rt::ScancodeSet1): the same codes for the same keys.
#include <gtest/gtest.h>
#include <rt/hid_keyboard.h>
#include <rt/keyboard_layout.h>
#include <rt/keys.h>
#include <rt/scancode_set1.h>
#include <rt/terminal_keys.h>
#include <string>
#include <vector>

namespace {

std::vector<int> terminal_keys(std::string const& bytes)
{
    rt::TerminalKeys decoder;
    std::vector<int> keys;
    for (char byte : bytes)
        if (int key = decoder.take(u8(byte)); key != rt::TerminalKeys::nothing)
            keys.push_back(key);
    return keys;
}

std::vector<int> scancode_keys(std::vector<u8> const& codes)
{
    rt::ScancodeSet1 decoder;
    std::vector<int> keys;
    for (u8 code : codes) {
        decoder.take(code);
        for (int key = decoder.next(); key != rt::ScancodeSet1::nothing; key = decoder.next())
            keys.push_back(key);
    }
    return keys;
}

std::vector<int> text(std::string const& characters) { return { characters.begin(), characters.end() }; }

using namespace rt::key;

TEST(TerminalKeys, CharactersPassThrough)
{
    EXPECT_EQ(terminal_keys("Once upon a time"), text("Once upon a time"));
    EXPECT_EQ(terminal_keys("caf\xc3\xa9"), (std::vector<int> { 'c', 'a', 'f', 0xC3, 0xA9 })); // UTF-8's bytes
    EXPECT_EQ(terminal_keys("a\x03"), (std::vector<int> { 'a', interrupt }));
}

TEST(TerminalKeys, CursorKeysInBothForms)
{
    EXPECT_EQ(terminal_keys("\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F"), (std::vector<int> { up, down, right, left, home, end }));
    EXPECT_EQ(terminal_keys("\x1bOA\x1bOD\x1bOH\x1bOF"), (std::vector<int> { up, left, home, end })); // keypad application mode
    EXPECT_EQ(terminal_keys("\x1b[1~\x1b[7~\x1b[4~\x1b[8~\x1b[3~"), (std::vector<int> { home, home, end, end, forward_delete }));
    EXPECT_EQ(terminal_keys("\x1b[1;5C\x1b[1;2D"), (std::vector<int> { right, left })); // with Ctrl, with Shift
}

TEST(TerminalKeys, OtherSequencesAreDroppedWhole)
{
    // Insert, Page Up, F5, F1 (SS3 P): nothing of them is typed.
    EXPECT_EQ(terminal_keys("a\x1b[2~\x1b[5~\x1b[15~\x1bOPb"), text("ab"));
    // Escape then a character (Alt+x): the character.
    EXPECT_EQ(terminal_keys("\x1bx"), text("x"));
    // A sequence cut by a control character: the character counts.
    EXPECT_EQ(terminal_keys("\x1b[1\ra"), (std::vector<int> { enter, 'a' }));
}

TEST(TerminalKeys, LineEndsAndBackspace)
{
    EXPECT_EQ(terminal_keys("a\rb\nc\r\nd\n\ne\r\r"), (std::vector<int> { 'a', enter, 'b', enter, 'c', enter, 'd', enter, enter, 'e', enter, enter }));
    EXPECT_EQ(terminal_keys("ab\x7f\b"), (std::vector<int> { 'a', 'b', backspace, backspace }));
}

constexpr u8 release = 0x80;

TEST(ScancodeSet1, LettersShiftAndCapsLock)
{
    // h i, Shift+h, caps lock, h, Shift+1 (!), Enter.
    EXPECT_EQ(scancode_keys({ 0x23, 0x23 | release, 0x17, 0x2A, 0x23, 0x2A | release, 0x3A, 0x3A | release, 0x23, 0x36, 0x02, 0x36 | release, 0x1C }),
        text("hiHH!\n"));
    // Both shifts held, one let go: still shifted.
    EXPECT_EQ(scancode_keys({ 0x2A, 0x36, 0x2A | release, 0x23 }), text("H"));
}

TEST(ScancodeSet1, ControlLettersAndTheCursorBlock)
{
    // Left Ctrl + c, right Ctrl (E0 1D) + a, released: then a plain a.
    EXPECT_EQ(scancode_keys({ 0x1D, 0x2E, 0x1D | release, 0xE0, 0x1D, 0x1E, 0xE0, 0x1D | release, 0x1E }),
        (std::vector<int> { interrupt, control('a'), 'a' }));
    EXPECT_EQ(scancode_keys({ 0xE0, 0x48, 0xE0, 0xC8, 0xE0, 0x50, 0xE0, 0x4B, 0xE0, 0x4D, 0xE0, 0x47, 0xE0, 0x4F, 0xE0, 0x53 }),
        (std::vector<int> { up, down, left, right, home, end, forward_delete }));
    // The keypad: Enter and '/' after E0; its digits without (num lock on), 7 and '.'.
    EXPECT_EQ(scancode_keys({ 0xE0, 0x1C, 0xE0, 0x35, 0x47, 0x53, 0x4F, 0x37 }), text("\n/7.1*")); // keypad 7 . 1 *
}

TEST(ScancodeSet1, TheLedsFollowCapsLockAndTheKeyboardsAnswersTypeNothing)
{
    rt::ScancodeSet1 keyboard;
    EXPECT_EQ(keyboard.leds(), rt::ScancodeSet1::num_lock_led);
    keyboard.take(0x3A);
    keyboard.take(0xBA);
    EXPECT_EQ(keyboard.leds(), rt::ScancodeSet1::num_lock_led | rt::ScancodeSet1::caps_lock_led);
    // The keyboard's acknowledgements of the LED command (0xFA) and a resend request (0xFE)
    // between the keys: only the keys type.
    for (u8 code : { 0xFA, 0xFA, 0x23, 0xA3, 0xFE, 0x17 })
        keyboard.take(code);
    std::string typed;
    for (int key = keyboard.next(); key != rt::ScancodeSet1::nothing; key = keyboard.next())
        typed += char(key);
    EXPECT_EQ(typed, "HI");
    keyboard.take(0x3A);
    EXPECT_EQ(keyboard.leds(), rt::ScancodeSet1::num_lock_led);
}

TEST(ScancodeSet1, PrefixedCodesAreNotTheirPlainKeys)
{
    // Print Screen's fake shift (E0 2A) must not shift; Pause (E1 1D 45 E1 9D C5) must not
    // leave Ctrl held or type anything.
    EXPECT_EQ(scancode_keys({ 0xE0, 0x2A, 0xE0, 0x37, 0x23 }), text("h"));
    EXPECT_EQ(scancode_keys({ 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5, 0x2E }), text("c"));
    // Keys that type nothing: F1, Escape gives Escape, Insert (E0 52), releases.
    EXPECT_EQ(scancode_keys({ 0x3B, 0x01, 0xE0, 0x52, 0x9E }), (std::vector<int> { escape }));
}

}

namespace {

// The keyboards type with the active layout: set for one test, the US one back after.
class ScopedLayout {
public:
    explicit ScopedLayout(char const* name) { rt::KeyboardLayout::set_active(*rt::KeyboardLayout::find(name)); }
    ~ScopedLayout() { rt::KeyboardLayout::set_active(*rt::KeyboardLayout::find("us")); }
};

// What the keys at these set-1 places type, as UTF-8 text.
std::string typed_text(std::vector<u8> const& codes)
{
    std::string text;
    for (int key : scancode_keys(codes))
        text += char(key);
    return text;
}

constexpr u8 shift = 0x2A, shift_up = 0xAA, caps = 0x3A;
constexpr u8 alt_graph[] = { 0xE0, 0x38 }, alt_graph_up[] = { 0xE0, 0xB8 };

TEST(KeyboardLayout, EveryNameIsALayout)
{
    for (auto name : rt::keyboard_layout_names)
        ASSERT_NE(rt::KeyboardLayout::find(name), nullptr) << std::string(name.data(), name.length());
    EXPECT_EQ(rt::KeyboardLayout::find("dvorak"), nullptr);
    EXPECT_EQ(rt::KeyboardLayout::active().name, rt::StringView("us"));
}

TEST(KeyboardLayout, GermanKeys)
{
    ScopedLayout german("de");
    // The US keys y z ; [ ' - (set 1: 15 2C 27 1A 28 0C): z y ö ü ä ß.
    EXPECT_EQ(typed_text({ 0x15, 0x2C, 0x27, 0x1A, 0x28, 0x0C }), "zy\xc3\xb6\xc3\xbc\xc3\xa4\xc3\x9f");
    // Shift+2 and Shift+3: " and §; caps lock makes ö Ö; AltGr+q and AltGr+e: @ and €; the ISO key <.
    EXPECT_EQ(typed_text({ shift, 0x03, 0x04, shift_up, caps, 0x27, caps, alt_graph[0], alt_graph[1], 0x10, 0x12, alt_graph_up[0], alt_graph_up[1], 0x56 }),
        "\"\xc2\xa7\xc3\x96@\xe2\x82\xac<");
    // Ctrl with the key that types z here: Ctrl+Z.
    EXPECT_EQ(scancode_keys({ 0x1D, 0x15 }), std::vector<int> { rt::key::control('z') });
}

TEST(KeyboardLayout, FrenchKeysTypeOnceUponATime)
{
    ScopedLayout french("fr");
    // On AZERTY, "Once upon a time" is typed on the US keys "Once upon q ti;e".
    std::vector<u8> codes = { shift, 0x18, shift_up, 0x31, 0x2E, 0x12, 0x39, 0x16, 0x19, 0x18, 0x31, 0x39, 0x10, 0x39, 0x14, 0x17, 0x27, 0x12 };
    EXPECT_EQ(typed_text(codes), "Once upon a time");
    // The digit row types é and è without shift, digits with; AltGr+0 is @.
    EXPECT_EQ(typed_text({ 0x03, 0x08, shift, 0x03, shift_up, alt_graph[0], alt_graph[1], 0x0B }), "\xc3\xa9\xc3\xa8" "2@");
}

TEST(KeyboardLayout, DeadKeysWaitForTheirLetter)
{
    {
        ScopedLayout french("fr");
        // ^ (US '[' key, 1A) then e: ê; Shift+^ (¨) then i: ï; ^ then Shift+a (US q key): Â.
        EXPECT_EQ(typed_text({ 0x1A, 0x12, shift, 0x1A, shift_up, 0x17, 0x1A, shift, 0x10, shift_up }), "\xc3\xaa\xc3\xaf\xc3\x82");
        // ^ then space: ^ alone; ^ then t (no ^ on t): ^t; ^ twice then o: ^ô.
        EXPECT_EQ(typed_text({ 0x1A, 0x39, 0x1A, 0x14, 0x1A, 0x1A, 0x18 }), "^^t^\xc3\xb4");
        // AltGr+9 types ^ at once (not a dead key); a waiting accent goes before Enter.
        EXPECT_EQ(typed_text({ alt_graph[0], alt_graph[1], 0x0A, alt_graph_up[0], alt_graph_up[1], 0x1A, 0x1C }), "^^\n");
    }
    ScopedLayout german("de");
    // ´ (US '=' key, 0D) then e: é; Shift+´ (`) then a: à; ^ (US '`' key, 29) then u: û.
    EXPECT_EQ(typed_text({ 0x0D, 0x12, shift, 0x0D, shift_up, 0x1E, 0x29, 0x16 }), "\xc3\xa9\xc3\xa0\xc3\xbb");
    // US and UK have no dead keys.
    ScopedLayout british("uk");
    EXPECT_EQ(typed_text({ 0x29, 0x12 }), "`e");
}

// Set-1 codes of the keys right of the digits (US - =), right of P (US [ ]), right of L
// (US ; '), the key left of 1 (US `), the ISO key beside Enter and the one beside left shift.
constexpr u8 minus = 0x0C, equals = 0x0D, left_bracket = 0x1A, right_bracket = 0x1B, semicolon = 0x27, apostrophe = 0x28,
             grave = 0x29, iso_hash = 0x2B, iso_angle = 0x56;

TEST(KeyboardLayout, SouthernEuropeanKeys)
{
    {
        ScopedLayout spanish("es");
        // ñ ç ' ¡ º, Shift: ¿ Ñ ª, AltGr+2 and AltGr+e: @ €; the dead acute on a and dieresis on u.
        EXPECT_EQ(typed_text({ semicolon, iso_hash, minus, equals, grave, shift, equals, semicolon, grave, shift_up, alt_graph[0], alt_graph[1], 0x03, 0x12,
                      alt_graph_up[0], alt_graph_up[1], apostrophe, 0x1E, shift, apostrophe, shift_up, 0x16 }),
            "ñç'¡º¿Ñª@€áü");
    }
    {
        ScopedLayout italian("it");
        // è ì ò à ù; Shift: é ç °; Shift+^ key types ^ at once (Italian keyboards have no dead keys).
        EXPECT_EQ(typed_text({ left_bracket, equals, semicolon, apostrophe, iso_hash, shift, left_bracket, semicolon, apostrophe, equals, shift_up, 0x12 }),
            "èìòàùéç°^e");
    }
    ScopedLayout portuguese("pt");
    // ç º «; the dead tilde (ISO key beside Enter) on a and n, Shift+it (^) on o; AltGr+2: @.
    EXPECT_EQ(typed_text({ semicolon, apostrophe, equals, iso_hash, 0x1E, iso_hash, 0x31, shift, iso_hash, shift_up, 0x18, alt_graph[0], alt_graph[1], 0x03,
                  alt_graph_up[0], alt_graph_up[1] }),
        "çº«ãñô@");
}

TEST(KeyboardLayout, NordicAndSwissKeys)
{
    for (char const* name : { "se", "fi" }) {
        ScopedLayout swedish(name);
        // å ö ä, caps lock Å; the dead ¨ on o, Shift+´ (`) on e; AltGr+2 @, AltGr+7 {, ISO |.
        EXPECT_EQ(typed_text({ left_bracket, semicolon, apostrophe, caps, left_bracket, caps, right_bracket, 0x18, shift, equals, shift_up, 0x12,
                      alt_graph[0], alt_graph[1], 0x03, 0x08, iso_angle, alt_graph_up[0], alt_graph_up[1] }),
            "åöäÅöè@{|");
    }
    {
        ScopedLayout norwegian("no");
        EXPECT_EQ(typed_text({ left_bracket, semicolon, apostrophe, equals, grave }), "åøæ\\|"); // å ø æ, backslash, |
    }
    {
        ScopedLayout danish("dk");
        EXPECT_EQ(typed_text({ left_bracket, semicolon, apostrophe, grave, equals, 0x12 }), "åæø½é"); // ´ dead, then e
    }
    ScopedLayout swiss("ch");
    // QWERTZ; ü ö ä $, Shift: è é à £ and Shift+3 *; the dead ^ on e and ¨ on u; AltGr+2 @.
    EXPECT_EQ(typed_text({ 0x15, 0x2C, left_bracket, semicolon, apostrophe, iso_hash, shift, left_bracket, semicolon, apostrophe, iso_hash, 0x04, shift_up,
                  equals, 0x12, right_bracket, 0x16, alt_graph[0], alt_graph[1], 0x03, alt_graph_up[0], alt_graph_up[1] }),
        "zyüöä$èéà£*êü@");
}

TEST(KeyboardLayout, UsbKeyboardsTypeWithTheLayoutToo)
{
    ScopedLayout british("uk");
    rt::BootKeyboardReports keyboard;
    std::string text;
    u8 shift_2[8] = { 0x02, 0, 0x1F }, shift_3[8] = { 0x02, 0, 0x20 }, none[8] = {}, quote[8] = { 0x02, 0, 0x34 };
    for (u8* report : { shift_2, none, shift_3, none, quote, none }) {
        keyboard.take(report, 8, 0);
        for (int key = keyboard.next(0); key >= 0; key = keyboard.next(0))
            text += char(key);
    }
    EXPECT_EQ(text, "\"\xc2\xa3@"); // " £ @
    // Held, £ repeats whole: both its bytes each time.
    keyboard.take(shift_3, 8, 1000);
    std::string repeated;
    for (u64 now : { 1000, 1600, 1640 })
        for (int key = keyboard.next(now); key >= 0; key = keyboard.next(now))
            repeated += char(key);
    EXPECT_EQ(repeated, "\xc2\xa3\xc2\xa3\xc2\xa3");
}

TEST(KeyboardLayout, AKeyHeldAfterADeadKeyRepeatsItselfOnly)
{
    ScopedLayout french("fr");
    rt::BootKeyboardReports keyboard;
    u8 circumflex[8] = { 0, 0, 0x2F }, none[8] = {}, t[8] = { 0, 0, 0x17 };
    std::string text;
    u64 now = 0;
    for (u8* report : { circumflex, none, t }) {
        keyboard.take(report, 8, now);
        for (int key = keyboard.next(now); key >= 0; key = keyboard.next(now))
            text += char(key);
        now += 10;
    }
    EXPECT_EQ(text, "^t"); // t takes no ^: the accent alone, then t
    for (u64 at : { 600, 640 })
        for (int key = keyboard.next(at); key >= 0; key = keyboard.next(at))
            text += char(key);
    EXPECT_EQ(text, "^ttt");
}

}
