// The chat template's expressions: or/and/not, comparisons, arithmetic, literals,
// variables, attributes, subscripts, filters and methods, evaluated while parsed.
#include "chat_template_renderer.h"

namespace app::chat_template_detail {

namespace {

// Integer arithmetic on values from the template: every result that would overflow, and
// division or remainder by zero or of INT64_MIN by -1 (which traps on x86), is refused
// instead of computed. `%` follows Python: the result takes the divisor's sign.
bool integer_operation(char op, i64 a, i64 b, i64& result)
{
    switch (op) {
    case '+': return !__builtin_add_overflow(a, b, &result);
    case '-': return !__builtin_sub_overflow(a, b, &result);
    case '*': return !__builtin_mul_overflow(a, b, &result);
    case '/':
        if (b == 0 || (a == INT64_MIN && b == -1))
            return false;
        result = a / b;
        return true;
    case '%':
        if (b == 0)
            return false;
        result = b == -1 ? 0 : a % b;
        if (result != 0 && (result < 0) != (b < 0))
            result += b; // opposite signs: cannot overflow
        return true;
    default: return false;
    }
}

}

rt::ErrorOr<Value> Renderer::expression()
{
    DepthGuard guard(m_depth);
    if (guard.too_deep())
        return error("expressions or blocks nest deeper than {}", max_depth);
    Value value = TRY(or_expression());
    if (at_name("if")) { // a if condition else b
        ++m_at;
        Value condition = TRY(or_expression());
        Value otherwise = Value {};
        if (at_name("else")) {
            ++m_at;
            otherwise = TRY(expression());
        }
        return condition.truthy() ? value : otherwise;
    }
    return value;
}

rt::ErrorOr<Value> Renderer::not_expression()
{
    if (at_name("not")) {
        ++m_at;
        return Value::of_bool(!TRY(not_expression()).truthy());
    }
    return comparison();
}

bool Renderer::equal(Value const& a, Value const& b)
{
    if (a.kind == Value::Kind::String && b.kind == Value::Kind::String)
        return a.string == b.string;
    bool a_number = a.kind == Value::Kind::Integer || a.kind == Value::Kind::Boolean;
    bool b_number = b.kind == Value::Kind::Integer || b.kind == Value::Kind::Boolean;
    if (a_number && b_number)
        return (a.kind == Value::Kind::Integer ? a.integer : a.boolean) == (b.kind == Value::Kind::Integer ? b.integer : b.boolean);
    return a.kind == b.kind && (a.kind == Value::Kind::None || a.kind == Value::Kind::Undefined);
}

bool Renderer::contains(rt::StringView haystack, rt::StringView needle)
{
    for (size_t i = 0; i + needle.length() <= haystack.length(); ++i)
        if (haystack.substring(i, needle.length()) == needle)
            return true;
    return false;
}

rt::ErrorOr<Value> Renderer::comparison()
{
    Value left = TRY(additive());
    while (true) {
        rt::StringView op;
        bool negate_in = false;
        if (peek().kind == TokenKind::Operator
            && (peek().text == "==" || peek().text == "!=" || peek().text == "<" || peek().text == ">" || peek().text == "<=" || peek().text == ">=")) {
            op = m_tokens[m_at++].text;
        } else if (at_name("in")) {
            op = "in", ++m_at;
        } else if (at_name("not") && m_tokens[m_at + 1].kind == TokenKind::Name && m_tokens[m_at + 1].text == "in") {
            op = "in", negate_in = true, m_at += 2;
        } else {
            return left;
        }
        Value right = TRY(additive());
        if (op == "==" || op == "!=") {
            left = Value::of_bool(equal(left, right) == (op == "=="));
        } else if (op == "in") {
            bool found = left.kind == Value::Kind::String && right.kind == Value::Kind::String;
            if (found) {
                TRY(charge(u64(right.string.length()) * rt::max<u64>(left.string.length(), 1)));
                found = contains(right.string, left.string);
            }
            left = Value::of_bool(found != negate_in);
        } else {
            if (left.kind != Value::Kind::Integer || right.kind != Value::Kind::Integer) {
                if (!m_quiet)
                    return error("'{}' compares numbers only", op);
                left = Value::of_bool(false);
                continue;
            }
            i64 a = left.integer, b = right.integer;
            left = Value::of_bool(op == "<" ? a < b : op == ">" ? a > b : op == "<=" ? a <= b : a >= b);
        }
    }
}

rt::ErrorOr<Value> Renderer::additive()
{
    Value left = TRY(multiplicative());
    while (at_operator("+") || at_operator("-") || at_operator("~")) {
        rt::StringView op = m_tokens[m_at++].text;
        Value right = TRY(multiplicative());
        if (op == "~" || (op == "+" && (left.kind == Value::Kind::String || right.kind == Value::Kind::String))) {
            if (op == "+" && (left.kind != Value::Kind::String || right.kind != Value::Kind::String) && !m_quiet)
                return error("'+' joins two strings (use ~ to join other values)");
            left = Value::of_string(TRY(store(TRY(to_text(left)), TRY(to_text(right)))));
        } else if (left.kind == Value::Kind::Integer && right.kind == Value::Kind::Integer) {
            left = TRY(arithmetic(op, left.integer, right.integer));
        } else if (!m_quiet) {
            return error("'{}' needs two numbers or two strings", op);
        }
    }
    return left;
}

rt::ErrorOr<Value> Renderer::multiplicative()
{
    Value left = TRY(unary());
    while (at_operator("*") || at_operator("/") || at_operator("%")) {
        rt::StringView op = m_tokens[m_at++].text;
        Value right = TRY(unary());
        if (left.kind != Value::Kind::Integer || right.kind != Value::Kind::Integer) {
            if (!m_quiet)
                return error("'{}' needs two numbers", op);
            continue;
        }
        left = TRY(arithmetic(op, left.integer, right.integer));
    }
    return left;
}

rt::ErrorOr<Value> Renderer::arithmetic(rt::StringView op, i64 a, i64 b)
{
    i64 result;
    if (integer_operation(op[0], a, b, result))
        return Value::of_integer(result);
    if (m_quiet)
        return Value {};
    if ((op == "/" || op == "%") && b == 0)
        return error("{} {} {}: division by zero", a, op, b);
    return error("{} {} {} overflows 64 bits", a, op, b);
}

rt::ErrorOr<Value> Renderer::unary()
{
    if (at_operator("-")) {
        ++m_at;
        Value v = TRY(unary());
        return v.kind == Value::Kind::Integer ? arithmetic("-", 0, v.integer) : Value::of_integer(0);
    }
    return postfix(TRY(primary()));
}

rt::ErrorOr<Value> Renderer::primary()
{
    Token const& t = m_tokens[m_at];
    switch (t.kind) {
    case TokenKind::String: ++m_at; return Value::of_string(t.text);
    case TokenKind::Integer: ++m_at; return Value::of_integer(t.integer);
    case TokenKind::Name:
        ++m_at;
        if (t.text == "raise_exception" && at_operator("(")) {
            ++m_at;
            Value message = TRY(expression());
            TRY(expect_operator(")"));
            if (!m_quiet)
                return error("the template refuses this conversation: {}", TRY(to_text(message)));
            return Value {};
        }
        return lookup(t.text);
    case TokenKind::Operator:
        if (t.text == "(") {
            ++m_at;
            Value v = TRY(expression());
            TRY(expect_operator(")"));
            return v;
        }
        break;
    default: break;
    }
    return error("unexpected '{}' in an expression", t.kind == TokenKind::Operator ? t.text : rt::StringView("end of tag"));
}

Value Renderer::attribute(Value const& v, rt::StringView key) const
{
    if (v.kind == Value::Kind::Message) {
        ChatMessage const& m = m_inputs.messages[v.start];
        if (key == "role")
            return Value::of_string(m.role);
        if (key == "content")
            return Value::of_string(m.content);
    } else if (v.kind == Value::Kind::Loop) {
        i64 index = i64(v.start), length = i64(v.count);
        if (key == "index0")
            return Value::of_integer(index);
        if (key == "index")
            return Value::of_integer(index + 1);
        if (key == "revindex")
            return Value::of_integer(length - index);
        if (key == "revindex0")
            return Value::of_integer(length - index - 1);
        if (key == "first")
            return Value::of_bool(index == 0);
        if (key == "last")
            return Value::of_bool(index == length - 1);
        if (key == "length")
            return Value::of_integer(length);
    }
    return {};
}

rt::ErrorOr<Value> Renderer::subscript(Value const& v)
{
    // [index], [start:end] (either may be missing), ['key']
    Value first = Value {};
    bool has_first = !at_operator(":");
    if (has_first)
        first = TRY(expression());
    if (at_operator(":")) {
        ++m_at;
        Value second = Value {};
        bool has_second = !at_operator("]");
        if (has_second)
            second = TRY(expression());
        TRY(expect_operator("]"));
        i64 length = v.kind == Value::Kind::Messages ? i64(v.count) : v.kind == Value::Kind::String ? i64(v.string.length()) : -1;
        if (length < 0)
            return m_quiet ? Value {} : rt::ErrorOr<Value>(error("only lists and strings can be sliced"));
        auto clamp = [&](Value const& bound, bool given, i64 fallback) {
            i64 i = given && bound.kind == Value::Kind::Integer ? bound.integer : fallback;
            if (i < 0)
                i += length;
            return i < 0 ? i64(0) : i > length ? length : i;
        };
        i64 begin = clamp(first, has_first, 0), end = clamp(second, has_second, length);
        if (end < begin)
            end = begin;
        if (v.kind == Value::Kind::String)
            return Value::of_string(v.string.substring(size_t(begin), size_t(end - begin)));
        Value slice = v;
        slice.start = v.start + size_t(begin), slice.count = size_t(end - begin);
        return slice;
    }
    TRY(expect_operator("]"));
    if (first.kind == Value::Kind::String)
        return attribute(v, first.string);
    if (first.kind == Value::Kind::Integer && v.kind == Value::Kind::Messages) {
        i64 i = first.integer < 0 ? first.integer + i64(v.count) : first.integer;
        if (i >= 0 && i < i64(v.count))
            return Value { Value::Kind::Message, false, 0, {}, v.start + size_t(i), 1 };
        if (!m_quiet)
            return error("messages[{}] is out of range ({} messages)", first.integer, v.count);
    }
    return Value {};
}

rt::ErrorOr<Value> Renderer::call_arguments(Value* arguments, size_t capacity, size_t& count)
{
    count = 0;
    TRY(expect_operator("("));
    while (!at_operator(")")) {
        Value v = TRY(expression());
        if (count < capacity)
            arguments[count++] = v;
        if (!at_operator(")"))
            TRY(expect_operator(","));
    }
    ++m_at;
    return Value {};
}

rt::StringView Renderer::trim(rt::StringView s, bool left, bool right)
{
    while (left && !s.is_empty() && is_space(s[0]))
        s = s.substring(1);
    while (right && !s.is_empty() && is_space(s[s.length() - 1]))
        s = s.substring(0, s.length() - 1);
    return s;
}

rt::ErrorOr<Value> Renderer::change_case(rt::StringView s, bool upper)
{
    rt::StringView copy = TRY(store(s));
    char* p = const_cast<char*>(copy.begin());
    for (size_t i = 0; i < copy.length(); ++i) {
        if (upper && p[i] >= 'a' && p[i] <= 'z')
            p[i] = char(p[i] - 32);
        if (!upper && p[i] >= 'A' && p[i] <= 'Z')
            p[i] = char(p[i] + 32);
    }
    return Value::of_string(copy);
}

rt::ErrorOr<Value> Renderer::apply(Value const& v, rt::StringView name, Value const* arguments, size_t count)
{
    if (name == "length" || name == "count")
        return Value::of_integer(v.kind == Value::Kind::Messages ? i64(v.count) : i64(v.string.length()));
    if (name == "string")
        return Value::of_string(TRY(to_text(v)));
    if (v.kind != Value::Kind::String) {
        if (m_quiet || v.kind == Value::Kind::Undefined)
            return Value {};
        return error("'{}' applies to strings", name);
    }
    if (name == "strip" || name == "trim")
        return Value::of_string(trim(v.string, true, true));
    if (name == "lstrip")
        return Value::of_string(trim(v.string, true, false));
    if (name == "rstrip")
        return Value::of_string(trim(v.string, false, true));
    if (name == "lower" || name == "upper")
        return change_case(v.string, name == "upper");
    if ((name == "startswith" || name == "endswith") && count == 1 && arguments[0].kind == Value::Kind::String)
        return Value::of_bool(name == "startswith" ? v.string.starts_with(arguments[0].string) : v.string.ends_with(arguments[0].string));
    return error("unsupported method or filter '{}'", name);
}

rt::ErrorOr<Value> Renderer::postfix(Value value)
{
    while (true) {
        if (at_operator(".")) {
            ++m_at;
            rt::StringView name = TRY(expect_name());
            if (at_operator("(")) {
                Value arguments[2];
                size_t count;
                TRY(call_arguments(arguments, 2, count));
                value = TRY(apply(value, name, arguments, count));
            } else {
                value = attribute(value, name);
            }
        } else if (at_operator("[")) {
            ++m_at;
            value = TRY(subscript(value));
        } else if (at_operator("|")) {
            ++m_at;
            rt::StringView name = TRY(expect_name());
            Value arguments[2];
            size_t count = 0;
            if (at_operator("("))
                TRY(call_arguments(arguments, 2, count));
            value = TRY(apply(value, name, arguments, count));
        } else if (at_name("is")) {
            ++m_at;
            bool negate = at_name("not");
            m_at += negate;
            rt::StringView test = TRY(expect_name());
            bool result;
            if (test == "defined")
                result = value.kind != Value::Kind::Undefined;
            else if (test == "undefined")
                result = value.kind == Value::Kind::Undefined;
            else if (test == "none")
                result = value.kind == Value::Kind::None;
            else if (test == "string")
                result = value.kind == Value::Kind::String;
            else
                return error("unsupported test 'is {}'", test);
            value = Value::of_bool(result != negate);
        } else {
            return value;
        }
    }
}

}
