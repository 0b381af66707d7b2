#pragma once
// What an rt::InputSource returns for a key: the character it types (a byte: ASCII from
// the keyboards, any byte of UTF-8 from a terminal), a control character for Ctrl with a
// letter (Ctrl+C is 3), or one of the codes below for the keys that type nothing. Every
// source gives the same codes, so the line editor reads a PS/2 keyboard, a USB keyboard
// and a terminal on the serial line alike.

namespace rt::key {

constexpr int enter = '\n';
constexpr int backspace = '\b';
constexpr int escape = 0x1B;

// Ctrl held with a letter (either case).
constexpr int control(char letter) { return letter & 0x1F; }
constexpr int interrupt = control('C'); // stops a story or a reply

// Above every byte, so no typed character can be mistaken for one.
constexpr int up = 0x101;
constexpr int down = 0x102;
constexpr int left = 0x103;
constexpr int right = 0x104;
constexpr int home = 0x105;
constexpr int end = 0x106;
constexpr int forward_delete = 0x107; // the Delete key: the character under the cursor

}
