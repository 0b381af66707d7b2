#pragma once
#include <rt/types.h>

namespace rt {

// A non-owning view of characters; not NUL-terminated in general.
class StringView {
public:
    constexpr StringView() = default;
    constexpr StringView(const char* data, size_t length) : m_data(data), m_length(length) {}
    constexpr StringView(const char* cstring) : m_data(cstring), m_length(cstring ? c_length(cstring) : 0) {}

    constexpr const char* data() const { return m_data; }
    constexpr size_t length() const { return m_length; }
    constexpr bool is_empty() const { return m_length == 0; }
    constexpr char operator[](size_t i) const { return m_data[i]; }
    constexpr const char* begin() const { return m_data; }
    constexpr const char* end() const { return m_data + m_length; }

    constexpr StringView substring(size_t start, size_t count) const
    {
        if (start > m_length)
            start = m_length;
        if (count > m_length - start)
            count = m_length - start;
        return { m_data + start, count };
    }
    constexpr StringView substring(size_t start) const { return substring(start, m_length); }

    constexpr bool operator==(StringView other) const
    {
        if (m_length != other.m_length)
            return false;
        for (size_t i = 0; i < m_length; ++i)
            if (m_data[i] != other.m_data[i])
                return false;
        return true;
    }
    constexpr bool starts_with(StringView prefix) const
    {
        return prefix.m_length <= m_length && substring(0, prefix.m_length) == prefix;
    }
    constexpr bool ends_with(StringView suffix) const
    {
        return suffix.m_length <= m_length && substring(m_length - suffix.m_length) == suffix;
    }
    // Index of the first `c`, or length() when absent.
    constexpr size_t find(char c, size_t from = 0) const
    {
        for (size_t i = from; i < m_length; ++i)
            if (m_data[i] == c)
                return i;
        return m_length;
    }

private:
    static constexpr size_t c_length(const char* s)
    {
        size_t n = 0;
        while (s[n])
            ++n;
        return n;
    }
    const char* m_data { "" };
    size_t m_length { 0 };
};

}
