#include "pre_tokenizer.h"

namespace llm {

namespace unicode {

namespace {
struct Range {
    u32 first, last;
};
template<size_t N>
bool in(Range const (&ranges)[N], u32 c)
{
    for (auto const& r : ranges)
        if (c >= r.first && c <= r.last)
            return true;
    return false;
}

// Letters (L*) beyond ASCII, in the scripts a small model's text is likely to hold.
constexpr Range letters[] = {
    { 0xAA, 0xAA }, { 0xB5, 0xB5 }, { 0xBA, 0xBA }, { 0xC0, 0xD6 }, { 0xD8, 0xF6 }, { 0xF8, 0x2C1 }, // Latin
    { 0x2C6, 0x2D1 }, { 0x2E0, 0x2E4 }, { 0x2EC, 0x2EC }, { 0x2EE, 0x2EE },                     // modifier letters
    { 0x370, 0x374 }, { 0x376, 0x377 }, { 0x37A, 0x37D }, { 0x37F, 0x37F }, { 0x386, 0x386 }, { 0x388, 0x3F5 }, { 0x3F7, 0x481 }, // Greek, Cyrillic
    { 0x48A, 0x52F }, { 0x531, 0x556 }, { 0x559, 0x559 }, { 0x560, 0x588 },                        // Cyrillic, Armenian
    { 0x5D0, 0x5EA }, { 0x5EF, 0x5F2 }, { 0x620, 0x64A }, { 0x66E, 0x66F }, { 0x671, 0x6D3 }, { 0x6D5, 0x6D5 }, // Hebrew, Arabic
    { 0x904, 0x939 }, { 0x93D, 0x93D }, { 0x950, 0x950 }, { 0x958, 0x961 }, { 0x971, 0x980 },     // Devanagari
    { 0xE01, 0xE30 }, { 0xE32, 0xE33 }, { 0xE40, 0xE46 },                                         // Thai
    { 0x10A0, 0x10FF }, { 0x1100, 0x1248 }, { 0x1E00, 0x1FBC }, { 0x1FC2, 0x1FCC }, { 0x1FD0, 0x1FDB }, { 0x1FE0, 0x1FEC },
    { 0x1FF2, 0x1FFC }, { 0x2071, 0x2071 }, { 0x207F, 0x207F }, { 0x2090, 0x209C },
    { 0x3005, 0x3006 }, { 0x3031, 0x3035 }, { 0x303B, 0x303C }, { 0x3041, 0x3096 }, { 0x309D, 0x309F }, { 0x30A1, 0x30FA },
    { 0x30FC, 0x30FF }, { 0x3105, 0x312F }, { 0x3131, 0x318E }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xAC00, 0xD7A3 }, // CJK, kana, Hangul
    { 0xF900, 0xFAFF }, { 0xFF21, 0xFF3A }, { 0xFF41, 0xFF5A }, { 0xFF66, 0xFFBE }, { 0x20000, 0x2FA1F },
};
// Numbers (N*) beyond ASCII digits: superscripts, fractions, other scripts' digits, Roman numerals, circled numbers.
constexpr Range numbers[] = {
    { 0xB2, 0xB3 }, { 0xB9, 0xB9 }, { 0xBC, 0xBE }, { 0x660, 0x669 }, { 0x6F0, 0x6F9 }, { 0x966, 0x96F }, { 0xE50, 0xE59 },
    { 0x2070, 0x2070 }, { 0x2074, 0x2079 }, { 0x2080, 0x2089 }, { 0x2150, 0x2182 }, { 0x2185, 0x2189 }, { 0x2460, 0x249B },
    { 0x24EA, 0x24FF }, { 0x2776, 0x2793 }, { 0x3007, 0x3007 }, { 0x3021, 0x3029 }, { 0x3038, 0x303A }, { 0x3192, 0x3195 },
    { 0x3220, 0x3229 }, { 0x3248, 0x324F }, { 0x3251, 0x325F }, { 0x3280, 0x3289 }, { 0x32B1, 0x32BF }, { 0xFF10, 0xFF19 },
};
}

bool is_letter(u32 c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return in(letters, c);
}

bool is_number(u32 c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    return in(numbers, c);
}

bool is_space(u32 c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028
        || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}

namespace {

// One character of UTF-8: its code point and length; a malformed byte stands alone (as a
// character of no class).
struct Character {
    u32 code;
    size_t length;
};
Character character_at(rt::StringView text, size_t at)
{
    u8 lead = u8(text[at]);
    size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (length == 0 || at + length > text.length())
        return { 0xFFFFFFFF, 1 };
    if (length == 1)
        return { lead, 1 };
    u32 code = lead & (0x7F >> length);
    for (size_t i = 1; i < length; ++i) {
        u8 next = u8(text[at + i]);
        if ((next & 0xC0) != 0x80)
            return { 0xFFFFFFFF, 1 };
        code = (code << 6) | (next & 0x3F);
    }
    return { code, length };
}

enum class Kind { Letter, Number, Space, Other };
Kind kind_of(u32 c)
{
    if (unicode::is_letter(c))
        return Kind::Letter;
    if (unicode::is_number(c))
        return Kind::Number;
    if (unicode::is_space(c))
        return Kind::Space;
    return Kind::Other;
}

// GPT-2's expression on text[from, end): the end of the word at `from`.
size_t gpt2_word_end(rt::StringView text, size_t from, size_t end)
{
    rt::StringView rest = text.substring(from, end - from);
    if (rest[0] == '\'') {
        static constexpr rt::StringView contractions[] = { "'re", "'ve", "'ll", "'s", "'t", "'m", "'d" };
        for (auto contraction : contractions)
            if (rest.starts_with(contraction))
                return from + contraction.length();
    }
    auto first = character_at(rest, 0);
    size_t start = 0;
    Kind kind = kind_of(first.code);
    if (first.code == ' ' && first.length < rest.length()) {
        Kind next = kind_of(character_at(rest, 1).code);
        if (next != Kind::Space) { // the space goes with the word after it
            start = 1;
            kind = next;
        }
    }
    // A run of one kind: letters, numbers, other characters, or whitespace.
    size_t at = start, last_start = start;
    while (at < rest.length()) {
        auto c = character_at(rest, at);
        if (kind_of(c.code) != kind)
            break;
        last_start = at;
        at += c.length;
    }
    if (kind != Kind::Space || at == rest.length())
        return from + at;
    // Whitespace before a word: all but its last character (which a following word may
    // take as its space), or the one character alone.
    return from + (last_start > 0 ? last_start : at);
}

bool is_line_break(u32 c) { return c == '\r' || c == '\n'; }

// How many bytes Llama 3's contraction at rest[at] takes ('s 't 're 've 'm 'll 'd, either
// case), 0 for none.
size_t contraction_at(rt::StringView rest, size_t at)
{
    if (at + 1 >= rest.length() || rest[at] != '\'')
        return 0;
    auto lower = [&](size_t i) { return i < rest.length() ? char(rest[i] | 0x20) : 0; };
    char a = lower(at + 1), b = lower(at + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return 3;
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    return 0;
}

// The expressions of the Llama 3 family differ in these.
enum class Contractions { Alone, AfterWords, None };
struct Cutting {
    size_t most_digits;        // \p{N}{1,3} or \p{N}
    bool cased_words;          // GPT-4o's U*L+|U+L* for \p{L}+
    Contractions contractions; // words of their own (Llama 3's), a word's end (GPT-4o's) or none
    bool slash_ends;           // [\r\n/]* after other characters, not [\r\n]*
};

// The end of GPT-4o's U*L+ or else U+L* (pre_tokenizer.h) at rest[at], a letter: letters up
// to the first a-z, then those up to the next A-Z; in a run without a-z, up to the last
// letter outside A-Z (the expression backtracks to it) or, without one, the whole run.
size_t cased_word_end(rt::StringView rest, size_t at)
{
    auto is_upper = [](u32 c) { return c >= 'A' && c <= 'Z'; };
    auto is_lower = [](u32 c) { return c >= 'a' && c <= 'z'; };
    size_t last_not_upper_end = 0, end = at;
    bool lower_seen = false;
    while (end < rest.length()) {
        auto c = character_at(rest, end);
        if (!unicode::is_letter(c.code) || (lower_seen && is_upper(c.code)))
            break;
        lower_seen = lower_seen || is_lower(c.code);
        end += c.length;
        if (!is_upper(c.code))
            last_not_upper_end = end;
    }
    return lower_seen || last_not_upper_end == 0 ? end : last_not_upper_end;
}

// Llama 3's expression, Qwen2's, GPT-4o's or Tekken's (as `cutting` says) on text[from,
// end): the end of the word at `from`. Every character starts some alternative's match.
size_t llama3_word_end(rt::StringView text, size_t from, Cutting cutting)
{
    rt::StringView rest = text.substring(from);
    if (cutting.contractions == Contractions::Alone)
        if (size_t contraction = contraction_at(rest, 0))
            return from + contraction;
    auto first = character_at(rest, 0);
    Kind kind = kind_of(first.code);
    auto run_of = [&](size_t at, Kind wanted, size_t most) {
        for (size_t count = 0; at < rest.length() && count < most; ++count) {
            auto c = character_at(rest, at);
            if (kind_of(c.code) != wanted)
                break;
            at += c.length;
        }
        return at;
    };
    constexpr size_t any = ~size_t(0);
    // [^\r\n\p{L}\p{N}]?\p{L}+ (GPT-4o: [^\r\n\p{L}\p{N}]?(U*L+|U+L*) and a contraction)
    auto word = [&](size_t at) {
        if (!cutting.cased_words)
            return run_of(at, Kind::Letter, any);
        size_t end = cased_word_end(rest, at);
        return cutting.contractions == Contractions::AfterWords ? end + contraction_at(rest, end) : end;
    };
    if (kind == Kind::Letter)
        return from + word(0);
    bool next_is_letter = first.length < rest.length() && kind_of(character_at(rest, first.length).code) == Kind::Letter;
    if (kind != Kind::Number && !is_line_break(first.code) && next_is_letter)
        return from + word(first.length);
    // \p{N}{1,3}
    if (kind == Kind::Number)
        return from + run_of(0, Kind::Number, cutting.most_digits);
    //  ?[^\s\p{L}\p{N}]+[\r\n]* (GPT-4o: [\r\n/]*)
    size_t start = first.code == ' ' && first.length < rest.length() && kind_of(character_at(rest, 1).code) == Kind::Other ? 1 : 0;
    if (kind == Kind::Other || start == 1) {
        size_t at = run_of(start, Kind::Other, any);
        while (at < rest.length() && (is_line_break(u8(rest[at])) || (cutting.slash_ends && rest[at] == '/')))
            ++at;
        return from + at;
    }
    // Whitespace: up to its last line break (\s*[\r\n]+); else all of it at the end of the
    // text or before more whitespace (\s+(?!\S)), all but its last character before a word.
    size_t at = 0, last_start = 0, after_line_break = 0;
    while (at < rest.length()) {
        auto c = character_at(rest, at);
        if (kind_of(c.code) != Kind::Space)
            break;
        last_start = at;
        at += c.length;
        if (is_line_break(c.code))
            after_line_break = at;
    }
    if (after_line_break)
        return from + after_line_break;
    if (at == rest.length() || last_start == 0)
        return from + at;
    return from + last_start;
}

}

size_t word_end(rt::StringView text, size_t from, PreTokenizer pre)
{
    switch (pre) {
    case PreTokenizer::Llama3: return llama3_word_end(text, from, { 3, false, Contractions::Alone, false });
    case PreTokenizer::Qwen2: return llama3_word_end(text, from, { 1, false, Contractions::Alone, false });
    case PreTokenizer::Gpt4o: return llama3_word_end(text, from, { 3, true, Contractions::AfterWords, true });
    case PreTokenizer::Tekken: return llama3_word_end(text, from, { 1, true, Contractions::None, true });
    case PreTokenizer::Gpt2:
    case PreTokenizer::SmolLm: break;
    }
    size_t end = text.length();
    if (pre == PreTokenizer::SmolLm) {
        // Number characters are words of their own, and the words between them end there.
        auto first = character_at(text, from);
        if (unicode::is_number(first.code))
            return from + first.length;
        for (size_t at = from + first.length; at < end;) {
            auto c = character_at(text, at);
            if (unicode::is_number(c.code)) {
                end = at;
                break;
            }
            at += c.length;
        }
    }
    return gpt2_word_end(text, from, end);
}

}
