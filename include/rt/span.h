#pragma once
#include <rt/types.h>

namespace rt {

// A non-owning view of `count` contiguous T's.
template<typename T>
class Span {
public:
    constexpr Span() = default;
    constexpr Span(T* data, size_t count) : m_data(data), m_count(count) {}
    template<size_t N>
    constexpr Span(T (&array)[N]) : m_data(array), m_count(N) {}
    // A span of U converts to a span of const U.
    template<typename U>
        requires(__is_same(T, const U))
    constexpr Span(Span<U> other) : m_data(other.data()), m_count(other.size()) {}

    constexpr T* data() const { return m_data; }
    constexpr size_t size() const { return m_count; }
    constexpr bool is_empty() const { return m_count == 0; }
    constexpr T& operator[](size_t i) const { return m_data[i]; }
    constexpr T* begin() const { return m_data; }
    constexpr T* end() const { return m_data + m_count; }
    constexpr Span slice(size_t start, size_t count) const { return { m_data + start, count }; }

private:
    T* m_data { nullptr };
    size_t m_count { 0 };
};

using Bytes = Span<const u8>;

}
