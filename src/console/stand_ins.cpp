#include <rt/font.h>

namespace rt {

namespace {
// U+00A0..U+00FF (Latin-1's letters and signs), each as the ASCII character closest to it.
constexpr char latin1[] = " !cL?Y|S\"ca<--r-o+23'uP.,1o>????"
                          "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTs"
                          "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
static_assert(sizeof latin1 == 0x100 - 0xA0 + 1);
}

char stand_in_for(u32 code_point)
{
    if (code_point >= font_first_char && code_point <= font_last_char)
        return char(code_point);
    if (code_point >= 0xA0 && code_point <= 0xFF)
        return latin1[code_point - 0xA0];
    switch (code_point) {
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212:
        return '-'; // hyphens, dashes, minus
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032:
        return '\''; // single quotes, apostrophe, prime
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x2033:
        return '"';
    case 0x2022: case 0x2023: case 0x2043:
        return '*'; // bullets
    case 0x2026:
        return '.'; // the ellipsis, in its one cell
    case 0x2039:
        return '<';
    case 0x203A:
        return '>';
    default:
        return '?';
    }
}

}
