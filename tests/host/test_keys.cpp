// Keys from a terminal's bytes (rt::TerminalKeys) and from a PS/2 keyboard's scan codes
// (rt::ScancodeSet1): the same codes for the same keys.
#include <gtest/gtest.h>
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
    for (u8 code : codes)
        if (int key = decoder.take(code); key != rt::ScancodeSet1::nothing)
            keys.push_back(key);
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
