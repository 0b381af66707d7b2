// The chat template's expressions: or/and/not, comparisons, arithmetic, literals,
// variables, attributes, subscripts, filters and methods, evaluated while parsed.
#include "chat_template_renderer.h"

namespace app::chat_template_detail {

namespace {

// Integer arithmetic on values from the template: every result that would overflow, and
// division or remainder by zero or of INT64_MIN by -1 (which traps on x86), is refused
// instead of computed. `//` and `%` follow Python: the quotient is rounded down, the
// remainder takes the divisor's sign.
bool integer_operation(char op, i64 a, i64 b, i64& result)
{
    switch (op) {
    case '+': return !__builtin_add_overflow(a, b, &result);
    case '-': return !__builtin_sub_overflow(a, b, &result);
    case '*': return !__builtin_mul_overflow(a, b, &result);
    case '/': // //: Python's floor division
        if (b == 0 || (a == INT64_MIN && b == -1))
            return false;
        result = a / b;
        if (a % b != 0 && (a < 0) != (b < 0))
            --result; // opposite signs: rounded toward zero, so one more down
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

// Whether the expression from m_at is `a if b [else c]` (an `if` before it ends at this level).
bool Renderer::conditional_ahead() const
{
    i32 depth = 0;
    for (size_t at = m_at;; ++at) {
        Token const& t = m_tokens[at];
        if (t.kind == TokenKind::End || t.kind == TokenKind::ExpressionClose || t.kind == TokenKind::StatementClose)
            return false;
        if (t.kind == TokenKind::Operator) {
            if (t.text == "(" || t.text == "[" || t.text == "{")
                ++depth;
            else if (t.text == ")" || t.text == "]" || t.text == "}" || (t.text == "," && depth == 0))
                if (--depth < 0 || t.text == ",")
                    return false;
        } else if (t.kind == TokenKind::Name && depth == 0 && (t.text == "if" || t.text == "else")) {
            return t.text == "if";
        }
    }
}

rt::ErrorOr<Value> Renderer::expression()
{
    DepthGuard guard = nesting();
    if (guard.too_deep())
        return too_deep_error();
    if (!conditional_ahead())
        return or_expression();
    // a if condition else b: as in Jinja, only the side chosen is evaluated (the other is
    // read quietly), so the value is passed over first and read again when it is taken.
    size_t value_at = m_at;
    ++m_quiet;
    TRY(or_expression());
    --m_quiet;
    TRY(charge(m_at - value_at));
    if (!at_name("if"))
        return error("expected 'if'");
    ++m_at;
    bool taken = TRY(or_expression()).truthy();
    Value otherwise = Value {};
    if (at_name("else")) {
        ++m_at;
        m_quiet += taken;
        otherwise = TRY(expression());
        m_quiet -= taken;
    }
    if (!taken)
        return otherwise;
    size_t end = m_at;
    m_at = value_at;
    Value value = TRY(or_expression());
    m_at = end;
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

// Python's ==: numbers by value (True == 1), strings by bytes, lists and messages item by
// item, namespaces by identity, None and Undefined each equal only to their own kind.
bool Renderer::equal(Value const& a, Value const& b) const
{
    using Kind = Value::Kind;
    if (a.kind == Kind::String && b.kind == Kind::String)
        return a.string == b.string;
    bool a_number = a.kind == Kind::Integer || a.kind == Kind::Boolean;
    bool b_number = b.kind == Kind::Integer || b.kind == Kind::Boolean;
    if (a_number && b_number)
        return (a.kind == Kind::Integer ? a.integer : a.boolean) == (b.kind == Kind::Integer ? b.integer : b.boolean);
    if (a.is_generator() || b.is_generator()) // equal only to itself
        return a.kind == b.kind && a.start == b.start && a.count == b.count && a.boolean == b.boolean;
    if (a.is_list() && b.is_list()) {
        if (a.count != b.count)
            return false;
        for (size_t i = 0; i < a.count; ++i)
            if (!equal(item(a, i), item(b, i)))
                return false;
        return true;
    }
    if (a.kind == Kind::Message && b.kind == Kind::Message) {
        ChatMessage const& x = m_inputs.messages[a.start];
        ChatMessage const& y = m_inputs.messages[b.start];
        return x.role == y.role && x.content == y.content;
    }
    if (a.kind == Kind::Namespace && b.kind == Kind::Namespace)
        return a.start == b.start;
    if (a.kind == Kind::Function && b.kind == Kind::Function)
        return a.string == b.string;
    return a.kind == b.kind && (a.kind == Kind::None || a.kind == Kind::Undefined);
}

bool Renderer::contains(rt::StringView haystack, rt::StringView needle)
{
    for (size_t i = 0; i + needle.length() <= haystack.length(); ++i)
        if (haystack.substring(i, needle.length()) == needle)
            return true;
    return false;
}

namespace {

// Python's order of strings: byte by byte (UTF-8 keeps code points' order), shorter first.
int compare_strings(rt::StringView a, rt::StringView b)
{
    size_t n = rt::min(a.length(), b.length());
    for (size_t i = 0; i < n; ++i)
        if (a[i] != b[i])
            return u8(a[i]) < u8(b[i]) ? -1 : 1;
    return a.length() < b.length() ? -1 : a.length() > b.length() ? 1 : 0;
}

bool is_number(Value const& v) { return v.kind == Value::Kind::Integer || v.kind == Value::Kind::Boolean; }
i64 number_of(Value const& v) { return v.kind == Value::Kind::Integer ? v.integer : i64(v.boolean); }

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
            bool found = false;
            if (right.kind == Value::Kind::String && left.kind == Value::Kind::String) {
                TRY(charge(u64(right.string.length()) * rt::max<u64>(left.string.length(), 1)));
                found = contains(right.string, left.string);
            } else if (right.is_list()) {
                TRY(charge(right.count));
                for (size_t i = 0; i < right.count && !found; ++i)
                    found = equal(left, item(right, i));
            } else if (right.kind == Value::Kind::Message && left.kind == Value::Kind::String) {
                found = left.string == "role" || left.string == "content"; // a message's keys
            } else if (right.kind != Value::Kind::Undefined) { // nothing is in Jinja's undefined
                left = TRY(refuse("'in' looks for a string in a string, or an item in a list"));
                continue;
            }
            left = Value::of_bool(found != negate_in);
        } else {
            int order;
            if (is_number(left) && is_number(right)) {
                i64 a = number_of(left), b = number_of(right);
                order = a < b ? -1 : a > b ? 1 : 0;
            } else if (left.kind == Value::Kind::String && right.kind == Value::Kind::String) {
                TRY(charge(rt::min(left.string.length(), right.string.length())));
                order = compare_strings(left.string, right.string);
            } else {
                TRY(refuse("'{}' compares two numbers or two strings", op));
                left = Value {};
                continue;
            }
            left = Value::of_bool(op == "<" ? order < 0 : op == ">" ? order > 0 : op == "<=" ? order <= 0 : order >= 0);
        }
    }
}

// + and -: numbers, strings joined, lists joined.
rt::ErrorOr<Value> Renderer::additive()
{
    Value left = TRY(concatenation());
    while (at_operator("+") || at_operator("-")) {
        rt::StringView op = m_tokens[m_at++].text;
        Value right = TRY(concatenation());
        if (op == "+" && left.kind == Value::Kind::String && right.kind == Value::Kind::String) {
            left = Value::of_string(TRY(store(left.string, right.string)));
        } else if (op == "+" && left.is_list() && right.is_list() && !left.is_generator() && !right.is_generator()) {
            Value joined = TRY(new_list(left.count + right.count));
            for (size_t i = 0; i < left.count; ++i)
                list_item(joined, i) = item(left, i);
            for (size_t i = 0; i < right.count; ++i)
                list_item(joined, left.count + i) = item(right, i);
            left = joined;
        } else if (is_number(left) && is_number(right)) {
            left = TRY(arithmetic(op, number_of(left), number_of(right)));
        } else {
            left = TRY(refuse("'{}' needs two numbers, two strings or two lists (~ joins other values as text)", op));
        }
    }
    return left;
}

// ~: both sides as text (binds tighter than + and -, as in Jinja).
rt::ErrorOr<Value> Renderer::concatenation()
{
    Value left = TRY(multiplicative());
    while (at_operator("~")) {
        ++m_at;
        Value right = TRY(multiplicative());
        left = Value::of_string(TRY(store(TRY(to_text(left)), TRY(to_text(right)))));
    }
    return left;
}

// * // %: numbers, and a string repeated; `/` gives a float in Jinja, which templates here
// cannot hold.
rt::ErrorOr<Value> Renderer::multiplicative()
{
    Value left = TRY(unary());
    while (at_operator("*") || at_operator("/") || at_operator("//") || at_operator("%")) {
        rt::StringView op = m_tokens[m_at++].text;
        Value right = TRY(unary());
        if (op == "/") {
            left = TRY(refuse("'/' divides into a fraction, which BareFlow's templates do not hold (use //)"));
        } else if (is_number(left) && is_number(right)) {
            left = TRY(arithmetic(op == "//" ? "/" : op, number_of(left), number_of(right)));
        } else if (op == "*" && left.kind == Value::Kind::String && is_number(right)) {
            left = TRY(repeat(left.string, number_of(right)));
        } else if (op == "*" && is_number(left) && right.kind == Value::Kind::String) {
            left = TRY(repeat(right.string, number_of(left)));
        } else {
            left = TRY(refuse("'{}' needs two numbers", op));
        }
    }
    return left;
}

rt::ErrorOr<Value> Renderer::arithmetic(rt::StringView op, i64 a, i64 b)
{
    i64 result;
    if (integer_operation(op[0], a, b, result))
        return Value::of_integer(result);
    if ((op == "/" || op == "%") && b == 0)
        return refuse("{} {} {}: division by zero", a, op == "/" ? rt::StringView("//") : op, b);
    return refuse("{} {} {} overflows 64 bits", a, op == "/" ? rt::StringView("//") : op, b);
}

// -x, then filters and tests: Jinja applies `-x | f` to -x.
rt::ErrorOr<Value> Renderer::unary()
{
    return filters_and_tests(TRY(unary_operand()));
}

rt::ErrorOr<Value> Renderer::unary_operand()
{
    if (at_operator("-") || at_operator("+")) {
        bool minus = at_operator("-");
        ++m_at;
        Value v = TRY(unary_operand());
        if (!is_number(v))
            return refuse("unary '{}' needs a number", minus ? "-" : "+");
        return minus ? arithmetic("-", 0, number_of(v)) : Value::of_integer(number_of(v));
    }
    return postfix(TRY(primary()));
}

rt::ErrorOr<Value> Renderer::primary()
{
    Token const& t = m_tokens[m_at];
    switch (t.kind) {
    case TokenKind::String: {
        ++m_at;
        Value v = Value::of_string(t.text);
        while (peek().kind == TokenKind::String) // 'a' 'b': Python joins adjacent literals
            v = Value::of_string(TRY(store(v.string, m_tokens[m_at++].text)));
        return v;
    }
    case TokenKind::Integer: ++m_at; return Value::of_integer(t.integer);
    case TokenKind::Name:
        ++m_at;
        if (at_operator("(") && (lookup(t.text).kind == Value::Kind::Undefined || lookup(t.text).kind == Value::Kind::Function))
            return call_function(t.text);
        return lookup(t.text);
    case TokenKind::Operator:
        if (t.text == "(") {
            ++m_at;
            Value v = TRY(expression());
            TRY(expect_operator(")"));
            return v;
        }
        if (t.text == "[") {
            ++m_at;
            return list_literal();
        }
        if (t.text == "{")
            return error("dictionary literals are not supported");
        break;
    default: break;
    }
    return error("unexpected '{}' in an expression", t.kind == TokenKind::Operator ? t.text : rt::StringView("end of tag"));
}

// [a, b, ...] (the '[' read).
rt::ErrorOr<Value> Renderer::list_literal()
{
    Value items[16];
    size_t count = 0;
    while (!at_operator("]")) {
        if (count == 16)
            return error("a list literal has more than 16 items");
        items[count++] = TRY(expression());
        if (!at_operator("]"))
            TRY(expect_operator(","));
    }
    ++m_at;
    Value list = TRY(new_list(count));
    for (size_t i = 0; i < count; ++i)
        list_item(list, i) = items[i];
    return list;
}

// The functions templates call: raise_exception(message), namespace(name=value, ...) and
// range([start,] stop[, step]). Other names are undefined, and calling them an error.
rt::ErrorOr<Value> Renderer::call_function(rt::StringView name)
{
    Argument arguments[max_arguments];
    size_t count = TRY(call_arguments(arguments));
    if (Macro const* macro = find_macro(name))
        return m_quiet ? Value {} : call_macro(*macro, arguments, count);
    if (name == "raise_exception") {
        if (count != 1)
            return refuse("raise_exception takes one message");
        if (!m_quiet)
            return error("the template refuses this conversation: {}", TRY(to_text(arguments[0].value)));
        return Value {};
    }
    if (name == "strftime_now" && m_inputs.now) {
        if (count != 1 || arguments[0].value.kind != Value::Kind::String)
            return refuse("strftime_now takes a format string");
        return format_date(*m_inputs.now, arguments[0].value.string);
    }
    if (name == "namespace") {
        Value ns = TRY(new_namespace());
        for (size_t i = 0; i < count; ++i) {
            if (arguments[i].name.is_empty())
                return refuse("namespace() takes name=value arguments only");
            TRY(set_namespace_attribute(ns, arguments[i].name, arguments[i].value));
        }
        return ns;
    }
    if (name == "range") {
        i64 bounds[3] = { 0, 0, 1 };
        if (count < 1 || count > 3)
            return refuse("range() takes one to three numbers");
        for (size_t i = 0; i < count; ++i) {
            if (!is_number(arguments[i].value) || !arguments[i].name.is_empty())
                return refuse("range() takes numbers");
            bounds[count == 1 ? 1 : i] = number_of(arguments[i].value);
        }
        i64 start = bounds[0], stop = bounds[1], step = bounds[2];
        if (step == 0)
            return refuse("range() step must not be zero");
        constexpr i64 most = 100000;
        i64 n = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0) : (start > stop ? (start - stop - step - 1) / -step : 0);
        if (stop - start > most * rt::max<i64>(step, 1) || start - stop > most * rt::max<i64>(-step, 1) || n > most)
            return refuse("range() of more than {} numbers", most);
        Value list = TRY(new_list(size_t(n)));
        for (i64 i = 0; i < n; ++i)
            list_item(list, size_t(i)) = Value::of_integer(start + i * step);
        return list;
    }
    return refuse("'{}' is undefined (not a function BareFlow's templates know)", name);
}

rt::ErrorOr<Value> Renderer::attribute(Value const& v, rt::StringView key)
{
    if (v.kind == Value::Kind::Undefined)
        return refuse("an undefined value has no attribute '{}'", key);
    return attribute_of_defined(v, key);
}

Value Renderer::attribute_of_defined(Value const& v, rt::StringView key) const
{
    if (v.kind == Value::Kind::Message) {
        ChatMessage const& m = m_inputs.messages[v.start];
        if (key == "role")
            return Value::of_string(m.role);
        if (key == "content")
            return Value::of_string(m.content);
    } else if (v.kind == Value::Kind::Namespace) {
        return namespace_attribute(v, key);
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

namespace {

// Python's slice bounds for a sequence of `length`: start, stop and step as slice.indices() gives them.
struct SliceBounds {
    i64 start, stop, step;
    size_t count() const
    {
        if (step > 0)
            return stop > start ? size_t((stop - start + step - 1) / step) : 0;
        return start > stop ? size_t((start - stop - step - 1) / -step) : 0;
    }
};

SliceBounds slice_bounds(i64 length, Value const* start, Value const* stop, i64 step)
{
    auto clamp = [&](Value const* bound, i64 fallback) {
        if (!bound || !is_number(*bound))
            return fallback;
        i64 i = number_of(*bound);
        if (i < 0)
            i += length;
        i64 low = step > 0 ? 0 : -1, high = step > 0 ? length : length - 1;
        return i < low ? low : i > high ? high : i;
    };
    return { clamp(start, step > 0 ? 0 : length - 1), clamp(stop, step > 0 ? length : -1), step };
}

}

rt::ErrorOr<Value> Renderer::subscript(Value const& v)
{
    // [index], [start:stop:step] (any may be missing), ['key']
    Value bounds[3] = {};
    bool given[3] = {};
    size_t parts = 1;
    while (true) {
        if (!at_operator(":") && !at_operator("]")) {
            bounds[parts - 1] = TRY(expression());
            given[parts - 1] = true;
        }
        if (!at_operator(":") || parts == 3)
            break;
        ++m_at;
        ++parts;
    }
    TRY(expect_operator("]"));
    if (v.kind == Value::Kind::Undefined)
        return refuse("an undefined value cannot be subscripted");
    if (v.is_generator())
        return Value {}; // Jinja: a generator has no items to index, so undefined
    if (parts > 1) {
        i64 step = given[2] && is_number(bounds[2]) ? number_of(bounds[2]) : 1;
        if (step == 0)
            return refuse("a slice step must not be zero");
        if (!v.is_list() && v.kind != Value::Kind::String)
            return refuse("only lists and strings can be sliced");
        SliceBounds s = slice_bounds(i64(length_of(v)), given[0] ? &bounds[0] : nullptr, given[1] ? &bounds[1] : nullptr, step);
        size_t n = s.count();
        if (v.kind == Value::Kind::String) { // by characters
            if (step == 1) {
                size_t from = character_offset(v.string, size_t(s.start));
                return Value::of_string(v.string.substring(from, character_offset(v.string, size_t(s.start) + n) - from));
            }
            TRY(charge(n * 4 + v.string.length()));
            size_t start = m_arena_used;
            for (size_t i = 0; i < n; ++i)
                TRY(store(character_at(v.string, size_t(s.start + i64(i) * step))));
            return Value::of_string({ m_arena.data() + start, m_arena_used - start });
        }
        if (step == 1 && v.kind == Value::Kind::Messages) {
            Value slice = v;
            slice.start = v.start + size_t(s.start), slice.count = n;
            return slice;
        }
        Value list = TRY(new_list(n));
        for (size_t i = 0; i < n; ++i)
            list_item(list, i) = item(v, size_t(s.start + i64(i) * step));
        return list;
    }
    Value const& key = bounds[0];
    if (key.kind == Value::Kind::String)
        return attribute_of_defined(v, key.string);
    if (is_number(key) && (v.is_list() || v.kind == Value::Kind::String)) {
        i64 length = i64(length_of(v)), i = number_of(key);
        if (i < 0)
            i += length;
        if (i < 0 || i >= length)
            return Value {}; // Jinja: undefined
        if (v.kind == Value::Kind::String)
            return Value::of_string(character_at(v.string, size_t(i)));
        return item(v, size_t(i));
    }
    return Value {};
}

// (a, b, name=c): up to max_arguments (the '(' is next).
rt::ErrorOr<size_t> Renderer::call_arguments(Argument* arguments)
{
    size_t count = 0;
    TRY(expect_operator("("));
    while (!at_operator(")")) {
        if (count == max_arguments)
            return error("a call has more than {} arguments", max_arguments);
        rt::StringView name;
        if (peek().kind == TokenKind::Name && m_tokens[m_at + 1].kind == TokenKind::Operator && m_tokens[m_at + 1].text == "=") {
            name = peek().text;
            m_at += 2;
        }
        arguments[count++] = { name, TRY(expression()) };
        if (!at_operator(")"))
            TRY(expect_operator(","));
    }
    ++m_at;
    return count;
}

// A method's or filter's arguments, if any, then its value. Apart from postfix and
// filters_and_tests, which every nested expression passes through: the arguments' room
// would otherwise be on the stack at each level (the kernel's stack is 256 KiB).
rt::ErrorOr<Value> Renderer::call_method(Value const& value, rt::StringView name, bool filter)
{
    Argument arguments[max_arguments];
    size_t count = 0;
    if (at_operator("(") || !filter)
        count = TRY(call_arguments(arguments));
    return apply(value, name, arguments, count, filter);
}

// .name, .method(...), [subscript]
rt::ErrorOr<Value> Renderer::postfix(Value value)
{
    while (true) {
        if (at_operator(".")) {
            ++m_at;
            rt::StringView name = TRY(expect_name());
            if (at_operator("(")) {
                value = TRY(call_method(value, name, false));
            } else {
                value = TRY(attribute(value, name));
            }
        } else if (at_operator("[")) {
            ++m_at;
            value = TRY(subscript(value));
        } else {
            return value;
        }
    }
}

// | filter, | filter(...), is test, is not test
rt::ErrorOr<Value> Renderer::filters_and_tests(Value value)
{
    while (true) {
        if (at_operator("|")) {
            ++m_at;
            rt::StringView name = TRY(expect_name());
            value = TRY(call_method(value, name, true));
        } else if (at_name("is")) {
            ++m_at;
            value = TRY(test(value));
        } else {
            return value;
        }
    }
}

// After `is`: [not] NAME, with an argument in parentheses or as one operand (`is divisibleby 3`).
rt::ErrorOr<Value> Renderer::test(Value const& v)
{
    bool negate = at_name("not");
    m_at += negate;
    rt::StringView name = TRY(expect_name());
    Value argument;
    bool has_argument = false;
    if (at_operator("(")) {
        Argument arguments[max_arguments];
        size_t count = TRY(call_arguments(arguments));
        has_argument = count > 0;
        if (has_argument)
            argument = arguments[0].value;
    } else {
        Token const& t = peek();
        bool keyword = t.kind == TokenKind::Name && (t.text == "else" || t.text == "or" || t.text == "and" || t.text == "is" || t.text == "if");
        bool operand = t.kind == TokenKind::String || t.kind == TokenKind::Integer || (t.kind == TokenKind::Name && !keyword)
            || (t.kind == TokenKind::Operator && (t.text == "(" || t.text == "["));
        if (operand) {
            argument = TRY(postfix(TRY(primary())));
            has_argument = true;
        }
    }
    bool result = TRY(passes(v, name, has_argument ? &argument : nullptr));
    return Value::of_bool(result != negate);
}

}
