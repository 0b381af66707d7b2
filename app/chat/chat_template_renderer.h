#pragma once
// The chat template's renderer (chat_template.h): a Jinja subset, evaluated while it is
// parsed from chat_template_lexer.h's tokens. Its expressions are defined in
// chat_template_expressions.cpp; its statements, and what both use, in chat_template.cpp.
#include "chat_template.h"
#include "chat_template_lexer.h"
#include <rt/format.h>
#include <rt/heap.h>

namespace app::chat_template_detail {

using jinja::error;
using jinja::is_space;
using jinja::Token;
using jinja::TokenKind;

struct Value {
    // List: items [start, start + count) of the renderer's item pool (`boolean` set: a
    // generator, as Jinja's select, reject, map and reverse give); Namespace: its number
    // in `start`; Message: its index; Messages: a slice of the conversation; Loop: index and length.
    enum class Kind : u8 { Undefined, None, Boolean, Integer, String, Message, Messages, List, Namespace, Loop, Function };
    Kind kind { Kind::Undefined };
    bool boolean {};
    i64 integer {};
    rt::StringView string;
    size_t start {}, count {};

    static Value of_bool(bool b) { return { Kind::Boolean, b, 0, {}, 0, 0 }; }
    static Value of_integer(i64 i) { return { Kind::Integer, false, i, {}, 0, 0 }; }
    static Value of_string(rt::StringView s) { return { Kind::String, false, 0, s, 0, 0 }; }
    static Value none() { return { Kind::None, false, 0, {}, 0, 0 }; }
    bool is_list() const { return kind == Kind::List || kind == Kind::Messages; }
    // Python generators have no length or index, and are true even when empty.
    bool is_generator() const { return kind == Kind::List && boolean; }
    bool truthy() const
    {
        switch (kind) {
        case Kind::Boolean: return boolean;
        case Kind::Integer: return integer != 0;
        case Kind::String: return !string.is_empty();
        case Kind::Messages: return count != 0;
        case Kind::List: return boolean || count != 0;
        case Kind::Message:
        case Kind::Namespace:
        case Kind::Function:
        case Kind::Loop: return true;
        default: return false;
        }
    }
};

// Python counts and indexes strings by character: here, UTF-8's lead bytes.
inline bool is_continuation(char c) { return (u8(c) & 0xC0) == 0x80; }
inline size_t characters(rt::StringView s)
{
    size_t n = 0;
    for (char c : s)
        n += !is_continuation(c);
    return n;
}
// Where character `index` begins (the length when there are not that many).
inline size_t character_offset(rt::StringView s, size_t index)
{
    size_t at = 0;
    for (; at < s.length(); ++at)
        if (!is_continuation(s[at]) && index-- == 0)
            return at;
    return at;
}
inline rt::StringView character_at(rt::StringView s, size_t index)
{
    size_t start = character_offset(s, index), end = start + 1;
    while (end < s.length() && is_continuation(s[end]))
        ++end;
    return s.substring(start, end - start);
}

// A call's argument: positional, or name=value.
struct Argument {
    rt::StringView name;
    Value value;
};

class Renderer {
public:
    Renderer(rt::StringView source, ChatTemplateInputs const& inputs, rt::Span<char> out) : m_source(source), m_inputs(inputs), m_out(out) {}

    rt::ErrorOr<size_t> run();

private:
    // Where running a block stopped: its end, a tag that continues or closes it, or a loop control.
    enum class Block : u8 { End, Elif, Else, Endif, Endfor, Endmacro, Break, Continue };
    static const char* block_name(Block b);

    // ---- helpers over the token stream ----

    Token const& peek() const { return m_tokens[m_at]; }
    bool at_operator(rt::StringView op) const { return peek().kind == TokenKind::Operator && peek().text == op; }
    bool at_name(rt::StringView name) const { return peek().kind == TokenKind::Name && peek().text == name; }
    rt::ErrorOr<void> expect_operator(rt::StringView op);
    rt::ErrorOr<void> expect(TokenKind kind, const char* what);
    rt::ErrorOr<rt::StringView> expect_name();
    rt::ErrorOr<rt::StringView> store(rt::StringView a, rt::StringView b = {});
    // A value as Jinja prints it: a string as itself, integers in `digits`, lists and
    // messages as Python's repr (stored).
    rt::ErrorOr<rt::StringView> text_of(Value const& v, char (&digits)[24]);
    rt::ErrorOr<rt::StringView> to_text(Value const& v); // the same, integers stored

    // Loops multiply work: two nested loops over messages already square it, and nothing
    // else bounds them. Every loop pass, tag, skipped token and byte written or compared
    // is charged to one budget, so any template ends promptly, rendered or refused.
    rt::ErrorOr<void> charge(u64 units);
    rt::ErrorOr<void> emit(rt::StringView text);

    // ---- variables ----

    struct Variable {
        rt::StringView name;
        Value value;
    };
    rt::ErrorOr<void> assign(rt::StringView name, Value value, size_t scope);
    Value lookup(rt::StringView name) const;

    // ---- lists and namespaces (pools that grow while rendering, bounded) ----

    static size_t length_of(Value const& v);
    Value item(Value const& list, size_t i) const;
    rt::ErrorOr<Value> new_list(size_t count); // items undefined until written
    Value& list_item(Value const& list, size_t i) { return m_items[list.start + i]; }
    rt::ErrorOr<Value> new_namespace();
    Value namespace_attribute(Value const& ns, rt::StringView name) const;
    rt::ErrorOr<void> set_namespace_attribute(Value const& ns, rt::StringView name, Value value);

    // ---- expressions (evaluated while parsed; m_quiet > 0 inside branches not taken) ----

    // Nesting (parentheses, blocks, macro calls) is bounded: the template comes from a file,
    // and the kernel's stack is 256 KiB, of which a run otherwise uses about 30. A level of
    // nesting takes some 5 KiB of frames (every fallible step holds an ErrorOr), so the
    // stack the renderer has used is bounded as well as the count of levels.
    class DepthGuard {
    public:
        DepthGuard(u32& depth, uptr stack_start) : m_depth(depth), m_stack_start(stack_start) { ++m_depth; }
        ~DepthGuard() { --m_depth; }
        bool too_deep() const
        {
            uptr here = uptr(__builtin_frame_address(0));
            return m_depth > max_depth || (m_stack_start > here && m_stack_start - here > max_stack);
        }

    private:
        u32& m_depth;
        uptr m_stack_start;
    };
    static constexpr u32 max_depth = 48;
    static constexpr uptr max_stack = 128 * 1024;
    DepthGuard nesting() { return DepthGuard(m_depth, m_stack_start); }
    rt::Error too_deep_error() const;

    rt::ErrorOr<Value> expression();
    bool conditional_ahead() const;

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

    rt::ErrorOr<Value> not_expression();
    bool equal(Value const& a, Value const& b) const;
    static bool contains(rt::StringView haystack, rt::StringView needle);
    rt::ErrorOr<Value> comparison();
    rt::ErrorOr<Value> additive();
    rt::ErrorOr<Value> concatenation();
    rt::ErrorOr<Value> multiplicative();

    // An integer operation, or an error naming it when it has no defined result (quietly
    // undefined in branches not taken).
    rt::ErrorOr<Value> arithmetic(rt::StringView op, i64 a, i64 b);
    rt::ErrorOr<Value> unary();
    rt::ErrorOr<Value> unary_operand(); // -x without the filters that follow
    rt::ErrorOr<Value> primary();
    // Those with room for items or arguments on the stack are kept out of line (see call_method).
    [[gnu::noinline]] rt::ErrorOr<Value> list_literal();
    [[gnu::noinline]] rt::ErrorOr<Value> call_function(rt::StringView name);
    [[gnu::noinline]] rt::ErrorOr<Value> call_method(Value const& value, rt::StringView name, bool filter);
    // A quiet error in branches not taken (undefined), a real one elsewhere.
    template<typename... Args>
    [[gnu::noinline]] rt::ErrorOr<Value> refuse(rt::StringView format, Args const&... args)
    {
        if (m_quiet)
            return Value {};
        return error(format, args...);
    }

    // What `key` names on a value: message['role'], loop.index, ...
    // Jinja's Undefined raises on attribute access: so does `undefined.key` here.
    rt::ErrorOr<Value> attribute(Value const& v, rt::StringView key);
    Value attribute_of_defined(Value const& v, rt::StringView key) const;
    [[gnu::noinline]] rt::ErrorOr<Value> subscript(Value const& v);
    static constexpr size_t max_arguments = 4;
    rt::ErrorOr<size_t> call_arguments(Argument* arguments);
    rt::ErrorOr<Value> postfix(Value value);
    rt::ErrorOr<Value> filters_and_tests(Value value);
    [[gnu::noinline]] rt::ErrorOr<Value> test(Value const& v); // after `is` / `is not`

    // ---- filters, methods and tests (chat_template_filters.cpp) ----

    static rt::StringView trim(rt::StringView s, bool left, bool right);
    rt::ErrorOr<Value> change_case(rt::StringView s, bool upper);
    rt::ErrorOr<Value> title_case(rt::StringView s, bool python_method);
    rt::ErrorOr<Value> replace(rt::StringView s, rt::StringView old, rt::StringView with);
    rt::ErrorOr<Value> split(rt::StringView s, Value const* separator);
    rt::ErrorOr<Value> join(Value const& list, rt::StringView separator);
    rt::ErrorOr<Value> repeat(rt::StringView s, i64 times);
    rt::ErrorOr<Value> select_by_attribute(Value const& list, Argument const* arguments, size_t count, bool keep);
    rt::ErrorOr<Value> attribute_of_each(Value const& list, Argument const* arguments, size_t count);
    rt::ErrorOr<Value> to_json(Value const& v);
    rt::ErrorOr<void> write_json(Value const& v, u32 depth);
    rt::ErrorOr<void> write_json_string(rt::StringView s);
    rt::ErrorOr<void> write_repr(Value const& v, u32 depth);
    rt::ErrorOr<void> write_repr_string(rt::StringView s);
    rt::ErrorOr<bool> passes(Value const& v, rt::StringView test, Value const* argument);
    rt::ErrorOr<Value> format_date(rt::DateTime const& date, rt::StringView format); // strftime_now's
    // String methods and filters share their names: strip/trim, lower, upper, ...
    [[gnu::noinline]] rt::ErrorOr<Value> apply(Value const& v, rt::StringView name, Argument const* arguments, size_t count, bool filter);

    // ---- statements ----

    // The keyword of the statement tag at `at`, if it is one.
    rt::StringView keyword_at(size_t at) const;
    static Block block_of(rt::StringView keyword);

    // Moves past a tag's remaining tokens to its close.
    rt::ErrorOr<void> end_of_tag();

    // Runs tokens from `at` until a block tag of this level (left at `at`) or the end, or
    // a break or continue (`at` past it).
    rt::ErrorOr<Block> execute(size_t& at);

    // Skips to the next block tag of this level (nested if/for blocks are passed over).
    rt::ErrorOr<Block> skip(size_t& at);
    // Both return End, or the Break or Continue their body met (the block then skipped to its end).
    rt::ErrorOr<Block> run_if();
    rt::ErrorOr<Block> run_for();
    rt::ErrorOr<void> run_for_body(rt::StringView name, Value const& list, size_t body, size_t& at);
    rt::ErrorOr<void> run_set();

    // ---- macros (chat_template_macros.cpp) ----

    struct Macro {
        rt::StringView name;
        size_t parameters; // the token after the macro's '('
        size_t body;       // the token after its tag
    };
    static constexpr size_t max_macros = 16;
    rt::ErrorOr<void> define_macro();
    Macro const* find_macro(rt::StringView name) const;
    // Runs a macro with the call's arguments; its output is the call's value (a string).
    rt::ErrorOr<Value> call_macro(Macro const& macro, Argument const* arguments, size_t count);

    static constexpr size_t max_variables = 32;
    static constexpr size_t max_attributes = 64; // of all namespaces together
    static constexpr size_t max_items = 16384;   // of all lists together
    struct Attribute {
        size_t owner; // the namespace's number
        rt::StringView name;
        Value value;
    };
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
    size_t m_scope { 0 }; // where the innermost loop's variables begin: `set` there shadows outer ones
    rt::HeapArray<Value> m_items;
    size_t m_item_count { 0 };
    Attribute m_attributes[max_attributes] {};
    size_t m_attribute_count { 0 };
    size_t m_namespace_count { 0 };
    Macro m_macros[max_macros] {};
    size_t m_macro_count { 0 };
    u32 m_quiet { 0 };
    u32 m_depth { 0 };
    uptr m_stack_start { 0 }; // run()'s frame
    size_t m_work_left { work_budget };
};

}
