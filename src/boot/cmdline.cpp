#include <rt/cmdline.h>

namespace rt {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_key_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'; }

}

ErrorOr<void> CommandLine::parse(StringView text, CommandLine& out)
{
    out.m_count = 0;
    size_t written = 0;
    size_t i = 0;
    while (true) {
        while (i < text.length() && is_space(text[i]))
            ++i;
        if (i == text.length())
            break;
        if (out.m_count == max_entries)
            return Error::format("command line: more than {} entries", max_entries);

        // Unquote one token into m_text, remembering where '=' first appeared.
        size_t token_start = written;
        size_t equals_at = SIZE_MAX;
        char quote = 0;
        while (i < text.length() && (quote || !is_space(text[i]))) {
            char c = text[i++];
            if (quote) {
                if (c == quote) {
                    quote = 0;
                    continue;
                }
                if (c == '\\' && i < text.length())
                    c = text[i++];
            } else if (c == '"' || c == '\'') {
                quote = c;
                continue;
            } else if (c == '\\' && i < text.length()) {
                c = text[i++];
            } else if (c == '=' && equals_at == SIZE_MAX) {
                equals_at = written;
            }
            if (written + 1 >= max_text)
                return Error::format("command line: longer than {} characters", max_text - 1);
            out.m_text[written++] = c;
        }
        if (quote)
            return Error::format("command line: unterminated {} quote", quote == '"' ? "double" : "single");
        // A quote wrapping the whole pair hides '=' from the scan above: find it now.
        if (equals_at == SIZE_MAX)
            for (size_t k = token_start; k < written; ++k)
                if (out.m_text[k] == '=') {
                    equals_at = k;
                    break;
                }

        Entry entry {};
        size_t key_end = equals_at == SIZE_MAX ? written : equals_at;
        entry.key = { out.m_text + token_start, key_end - token_start };
        entry.has_value = equals_at != SIZE_MAX;
        if (entry.has_value)
            entry.value = { out.m_text + equals_at + 1, written - equals_at - 1 };
        if (entry.key.is_empty())
            return Error::format("command line: an entry has no key (\"={}\")", entry.value);
        for (char c : entry.key)
            if (!is_key_char(c))
                return Error::format("command line: key \"{}\" contains '{}'", entry.key, c);
        out.m_entries[out.m_count++] = entry;
        out.m_text[written++] = 0;
    }
    return {};
}

CommandLine::Entry const* CommandLine::find(StringView key) const
{
    // The last occurrence wins, so a value appended at boot overrides the menu's default.
    for (size_t i = m_count; i-- > 0;)
        if (m_entries[i].key == key)
            return &m_entries[i];
    return nullptr;
}

ErrorOr<StringView> CommandLine::get_string(StringView key, StringView fallback) const
{
    auto const* entry = find(key);
    if (!entry)
        return fallback;
    if (!entry->has_value)
        return Error::format("command line: {} needs a value ({}=...)", key, key);
    return entry->value;
}

ErrorOr<i64> CommandLine::get_integer(StringView key, i64 fallback, i64 min, i64 max) const
{
    auto const* entry = find(key);
    if (!entry)
        return fallback;
    auto parsed = parse_integer(entry->value);
    if (parsed.is_error() || parsed.value() < min || parsed.value() > max)
        return Error::format("command line: {}=\"{}\" is not a whole number from {} to {}", key, entry->value, min, max);
    return parsed.value();
}

ErrorOr<double> CommandLine::get_number(StringView key, double fallback, double min, double max) const
{
    auto const* entry = find(key);
    if (!entry)
        return fallback;
    auto parsed = parse_number(entry->value);
    if (parsed.is_error() || !(parsed.value() >= min && parsed.value() <= max))
        return Error::format("command line: {}=\"{}\" is not a number from {} to {}", key, entry->value, min, max);
    return parsed.value();
}

ErrorOr<StringView> CommandLine::get_choice(StringView key, Span<const StringView> choices, StringView fallback) const
{
    auto const* entry = find(key);
    if (!entry)
        return fallback;
    for (auto choice : choices)
        if (entry->value == choice)
            return choice;
    char list[160];
    BufferSink sink(list, sizeof list);
    for (size_t i = 0; i < choices.size(); ++i)
        format_to(sink, "{}{}", i ? ", " : "", choices[i]);
    return Error::format("command line: {}=\"{}\" is not one of: {}", key, entry->value, sink.view());
}

ErrorOr<void> CommandLine::check_known(Span<const StringView> known) const
{
    for (size_t i = 0; i < m_count; ++i) {
        bool found = false;
        for (auto k : known)
            found = found || k == m_entries[i].key;
        if (!found)
            return Error::format("command line: unknown key \"{}\"", m_entries[i].key);
    }
    return {};
}

ErrorOr<i64> parse_integer(StringView text)
{
    size_t i = 0;
    bool negative = false;
    if (i < text.length() && (text[i] == '-' || text[i] == '+'))
        negative = text[i++] == '-';
    if (i == text.length())
        return Error::format("\"{}\" is not a number", text);
    u64 value = 0;
    for (; i < text.length(); ++i) {
        char c = text[i];
        if (c < '0' || c > '9')
            return Error::format("\"{}\" is not a number", text);
        if (value > (u64(INT64_MAX) - u64(c - '0')) / 10)
            return Error::format("\"{}\" is too large", text);
        value = value * 10 + u64(c - '0');
    }
    return negative ? -i64(value) : i64(value);
}

ErrorOr<double> parse_number(StringView text)
{
    // Up to 19 significant digits are gathered as an exact integer and scaled once by an
    // exact power of ten, so "0.9" or "1e-15" give the same double a C library's strtod
    // would (whenever the digits fit 53 bits and the power is at most 10^22, which covers
    // what people type). Longer numbers are rounded a little more but never refused:
    // digits beyond the 19th only move the decimal point.
    constexpr int max_significant = 19;
    constexpr i64 max_exponent = 100000; // far beyond any double; keeps the sum in range
    size_t i = 0;
    bool negative = false;
    if (i < text.length() && (text[i] == '-' || text[i] == '+'))
        negative = text[i++] == '-';
    u64 mantissa = 0;
    int significant = 0;
    i64 exponent = 0;
    bool any_digit = false, in_fraction = false;
    for (; i < text.length(); ++i) {
        char c = text[i];
        if (c == '.' && !in_fraction) {
            in_fraction = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        any_digit = true;
        if (significant < max_significant && (mantissa != 0 || c != '0')) {
            mantissa = mantissa * 10 + u64(c - '0');
            ++significant;
            exponent -= in_fraction;
        } else if (mantissa == 0) {
            exponent -= in_fraction; // a leading zero
        } else if (!in_fraction) {
            ++exponent; // an integer digit beyond the 19th
        }
    }
    if (!any_digit)
        return Error::format("\"{}\" is not a number", text);
    if (i < text.length() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exponent_negative = false;
        if (i < text.length() && (text[i] == '-' || text[i] == '+'))
            exponent_negative = text[i++] == '-';
        size_t digits_start = i;
        i64 written = 0;
        for (; i < text.length() && text[i] >= '0' && text[i] <= '9'; ++i)
            written = min(written * 10 + (text[i] - '0'), max_exponent);
        if (i == digits_start)
            return Error::format("\"{}\" is not a number", text);
        exponent += exponent_negative ? -written : written;
    }
    if (i != text.length())
        return Error::format("\"{}\" is not a number", text);

    static constexpr double powers[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    double value = double(mantissa);
    if (mantissa != 0) {
        // Steps of 10^22 beyond that (a few thousand at most: the exponent is bounded);
        // too large ends at infinity, too small at zero.
        for (; exponent > 22; exponent -= 22)
            value *= 1e22;
        for (; exponent < -22; exponent += 22)
            value /= 1e22;
        value = exponent >= 0 ? value * powers[exponent] : value / powers[-exponent];
        if (!(value <= 1.7976931348623157e308))
            return Error::format("\"{}\" is too large", text);
    }
    return negative ? -value : value;
}

}
