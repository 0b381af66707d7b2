#pragma once
// The kernel command line: space-separated `key=value` pairs. Values may be quoted, with
// backslash escapes inside quotes; quotes may also wrap the whole pair, which is what
// GRUB produces for an argument containing spaces ("prompt=Once upon a time").
#include <rt/error.h>

namespace rt {

class CommandLine {
public:
    static constexpr size_t max_entries = 32;
    static constexpr size_t max_text = 4096;

    struct Entry {
        StringView key;
        StringView value;
        bool has_value;
    };

    static ErrorOr<void> parse(StringView text, CommandLine& out);

    Span<const Entry> entries() const { return { m_entries, m_count }; }
    Entry const* find(StringView key) const;
    bool has(StringView key) const { return find(key) != nullptr; }

    // Typed getters: a missing key yields the fallback; a present but bad value is an
    // error that names the key, the value and what was expected.
    ErrorOr<StringView> get_string(StringView key, StringView fallback) const;
    ErrorOr<i64> get_integer(StringView key, i64 fallback, i64 min, i64 max) const;
    ErrorOr<double> get_number(StringView key, double fallback, double min, double max) const;
    // Value must be one of `choices` (e.g. {"generate", "interactive", "bench"}).
    ErrorOr<StringView> get_choice(StringView key, Span<const StringView> choices, StringView fallback) const;

    // Fails on the first key that is not in `known`, naming it.
    ErrorOr<void> check_known(Span<const StringView> known) const;

private:
    Entry m_entries[max_entries] {};
    size_t m_count { 0 };
    char m_text[max_text] {};
};

// Strict number parsers shared by the command line and the model loaders.
ErrorOr<i64> parse_integer(StringView text);
ErrorOr<double> parse_number(StringView text);

}
