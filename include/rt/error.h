#pragma once
// Errors as values: fallible functions return ErrorOr<T>, callers propagate with TRY().
// An Error carries a formatted, human-readable message, because what users see on the
// serial port is the only diagnosis they get on bare metal.
#include <rt/format.h>
#include <rt/utility.h>

namespace rt {

class Error {
public:
    template<typename... Args>
    static Error format(StringView format, Args const&... args)
    {
        Error error;
        error.m_message = FixedString<200>::formatted(format, args...);
        return error;
    }
    StringView message() const { return m_message.view(); }

private:
    FixedString<200> m_message;
};

template<typename T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(T value) : m_has_value(true) { new (&m_value) T(move(value)); }
    ErrorOr(Error error) : m_has_value(false) { new (&m_error) Error(move(error)); }
    ErrorOr(ErrorOr&& other) : m_has_value(other.m_has_value)
    {
        if (m_has_value)
            new (&m_value) T(move(other.m_value));
        else
            new (&m_error) Error(move(other.m_error));
    }
    ErrorOr(ErrorOr const&) = delete;
    ErrorOr& operator=(ErrorOr const&) = delete;
    ~ErrorOr()
    {
        if (m_has_value)
            m_value.~T();
        else
            m_error.~Error();
    }

    bool is_error() const { return !m_has_value; }
    T& value() { return m_value; }
    T const& value() const { return m_value; }
    T release_value() { return move(m_value); }
    Error const& error() const { return m_error; }
    Error release_error() { return move(m_error); }

private:
    bool m_has_value;
    union {
        T m_value;
        Error m_error;
    };
};

template<>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() = default;
    ErrorOr(Error error) : m_has_error(true), m_error(move(error)) {}

    bool is_error() const { return m_has_error; }
    void release_value() {}
    Error const& error() const { return m_error; }
    Error release_error() { return move(m_error); }

private:
    bool m_has_error { false };
    Error m_error;
};

}

// Evaluates an ErrorOr expression; returns its error from the calling function, or yields
// its value. (A GNU statement expression: clang and gcc both have it.)
#define TRY(expression)                                  \
    ({                                                   \
        auto _try_result = (expression);                 \
        if (_try_result.is_error())                      \
            return _try_result.release_error();          \
        _try_result.release_value();                     \
    })
