#pragma once
// The first half of rendering a chat template: splitting its source into tokens. Text
// between tags becomes Text tokens, already trimmed as Hugging Face renders templates
// (trim_blocks, lstrip_blocks, and {%- -%} / {{- -}}); inside a tag come names, integer
// and string literals, and operators. Comments are dropped. chat_template.cpp evaluates
// the tokens.
#include <rt/error.h>
#include <rt/format.h>
#include <rt/span.h>

namespace app::jinja {

enum class TokenKind : u8 { Text, ExpressionOpen, ExpressionClose, StatementOpen, StatementClose, Name, String, Integer, Operator, End };

struct Token {
    TokenKind kind;
    rt::StringView text; // for strings: the unescaped value
    i64 integer;
};

// Every message from lexing or rendering starts the same way, so the caller can tell
// the template's errors from its own.
// Out of line: its buffers would otherwise sit in the frame of every function that can
// fail, and the renderer's recursion multiplies frames (the kernel's stack is 256 KiB).
template<typename... Args>
[[gnu::noinline]] rt::Error error(rt::StringView format, Args const&... args)
{
    char text[160];
    rt::BufferSink sink(text, sizeof text);
    rt::format_to(sink, format, args...);
    return rt::Error::format("chat template: {}", sink.view());
}

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Integer literals stay far from i64's limits, so arithmetic on them rarely overflows.
constexpr i64 max_integer_literal = i64(1) << 40;

// A source of n bytes never makes more tokens than this (End included).
constexpr size_t token_capacity(size_t source_length) { return source_length + 2; }

// Writes the tokens of `source`, ending with End, to `tokens` (token_capacity() entries)
// and returns how many there are. String literals are unescaped into `strings` from
// `strings_used` on, which grows by what they took (at most the source's length).
rt::ErrorOr<size_t> lex(rt::StringView source, rt::Span<Token> tokens, rt::Span<char> strings, size_t& strings_used);

}
