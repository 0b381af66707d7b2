#include "chat_template_lexer.h"

namespace app::jinja {

namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_operator_character(char c)
{
    for (char op : rt::StringView("+-*/%~()[]{}.,|:=<>!"))
        if (c == op)
            return true;
    return false;
}

class Lexer {
public:
    Lexer(rt::StringView source, rt::Span<Token> tokens, rt::Span<char> strings, size_t& strings_used)
        : m_source(source), m_tokens(tokens), m_strings(strings), m_strings_used(strings_used)
    {
    }

    // Text and tags into tokens, with Hugging Face's whitespace settings.
    rt::ErrorOr<size_t> run()
    {
        // Jinja drops one newline at the template's very end (keep_trailing_newline is off).
        rt::StringView s = m_source;
        if (s.ends_with("\r\n"))
            s = s.substring(0, s.length() - 2);
        else if (s.ends_with("\n") || s.ends_with("\r"))
            s = s.substring(0, s.length() - 1);
        size_t at = 0;
        bool strip_next = false, trim_newline = false;
        while (at < s.length()) {
            size_t open = at;
            while (open + 1 < s.length() && !(s[open] == '{' && (s[open + 1] == '{' || s[open + 1] == '%' || s[open + 1] == '#')))
                ++open;
            if (open + 1 >= s.length())
                open = s.length();
            rt::StringView text = s.substring(at, open - at);
            if (strip_next) {
                while (!text.is_empty() && is_space(text[0]))
                    text = text.substring(1);
            } else if (trim_newline && text.starts_with("\n")) {
                text = text.substring(1);
            }
            push(TokenKind::Text, text);
            if (open == s.length())
                break;
            char kind = s[open + 1];
            at = open + 2;
            bool strip_left = at < s.length() && s[at] == '-';
            if (strip_left || (at < s.length() && s[at] == '+'))
                ++at;
            if (strip_left)
                strip_previous_text(true);
            else if (kind != '{')
                strip_previous_text(false);
            if (kind == '#') {
                size_t close = at;
                while (close + 1 < s.length() && !(s[close] == '#' && s[close + 1] == '}'))
                    ++close;
                if (close + 1 >= s.length())
                    return error("a comment is not closed");
                strip_next = s[close - 1] == '-';
                trim_newline = true;
                at = close + 2;
                continue;
            }
            push(kind == '{' ? TokenKind::ExpressionOpen : TokenKind::StatementOpen);
            char closer = kind == '{' ? '}' : '%';
            bool closed = false;
            while (at < s.length()) {
                char c = s[at];
                if (is_space(c)) {
                    ++at;
                    continue;
                }
                bool strip_right = c == '-' && at + 2 < s.length() && s[at + 1] == closer && s[at + 2] == '}';
                if (strip_right || (c == closer && at + 1 < s.length() && s[at + 1] == '}')) {
                    at += strip_right ? 3 : 2;
                    push(kind == '{' ? TokenKind::ExpressionClose : TokenKind::StatementClose);
                    strip_next = strip_right;
                    trim_newline = kind == '%';
                    closed = true;
                    break;
                }
                if (is_name_start(c)) {
                    size_t start = at;
                    while (at < s.length() && (is_name_start(s[at]) || is_digit(s[at])))
                        ++at;
                    push(TokenKind::Name, s.substring(start, at - start));
                } else if (is_digit(c)) {
                    i64 value = 0;
                    while (at < s.length() && is_digit(s[at])) {
                        if (value >= max_integer_literal)
                            return error("an integer literal is larger than {}", max_integer_literal);
                        value = value * 10 + (s[at++] - '0');
                    }
                    if (at + 1 < s.length() && s[at] == '.' && is_digit(s[at + 1]))
                        return error("numbers with a fraction are not supported");
                    push(TokenKind::Integer, {}, value);
                } else if (c == '\'' || c == '"') {
                    TRY(lex_string(at));
                } else {
                    static const char* const pairs[] = { "==", "!=", "<=", ">=", "//", "**" };
                    size_t length = 1;
                    for (auto const* pair : pairs)
                        if (s.substring(at).starts_with(pair))
                            length = 2;
                    if (length == 1 && !is_operator_character(c))
                        return error("unexpected character '{}'", c);
                    push(TokenKind::Operator, s.substring(at, length));
                    at += length;
                }
            }
            if (!closed)
                return error("a {} tag is not closed", kind == '{' ? "{{" : "{%");
        }
        push(TokenKind::End);
        return m_count;
    }

private:
    void push(TokenKind kind, rt::StringView text = {}, i64 integer = 0) { m_tokens[m_count++] = { kind, text, integer }; }

    // Strips trailing whitespace from the last text token ({%- and {{-).
    void strip_previous_text(bool all_whitespace)
    {
        if (m_count == 0 || m_tokens[m_count - 1].kind != TokenKind::Text)
            return;
        rt::StringView& text = m_tokens[m_count - 1].text;
        size_t length = text.length();
        if (all_whitespace) {
            while (length && is_space(text[length - 1]))
                --length;
        } else { // lstrip_blocks: only spaces and tabs back to the line start (in the source:
                 // a text right after a tag starts no line, unless trim_blocks took a newline)
            size_t at = length;
            while (at && (text[at - 1] == ' ' || text[at - 1] == '\t'))
                --at;
            bool line_start = at > 0 ? text[at - 1] == '\n' : text.begin() == m_source.begin() || text.begin()[-1] == '\n';
            if (line_start)
                length = at;
        }
        text = text.substring(0, length);
    }

    rt::ErrorOr<void> lex_string(size_t& at)
    {
        char quote = m_source[at++];
        char* start = m_strings.data() + m_strings_used;
        size_t length = 0;
        while (at < m_source.length() && m_source[at] != quote) {
            char c = m_source[at++];
            if (c == '\\' && at < m_source.length()) {
                char e = m_source[at++];
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            }
            start[length++] = c; // `strings` holds the source's length: escapes only shrink
        }
        if (at >= m_source.length())
            return error("a string is not closed");
        ++at;
        m_strings_used += length;
        push(TokenKind::String, { start, length });
        return {};
    }

    rt::StringView m_source;
    rt::Span<Token> m_tokens;
    size_t m_count { 0 };
    rt::Span<char> m_strings;
    size_t& m_strings_used;
};

}

rt::ErrorOr<size_t> lex(rt::StringView source, rt::Span<Token> tokens, rt::Span<char> strings, size_t& strings_used)
{
    Lexer lexer(source, tokens, strings, strings_used);
    return lexer.run();
}

}
