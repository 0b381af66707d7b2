#include <rt/format.h>

namespace rt {

namespace {

struct Spec {
    char fill { ' ' };
    char align { 0 }; // '<', '>', '^' or 0 for the type's default
    bool alternate { false };
    bool zero_pad { false };
    bool has_precision { false };
    size_t width { 0 };
    size_t precision { 0 };
    char type { 0 };
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_align(char c) { return c == '<' || c == '>' || c == '^'; }

// Parses the part after ':' of a replacement field; unknown characters are ignored
// rather than trusted, so a typo in a format string cannot run past the field.
Spec parse_spec(StringView text)
{
    Spec spec;
    size_t i = 0;
    if (text.length() >= 2 && is_align(text[1])) {
        spec.fill = text[0];
        spec.align = text[1];
        i = 2;
    } else if (!text.is_empty() && is_align(text[0])) {
        spec.align = text[0];
        i = 1;
    }
    if (i < text.length() && text[i] == '#') {
        spec.alternate = true;
        ++i;
    }
    if (i < text.length() && text[i] == '0') {
        spec.zero_pad = true;
        ++i;
    }
    while (i < text.length() && is_digit(text[i]))
        spec.width = spec.width * 10 + size_t(text[i++] - '0');
    if (i < text.length() && text[i] == '.') {
        spec.has_precision = true;
        ++i;
        while (i < text.length() && is_digit(text[i]))
            spec.precision = spec.precision * 10 + size_t(text[i++] - '0');
    }
    if (i < text.length())
        spec.type = text[i];
    return spec;
}

void write_repeated(TextSink& sink, char c, size_t count)
{
    char chunk[32];
    for (auto& slot : chunk)
        slot = c;
    while (count) {
        size_t n = count < sizeof chunk ? count : sizeof chunk;
        sink.write({ chunk, n });
        count -= n;
    }
}

// Writes `prefix` (sign, 0x) and `body` honouring width, alignment and zero padding.
void write_padded(TextSink& sink, Spec const& spec, StringView prefix, StringView body, char default_align)
{
    size_t length = prefix.length() + body.length();
    size_t padding = spec.width > length ? spec.width - length : 0;
    if (spec.zero_pad && !spec.align) {
        sink.write(prefix);
        write_repeated(sink, '0', padding);
        sink.write(body);
        return;
    }
    char align = spec.align ? spec.align : default_align;
    size_t before = align == '>' ? padding : align == '^' ? padding / 2 : 0;
    write_repeated(sink, spec.fill, before);
    sink.write(prefix);
    sink.write(body);
    write_repeated(sink, spec.fill, padding - before);
}

// Renders `value` in `base` into the end of `buffer`; returns the digits' view.
StringView render_unsigned(char (&buffer)[72], u64 value, unsigned base, bool upper)
{
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t at = sizeof buffer;
    do {
        buffer[--at] = digits[value % base];
        value /= base;
    } while (value);
    return { buffer + at, sizeof buffer - at };
}

void format_integer(TextSink& sink, Spec const& spec, u64 magnitude, bool negative)
{
    unsigned base = 10;
    const char* prefix = "";
    switch (spec.type) {
    case 'x': base = 16; prefix = "0x"; break;
    case 'X': base = 16; prefix = "0X"; break;
    case 'b': base = 2; prefix = "0b"; break;
    case 'o': base = 8; prefix = "0"; break;
    case 'p': base = 16; prefix = "0x"; break;
    default: break;
    }
    char digits[72];
    StringView body = render_unsigned(digits, magnitude, base, spec.type == 'X');
    char head[4] = { 0 };
    size_t head_length = 0;
    if (negative)
        head[head_length++] = '-';
    if (spec.alternate || spec.type == 'p')
        for (const char* p = prefix; *p; ++p)
            head[head_length++] = *p;
    write_padded(sink, spec, { head, head_length }, body, '>');
}

void format_float(TextSink& sink, Spec const& spec, double value)
{
    size_t precision = spec.has_precision ? spec.precision : 3;
    if (precision > 9)
        precision = 9;
    if (value != value) {
        write_padded(sink, spec, "", "nan", '>');
        return;
    }
    bool negative = value < 0 || (value == 0 && 1 / value < 0);
    double magnitude = negative ? -value : value;
    const char* sign = negative ? "-" : "";
    if (magnitude - magnitude != 0) { // only infinity gives inf - inf = nan
        write_padded(sink, spec, sign, "inf", '>');
        return;
    }
    char text[96];
    size_t length = 0;
    auto append = [&](StringView part) {
        for (char c : part)
            if (length < sizeof text)
                text[length++] = c;
    };

    // Above 2^64 fixed notation would need big integers: fall back to d.ddde+XX.
    int exponent = 0;
    if (magnitude >= 1.8e19) {
        while (magnitude >= 10) {
            magnitude /= 10;
            ++exponent;
        }
    }
    u64 scale = 1;
    for (size_t i = 0; i < precision; ++i)
        scale *= 10;
    // Round once on the scaled value so 0.9996 with 3 decimals becomes 1.000.
    double scaled = magnitude * double(scale) + 0.5;
    u64 whole;
    u64 fraction;
    if (scaled < 1.8e19) {
        u64 total = u64(scaled);
        whole = total / scale;
        fraction = total % scale;
    } else {
        whole = u64(magnitude);
        fraction = 0;
    }
    char digits[72];
    append(render_unsigned(digits, whole, 10, false));
    if (precision) {
        append(".");
        StringView frac = render_unsigned(digits, fraction, 10, false);
        for (size_t i = frac.length(); i < precision; ++i)
            append("0");
        append(frac);
    }
    if (exponent) {
        append("e+");
        append(render_unsigned(digits, u64(exponent), 10, false));
    }
    write_padded(sink, spec, sign, { text, length }, '>');
}

void format_one(TextSink& sink, Spec const& spec, FormatArg const& arg)
{
    switch (arg.kind) {
    case FormatArg::Kind::Signed: {
        if (spec.type == 'c') {
            char c = char(arg.as_signed);
            write_padded(sink, spec, "", { &c, 1 }, '<');
            return;
        }
        bool negative = arg.as_signed < 0;
        // Negate in unsigned arithmetic so INT64_MIN does not overflow.
        u64 magnitude = negative ? u64(0) - u64(arg.as_signed) : u64(arg.as_signed);
        format_integer(sink, spec, magnitude, negative);
        return;
    }
    case FormatArg::Kind::Unsigned:
    case FormatArg::Kind::Pointer: {
        if (spec.type == 'c') {
            char c = char(arg.as_unsigned);
            write_padded(sink, spec, "", { &c, 1 }, '<');
            return;
        }
        Spec adjusted = spec;
        if (arg.kind == FormatArg::Kind::Pointer && !adjusted.type)
            adjusted.type = 'p';
        format_integer(sink, adjusted, arg.as_unsigned, false);
        return;
    }
    case FormatArg::Kind::Float:
        format_float(sink, spec, arg.as_float);
        return;
    case FormatArg::Kind::String: {
        StringView text { arg.as_string.data, arg.as_string.length };
        if (spec.has_precision && spec.precision < text.length())
            text = text.substring(0, spec.precision);
        write_padded(sink, spec, "", text, '<');
        return;
    }
    case FormatArg::Kind::Char:
        if (spec.type == 'd' || spec.type == 'x' || spec.type == 'X') {
            format_integer(sink, spec, u8(arg.as_char), false);
            return;
        }
        write_padded(sink, spec, "", { &arg.as_char, 1 }, '<');
        return;
    case FormatArg::Kind::Bool:
        write_padded(sink, spec, "", arg.as_bool ? "true" : "false", '<');
        return;
    }
}

}

void vformat(TextSink& sink, StringView format, Span<const FormatArg> args)
{
    size_t next_arg = 0;
    size_t literal_start = 0;
    size_t i = 0;
    auto flush_literal = [&](size_t end) {
        if (end > literal_start)
            sink.write(format.substring(literal_start, end - literal_start));
    };
    while (i < format.length()) {
        char c = format[i];
        if ((c == '{' || c == '}') && i + 1 < format.length() && format[i + 1] == c) {
            flush_literal(i + 1); // keep one brace of the pair
            i += 2;
            literal_start = i;
            continue;
        }
        if (c != '{') {
            ++i;
            continue;
        }
        size_t close = format.find('}', i);
        if (close == format.length()) // unterminated field: print it literally
            break;
        flush_literal(i);
        StringView field = format.substring(i + 1, close - i - 1);
        Spec spec;
        if (!field.is_empty() && field[0] == ':')
            spec = parse_spec(field.substring(1));
        if (next_arg < args.size())
            format_one(sink, spec, args[next_arg++]);
        else
            sink.write("{?}"); // more fields than arguments: visible, not a crash
        i = close + 1;
        literal_start = i;
    }
    flush_literal(format.length());
}

void BufferSink::write(StringView text)
{
    if (!m_capacity)
        return;
    for (char c : text) {
        if (m_length + 1 >= m_capacity) {
            m_truncated = true;
            break;
        }
        m_buffer[m_length++] = c;
    }
    m_buffer[m_length] = 0;
}

}
