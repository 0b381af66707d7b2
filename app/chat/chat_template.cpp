#include "chat_template.h"
#include "chat_template_lexer.h"
#include <rt/format.h>
#include <rt/heap.h>

namespace app {

namespace {

using jinja::error;
using jinja::is_space;
using jinja::Token;
using jinja::TokenKind;

struct Value {
    enum class Kind : u8 { Undefined, None, Boolean, Integer, String, Message, Messages, Loop };
    Kind kind { Kind::Undefined };
    bool boolean {};
    i64 integer {};
    rt::StringView string;
    size_t start {}, count {}; // Message: its index; Messages: a slice; Loop: index and length

    static Value of_bool(bool b) { return { Kind::Boolean, b, 0, {}, 0, 0 }; }
    static Value of_integer(i64 i) { return { Kind::Integer, false, i, {}, 0, 0 }; }
    static Value of_string(rt::StringView s) { return { Kind::String, false, 0, s, 0, 0 }; }
    bool truthy() const
    {
        switch (kind) {
        case Kind::Boolean: return boolean;
        case Kind::Integer: return integer != 0;
        case Kind::String: return !string.is_empty();
        case Kind::Messages: return count != 0;
        case Kind::Message:
        case Kind::Loop: return true;
        default: return false;
        }
    }
};

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

class Renderer {
public:
    Renderer(rt::StringView source, ChatTemplateInputs const& inputs, rt::Span<char> out) : m_source(source), m_inputs(inputs), m_out(out) {}

    rt::ErrorOr<size_t> run()
    {
        m_tokens = TRY(rt::HeapArray<Token>::allocate(jinja::token_capacity(m_source.length())));
        m_arena = TRY(rt::HeapArray<char>::allocate(4 * m_source.length() + 4096 + 4 * m_out.size()));
        m_count = TRY(jinja::lex(m_source, m_tokens.span(), m_arena.span(), m_arena_used));
        size_t at = 0;
        auto end = TRY(execute(at));
        if (end != Block::End)
            return error("{} without a matching opening tag", block_name(end));
        return m_length;
    }

private:
    enum class Block : u8 { End, Elif, Else, Endif, Endfor };
    static const char* block_name(Block b)
    {
        switch (b) {
        case Block::Elif: return "elif";
        case Block::Else: return "else";
        case Block::Endif: return "endif";
        case Block::Endfor: return "endfor";
        default: return "end of template";
        }
    }

    // ---- helpers over the token stream ----

    Token const& peek() const { return m_tokens[m_at]; }
    bool at_operator(rt::StringView op) const { return peek().kind == TokenKind::Operator && peek().text == op; }
    bool at_name(rt::StringView name) const { return peek().kind == TokenKind::Name && peek().text == name; }
    rt::ErrorOr<void> expect_operator(rt::StringView op)
    {
        if (!at_operator(op))
            return error("expected '{}'", op);
        ++m_at;
        return {};
    }
    rt::ErrorOr<void> expect(TokenKind kind, const char* what)
    {
        if (peek().kind != kind)
            return error("expected {}", what);
        ++m_at;
        return {};
    }
    rt::ErrorOr<rt::StringView> expect_name()
    {
        if (peek().kind != TokenKind::Name)
            return error("expected a name");
        return m_tokens[m_at++].text;
    }

    rt::ErrorOr<rt::StringView> store(rt::StringView a, rt::StringView b = {})
    {
        TRY(charge(a.length() + b.length()));
        if (m_arena_used + a.length() + b.length() > m_arena.size())
            return error("strings grow beyond {} bytes", m_arena.size());
        char* start = m_arena.data() + m_arena_used;
        for (size_t i = 0; i < a.length(); ++i)
            start[i] = a[i];
        for (size_t i = 0; i < b.length(); ++i)
            start[a.length() + i] = b[i];
        m_arena_used += a.length() + b.length();
        return rt::StringView { start, a.length() + b.length() };
    }

    rt::ErrorOr<rt::StringView> to_text(Value const& v)
    {
        char digits[24];
        rt::BufferSink sink(digits, sizeof digits);
        switch (v.kind) {
        case Value::Kind::String: return v.string;
        case Value::Kind::Integer: rt::format_to(sink, "{}", v.integer); return store(sink.view());
        case Value::Kind::Boolean: return rt::StringView(v.boolean ? "True" : "False");
        case Value::Kind::None: return rt::StringView("None");
        case Value::Kind::Undefined: return rt::StringView();
        default: return error("a list or message cannot be printed");
        }
    }

    // Loops multiply work: two nested loops over messages already square it, and nothing
    // else bounds them. Every loop pass, tag, skipped token and byte written or compared
    // is charged to one budget, so any template ends promptly, rendered or refused.
    rt::ErrorOr<void> charge(u64 units)
    {
        if (units > m_work_left)
            return error("rendering needs more than {} steps of work (loops nested over the messages?)", work_budget);
        m_work_left -= size_t(units);
        return {};
    }

    rt::ErrorOr<void> emit(rt::StringView text)
    {
        TRY(charge(text.length()));
        if (m_length + text.length() > m_out.size())
            return error("the rendered text is longer than {} bytes", m_out.size());
        for (char c : text)
            m_out[m_length++] = c;
        return {};
    }

    // ---- variables ----

    struct Variable {
        rt::StringView name;
        Value value;
    };
    rt::ErrorOr<void> assign(rt::StringView name, Value value, size_t scope)
    {
        for (size_t i = m_variable_count; i > scope; --i)
            if (m_variables[i - 1].name == name) {
                m_variables[i - 1].value = value;
                return {};
            }
        if (m_variable_count == max_variables)
            return error("more than {} variables", max_variables);
        m_variables[m_variable_count++] = { name, value };
        return {};
    }

    Value lookup(rt::StringView name) const
    {
        for (size_t i = m_variable_count; i > 0; --i)
            if (m_variables[i - 1].name == name)
                return m_variables[i - 1].value;
        if (name == "messages")
            return { Value::Kind::Messages, false, 0, {}, 0, m_inputs.messages.size() };
        if (name == "add_generation_prompt")
            return Value::of_bool(m_inputs.add_generation_prompt);
        if (name == "bos_token")
            return Value::of_string(m_inputs.bos_token);
        if (name == "eos_token")
            return Value::of_string(m_inputs.eos_token);
        if (name == "true" || name == "True")
            return Value::of_bool(true);
        if (name == "false" || name == "False")
            return Value::of_bool(false);
        if (name == "none" || name == "None")
            return { Value::Kind::None, false, 0, {}, 0, 0 };
        return {};
    }

    // ---- expressions (evaluated while parsed; m_quiet > 0 inside branches not taken) ----

    // Nesting (parentheses, blocks) is bounded: the template comes from a file, and the
    // kernel's stack is small.
    class DepthGuard {
    public:
        explicit DepthGuard(u32& depth) : m_depth(depth) { ++m_depth; }
        ~DepthGuard() { --m_depth; }
        bool too_deep() const { return m_depth > max_depth; }

    private:
        u32& m_depth;
    };
    static constexpr u32 max_depth = 48;

    rt::ErrorOr<Value> expression()
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

    // `a or b` and `a and b`: Python's short circuit. The right side is still parsed when
    // the left decides, quietly, so a raise_exception there does not fire.
    template<typename Operand>
    rt::ErrorOr<Value> short_circuit(rt::StringView op, bool decided_when, Operand operand)
    {
        Value value = TRY(operand());
        while (at_name(op)) {
            ++m_at;
            bool decided = value.truthy() == decided_when;
            m_quiet += decided;
            Value right = TRY(operand());
            m_quiet -= decided;
            value = decided ? value : right;
        }
        return value;
    }
    rt::ErrorOr<Value> or_expression() { return short_circuit("or", true, [this] { return and_expression(); }); }
    rt::ErrorOr<Value> and_expression() { return short_circuit("and", false, [this] { return not_expression(); }); }

    rt::ErrorOr<Value> not_expression()
    {
        if (at_name("not")) {
            ++m_at;
            return Value::of_bool(!TRY(not_expression()).truthy());
        }
        return comparison();
    }

    static bool equal(Value const& a, Value const& b)
    {
        if (a.kind == Value::Kind::String && b.kind == Value::Kind::String)
            return a.string == b.string;
        bool a_number = a.kind == Value::Kind::Integer || a.kind == Value::Kind::Boolean;
        bool b_number = b.kind == Value::Kind::Integer || b.kind == Value::Kind::Boolean;
        if (a_number && b_number)
            return (a.kind == Value::Kind::Integer ? a.integer : a.boolean) == (b.kind == Value::Kind::Integer ? b.integer : b.boolean);
        return a.kind == b.kind && (a.kind == Value::Kind::None || a.kind == Value::Kind::Undefined);
    }

    static bool contains(rt::StringView haystack, rt::StringView needle)
    {
        for (size_t i = 0; i + needle.length() <= haystack.length(); ++i)
            if (haystack.substring(i, needle.length()) == needle)
                return true;
        return false;
    }

    rt::ErrorOr<Value> comparison()
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

    rt::ErrorOr<Value> additive()
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

    rt::ErrorOr<Value> multiplicative()
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

    // An integer operation, or an error naming it when it has no defined result (quietly
    // undefined in branches not taken).
    rt::ErrorOr<Value> arithmetic(rt::StringView op, i64 a, i64 b)
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

    rt::ErrorOr<Value> unary()
    {
        if (at_operator("-")) {
            ++m_at;
            Value v = TRY(unary());
            return v.kind == Value::Kind::Integer ? arithmetic("-", 0, v.integer) : Value::of_integer(0);
        }
        return postfix(TRY(primary()));
    }

    rt::ErrorOr<Value> primary()
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

    // What `key` names on a value: message['role'], loop.index, ...
    Value attribute(Value const& v, rt::StringView key) const
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

    rt::ErrorOr<Value> subscript(Value const& v)
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

    rt::ErrorOr<Value> call_arguments(Value* arguments, size_t capacity, size_t& count)
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

    static rt::StringView trim(rt::StringView s, bool left, bool right)
    {
        while (left && !s.is_empty() && is_space(s[0]))
            s = s.substring(1);
        while (right && !s.is_empty() && is_space(s[s.length() - 1]))
            s = s.substring(0, s.length() - 1);
        return s;
    }

    rt::ErrorOr<Value> change_case(rt::StringView s, bool upper)
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

    // String methods and filters share their names: strip/trim, lower, upper, ...
    rt::ErrorOr<Value> apply(Value const& v, rt::StringView name, Value const* arguments, size_t count)
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

    rt::ErrorOr<Value> postfix(Value value)
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

    // ---- statements ----

    // The keyword of the statement tag at `at`, if it is one.
    rt::StringView keyword_at(size_t at) const
    {
        if (m_tokens[at].kind != TokenKind::StatementOpen || m_tokens[at + 1].kind != TokenKind::Name)
            return {};
        return m_tokens[at + 1].text;
    }

    static Block block_of(rt::StringView keyword)
    {
        return keyword == "elif" ? Block::Elif : keyword == "else" ? Block::Else : keyword == "endif" ? Block::Endif : keyword == "endfor" ? Block::Endfor : Block::End;
    }

    // Moves past a tag's remaining tokens to its close.
    rt::ErrorOr<void> end_of_tag()
    {
        return expect(TokenKind::StatementClose, "'%}'");
    }

    // Runs tokens from `at` until a block tag of this level (left at `at`) or the end.
    rt::ErrorOr<Block> execute(size_t& at)
    {
        DepthGuard guard(m_depth);
        if (guard.too_deep())
            return error("expressions or blocks nest deeper than {}", max_depth);
        while (true) {
            TRY(charge(1));
            Token const& t = m_tokens[at];
            switch (t.kind) {
            case TokenKind::End: return Block::End;
            case TokenKind::Text:
                TRY(emit(t.text));
                ++at;
                break;
            case TokenKind::ExpressionOpen: {
                m_at = at + 1;
                Value v = TRY(expression());
                TRY(expect(TokenKind::ExpressionClose, "'}}'"));
                TRY(emit(TRY(to_text(v))));
                at = m_at;
                break;
            }
            case TokenKind::StatementOpen: {
                rt::StringView keyword = keyword_at(at);
                if (Block b = block_of(keyword); b != Block::End)
                    return b;
                m_at = at + 2;
                if (keyword == "if")
                    TRY(run_if());
                else if (keyword == "for")
                    TRY(run_for());
                else if (keyword == "set")
                    TRY(run_set());
                else
                    return error("unsupported statement '{}'", keyword.is_empty() ? rt::StringView("(none)") : keyword);
                at = m_at;
                break;
            }
            default: return error("a stray token outside a tag");
            }
        }
    }

    // Skips to the next block tag of this level (nested if/for blocks are passed over).
    rt::ErrorOr<Block> skip(size_t& at)
    {
        i32 depth = 0;
        for (;; ++at) {
            TRY(charge(1));
            if (m_tokens[at].kind == TokenKind::End)
                return Block::End;
            rt::StringView keyword = keyword_at(at);
            if (keyword == "if" || keyword == "for")
                ++depth;
            else if (depth > 0 && (keyword == "endif" || keyword == "endfor"))
                --depth;
            else if (depth == 0 && block_of(keyword) != Block::End)
                return block_of(keyword);
        }
    }

    rt::ErrorOr<void> run_if()
    {
        bool taken = false;
        bool condition = TRY(expression()).truthy();
        TRY(end_of_tag());
        size_t at = m_at;
        while (true) {
            Block b;
            if (condition && !taken) {
                taken = true;
                b = TRY(execute(at));
            } else {
                b = TRY(skip(at));
            }
            m_at = at + 2;
            if (b == Block::Elif) {
                m_quiet += taken;
                condition = TRY(expression()).truthy();
                m_quiet -= taken;
            } else if (b == Block::Else) {
                condition = true;
            } else if (b == Block::Endif) {
                return end_of_tag();
            } else {
                return error("an if block is not closed by endif");
            }
            TRY(end_of_tag());
            at = m_at;
        }
    }

    rt::ErrorOr<void> run_for()
    {
        rt::StringView name = TRY(expect_name());
        if (!at_name("in"))
            return error("only 'for NAME in LIST' loops are supported");
        ++m_at;
        Value list = TRY(expression());
        TRY(end_of_tag());
        if (list.kind != Value::Kind::Messages && list.kind != Value::Kind::Undefined)
            return error("for loops run over messages only");
        size_t body = m_at, at = body;
        size_t scope = m_variable_count;
        for (size_t i = 0; i < list.count; ++i) {
            TRY(charge(1));
            TRY(assign(name, Value { Value::Kind::Message, false, 0, {}, list.start + i, 1 }, scope));
            TRY(assign("loop", Value { Value::Kind::Loop, false, 0, {}, i, list.count }, scope));
            at = body;
            Block b = TRY(execute(at));
            m_variable_count = scope; // what the body set stays in the body
            if (b != Block::Endfor)
                return error("a for block is not closed by endfor");
        }
        if (list.count == 0 && TRY(skip(at)) != Block::Endfor)
            return error("a for block is not closed by endfor");
        m_at = at + 2;
        return end_of_tag();
    }

    rt::ErrorOr<void> run_set()
    {
        rt::StringView name = TRY(expect_name());
        TRY(expect_operator("="));
        Value value = TRY(expression());
        TRY(end_of_tag());
        return assign(name, value, 0);
    }

    static constexpr size_t max_variables = 32;
    // Real chat templates need a few thousand steps per conversation turn.
    static constexpr size_t work_budget = size_t(1) << 22;

    rt::StringView m_source;
    ChatTemplateInputs const& m_inputs;
    rt::Span<char> m_out;
    size_t m_length { 0 };
    rt::HeapArray<Token> m_tokens;
    size_t m_count { 0 };
    size_t m_at { 0 };
    rt::HeapArray<char> m_arena;
    size_t m_arena_used { 0 };
    Variable m_variables[max_variables] {};
    size_t m_variable_count { 0 };
    u32 m_quiet { 0 };
    u32 m_depth { 0 };
    size_t m_work_left { work_budget };
};

}

rt::ErrorOr<size_t> render_chat_template(rt::StringView source, ChatTemplateInputs const& inputs, rt::Span<char> out)
{
    Renderer renderer(source, inputs, out);
    return renderer.run();
}

}
