#include <rt/font.h>

namespace rt {

namespace {
enum class Accent : u8 { Grave, Acute, Circumflex, Tilde, Diaeresis, Ring, Cedilla };

// Two rows of pixels each (bit 7 the leftmost), over the letter's middle: set above a
// small letter (rows 2-3; its body starts at row 5), above a capital in rows 0-1, and the
// cedilla under either, in rows 12-13.
constexpr u8 accent_rows[][2] = {
    { 0x20, 0x10 }, // grave: ..#. / ...#
    { 0x10, 0x20 }, // acute
    { 0x30, 0x48 }, // circumflex
    { 0x64, 0x98 }, // tilde
    { 0x00, 0x48 }, // diaeresis: one row of two dots
    { 0x30, 0x30 }, // ring, small
    { 0x10, 0x30 }, // cedilla
};

// Latin-1's accented letters, U+00C0 on, by their letter and accent (capitals; the small
// ones are 0x20 further, with the same letter in lower case). 0: none (Æ, Ð, ×, Ø ...).
struct Accented {
    char letter;
    Accent accent;
};
constexpr Accented latin1_capitals[0x20] = {
    { 'A', Accent::Grave }, { 'A', Accent::Acute }, { 'A', Accent::Circumflex }, { 'A', Accent::Tilde }, // C0-C3
    { 'A', Accent::Diaeresis }, { 'A', Accent::Ring }, { 0, Accent::Grave }, { 'C', Accent::Cedilla },     // C4-C7
    { 'E', Accent::Grave }, { 'E', Accent::Acute }, { 'E', Accent::Circumflex }, { 'E', Accent::Diaeresis }, // C8-CB
    { 'I', Accent::Grave }, { 'I', Accent::Acute }, { 'I', Accent::Circumflex }, { 'I', Accent::Diaeresis }, // CC-CF
    { 0, Accent::Grave }, { 'N', Accent::Tilde }, { 'O', Accent::Grave }, { 'O', Accent::Acute },           // D0-D3
    { 'O', Accent::Circumflex }, { 'O', Accent::Tilde }, { 'O', Accent::Diaeresis }, { 0, Accent::Grave },  // D4-D7
    { 0, Accent::Grave }, { 'U', Accent::Grave }, { 'U', Accent::Acute }, { 'U', Accent::Circumflex },      // D8-DB
    { 'U', Accent::Diaeresis }, { 'Y', Accent::Acute }, { 0, Accent::Grave }, { 0, Accent::Grave },         // DC-DF
};

// The letter's glyph with the accent set above it (below: the cedilla).
void compose(char letter, Accent accent, u8 out[font_height])
{
    u8 const* base = font8x16[letter - font_first_char];
    for (u32 row = 0; row < font_height; ++row)
        out[row] = base[row];
    u8 const* rows = accent_rows[u8(accent)];
    if (accent == Accent::Cedilla) {
        out[12] |= rows[0];
        out[13] |= rows[1];
        return;
    }
    bool small = letter >= 'a';
    if (small)
        out[0] = out[1] = out[2] = out[3] = out[4] = 0; // i's dot makes way for the accent
    u32 top = small ? 2 : 0;
    out[top] = rows[0];
    out[top + 1] = rows[1];
}
}

bool accented_glyph(u32 code_point, u8 out[font_height])
{
    if (code_point == 0xFF) { // ÿ: the one small letter whose capital is not 0x20 before it
        compose('y', Accent::Diaeresis, out);
        return true;
    }
    if (code_point < 0xC0 || code_point > 0xFF)
        return false;
    Accented accented = latin1_capitals[(code_point - 0xC0) & 0x1F];
    if (!accented.letter)
        return false;
    compose(code_point >= 0xE0 ? char(accented.letter + 0x20) : accented.letter, accented.accent, out);
    return true;
}

}
