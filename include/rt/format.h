#pragma once
// Type-safe formatted output in the style of std::format:
//   format_to(sink, "[mem] {} MiB at {:#010x}, {:.2f} GB/s", mib, base, rate);
// Replacement fields: {} or {:[fill]<align>[0][width][.precision][type]} with
// align one of < > ^, and type one of d x X b o f c s p. Floats default to 3 decimals.
#include <rt/span.h>
#include <rt/string_view.h>

namespace rt {

class TextSink {
public:
    virtual void write(StringView text) = 0;

protected:
    ~TextSink() = default;
};

struct FormatArg {
    enum class Kind : u8 { Signed, Unsigned, Float, String, Char, Bool, Pointer };
    Kind kind;
    union {
        i64 as_signed;
        u64 as_unsigned;
        double as_float;
        struct {
            const char* data;
            size_t length;
        } as_string;
        char as_char;
        bool as_bool;
    };
};

// Conversions from argument types to FormatArg; a type without one does not compile.
inline FormatArg make_format_arg(signed char v) { FormatArg a { FormatArg::Kind::Signed, {} }; a.as_signed = v; return a; }
inline FormatArg make_format_arg(short v) { FormatArg a { FormatArg::Kind::Signed, {} }; a.as_signed = v; return a; }
inline FormatArg make_format_arg(int v) { FormatArg a { FormatArg::Kind::Signed, {} }; a.as_signed = v; return a; }
inline FormatArg make_format_arg(long v) { FormatArg a { FormatArg::Kind::Signed, {} }; a.as_signed = v; return a; }
inline FormatArg make_format_arg(long long v) { FormatArg a { FormatArg::Kind::Signed, {} }; a.as_signed = v; return a; }
inline FormatArg make_format_arg(unsigned char v) { FormatArg a { FormatArg::Kind::Unsigned, {} }; a.as_unsigned = v; return a; }
inline FormatArg make_format_arg(unsigned short v) { FormatArg a { FormatArg::Kind::Unsigned, {} }; a.as_unsigned = v; return a; }
inline FormatArg make_format_arg(unsigned v) { FormatArg a { FormatArg::Kind::Unsigned, {} }; a.as_unsigned = v; return a; }
inline FormatArg make_format_arg(unsigned long v) { FormatArg a { FormatArg::Kind::Unsigned, {} }; a.as_unsigned = v; return a; }
inline FormatArg make_format_arg(unsigned long long v) { FormatArg a { FormatArg::Kind::Unsigned, {} }; a.as_unsigned = v; return a; }
inline FormatArg make_format_arg(float v) { FormatArg a { FormatArg::Kind::Float, {} }; a.as_float = v; return a; }
inline FormatArg make_format_arg(double v) { FormatArg a { FormatArg::Kind::Float, {} }; a.as_float = v; return a; }
inline FormatArg make_format_arg(char v) { FormatArg a { FormatArg::Kind::Char, {} }; a.as_char = v; return a; }
inline FormatArg make_format_arg(bool v) { FormatArg a { FormatArg::Kind::Bool, {} }; a.as_bool = v; return a; }
inline FormatArg make_format_arg(StringView v)
{
    FormatArg a { FormatArg::Kind::String, {} };
    a.as_string = { v.data(), v.length() };
    return a;
}
inline FormatArg make_format_arg(const char* v) { return make_format_arg(StringView(v ? v : "(null)")); }
inline FormatArg make_format_arg(char* v) { return make_format_arg(static_cast<const char*>(v)); }
inline FormatArg make_format_arg(const void* v)
{
    FormatArg a { FormatArg::Kind::Pointer, {} };
    a.as_unsigned = reinterpret_cast<uptr>(v);
    return a;
}
inline FormatArg make_format_arg(void* v) { return make_format_arg(static_cast<const void*>(v)); }

void vformat(TextSink&, StringView format, Span<const FormatArg> args);

template<typename... Args>
void format_to(TextSink& sink, StringView format, Args const&... args)
{
    if constexpr (sizeof...(Args) == 0) {
        vformat(sink, format, {});
    } else {
        const FormatArg packed[] = { make_format_arg(args)... };
        vformat(sink, format, Span<const FormatArg>(packed, sizeof...(Args)));
    }
}

// A sink that fills a caller's buffer, truncating (never overflowing) and keeping it
// NUL-terminated.
class BufferSink final : public TextSink {
public:
    BufferSink(char* buffer, size_t capacity) : m_buffer(buffer), m_capacity(capacity)
    {
        if (m_capacity)
            m_buffer[0] = 0;
    }
    void write(StringView text) override;
    StringView view() const { return { m_buffer, m_length }; }
    bool truncated() const { return m_truncated; }

private:
    char* m_buffer;
    size_t m_capacity;
    size_t m_length { 0 };
    bool m_truncated { false };
};

// A fixed-capacity string built by formatting, for messages that must outlive a call.
template<size_t Capacity>
class FixedString {
public:
    FixedString() = default;
    template<typename... Args>
    static FixedString formatted(StringView format, Args const&... args)
    {
        FixedString s;
        BufferSink sink(s.m_text, Capacity);
        format_to(sink, format, args...);
        s.m_length = sink.view().length();
        return s;
    }
    StringView view() const { return { m_text, m_length }; }
    const char* c_str() const { return m_text; }

private:
    char m_text[Capacity] { 0 };
    size_t m_length { 0 };
};

}
