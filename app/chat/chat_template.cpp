// The chat template's statements (if, for, set, output), the token stream and the
// variables the expressions read; and render_chat_template, which runs them.
#include "chat_template_renderer.h"

namespace app::chat_template_detail {

rt::ErrorOr<size_t> Renderer::run()
{
    m_stack_start = uptr(__builtin_frame_address(0));
    m_tokens = TRY(rt::HeapArray<Token>::allocate(jinja::token_capacity(m_source.length())));
    m_arena = TRY(rt::HeapArray<char>::allocate(4 * m_source.length() + 4096 + 4 * m_out.size()));
    m_items = TRY(rt::HeapArray<Value>::allocate(1024)); // grows as lists are made (never reclaimed: the work budget bounds them)
    m_count = TRY(jinja::lex(m_source, m_tokens.span(), m_arena.span(), m_arena_used));
    size_t at = 0;
    auto end = TRY(execute(at));
    if (end == Block::Break || end == Block::Continue)
        return error("{} outside a for loop", block_name(end));
    if (end != Block::End)
        return error("{} without a matching opening tag", block_name(end));
    return m_length;
}

rt::Error Renderer::too_deep_error() const
{
    return error("expressions or blocks nest too deeply (more than {} levels or {} KiB of stack)", max_depth, max_stack / 1024);
}

const char* Renderer::block_name(Block b)
{
    switch (b) {
    case Block::Elif: return "elif";
    case Block::Else: return "else";
    case Block::Endif: return "endif";
    case Block::Endfor: return "endfor";
    case Block::Endmacro: return "endmacro";
    case Block::Break: return "break";
    case Block::Continue: return "continue";
    default: return "end of template";
    }
}

rt::ErrorOr<void> Renderer::expect_operator(rt::StringView op)
{
    if (!at_operator(op))
        return error("expected '{}'", op);
    ++m_at;
    return {};
}

rt::ErrorOr<void> Renderer::expect(TokenKind kind, const char* what)
{
    if (peek().kind != kind)
        return error("expected {}", what);
    ++m_at;
    return {};
}

rt::ErrorOr<rt::StringView> Renderer::expect_name()
{
    if (peek().kind != TokenKind::Name)
        return error("expected a name");
    return m_tokens[m_at++].text;
}

rt::ErrorOr<rt::StringView> Renderer::store(rt::StringView a, rt::StringView b)
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

rt::ErrorOr<rt::StringView> Renderer::text_of(Value const& v, char (&digits)[24])
{
    rt::BufferSink sink(digits, sizeof digits);
    switch (v.kind) {
    case Value::Kind::String: return v.string;
    case Value::Kind::Integer: rt::format_to(sink, "{}", v.integer); return sink.view();
    case Value::Kind::Boolean: return rt::StringView(v.boolean ? "True" : "False");
    case Value::Kind::None: return rt::StringView("None");
    case Value::Kind::Undefined: return rt::StringView();
    case Value::Kind::Message:
    case Value::Kind::Messages:
    case Value::Kind::List:
        if (!v.is_generator()) { // Python's repr, stored
            size_t start = m_arena_used;
            TRY(write_repr(v, 0));
            return rt::StringView { m_arena.data() + start, m_arena_used - start };
        }
        [[fallthrough]];
    default:
        if (m_quiet)
            return rt::StringView();
        return error("a generator, namespace or loop cannot be printed");
    }
}

rt::ErrorOr<rt::StringView> Renderer::to_text(Value const& v)
{
    char digits[24];
    rt::StringView text = TRY(text_of(v, digits));
    return v.kind == Value::Kind::Integer ? store(text) : text;
}

rt::ErrorOr<void> Renderer::charge(u64 units)
{
    if (units > m_work_left)
        return error("rendering needs more than {} steps of work (loops nested over the messages?)", work_budget);
    m_work_left -= size_t(units);
    return {};
}

rt::ErrorOr<void> Renderer::emit(rt::StringView text)
{
    TRY(charge(text.length()));
    if (m_length + text.length() > m_out.size())
        return error("the rendered text is longer than {} bytes", m_out.size());
    for (char c : text)
        m_out[m_length++] = c;
    return {};
}

rt::ErrorOr<void> Renderer::assign(rt::StringView name, Value value, size_t scope)
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

Value Renderer::lookup(rt::StringView name) const
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
    if (name == "strftime_now" && m_inputs.now) // defined only where there is a clock
        return { Value::Kind::Function, false, 0, name, 0, 0 };
    if (name == "enable_thinking" && m_inputs.thinking != Thinking::Undefined)
        return Value::of_bool(m_inputs.thinking == Thinking::On);
    return {};
}

size_t Renderer::length_of(Value const& v)
{
    return v.is_list() ? v.count : v.kind == Value::Kind::String ? characters(v.string) : 0;
}

Value Renderer::item(Value const& list, size_t i) const
{
    if (list.kind == Value::Kind::Messages)
        return { Value::Kind::Message, false, 0, {}, list.start + i, 1 };
    return m_items[list.start + i];
}

rt::ErrorOr<Value> Renderer::new_list(size_t count)
{
    TRY(charge(count));
    if (count > max_items - m_item_count)
        return error("lists grow beyond {} items", max_items);
    if (count > m_items.size() - m_item_count) { // twice the room (items are found by index: moving them is safe)
        auto larger = TRY(rt::HeapArray<Value>::allocate(rt::min(max_items, rt::max(2 * m_items.size(), m_item_count + count))));
        for (size_t i = 0; i < m_item_count; ++i)
            larger[i] = m_items[i];
        m_items = static_cast<rt::HeapArray<Value>&&>(larger);
    }
    Value list { Value::Kind::List, false, 0, {}, m_item_count, count };
    for (size_t i = 0; i < count; ++i)
        m_items[m_item_count + i] = Value {};
    m_item_count += count;
    return list;
}

rt::ErrorOr<Value> Renderer::new_namespace()
{
    return Value { Value::Kind::Namespace, false, 0, {}, m_namespace_count++, 0 };
}

Value Renderer::namespace_attribute(Value const& ns, rt::StringView name) const
{
    for (size_t i = 0; i < m_attribute_count; ++i)
        if (m_attributes[i].owner == ns.start && m_attributes[i].name == name)
            return m_attributes[i].value;
    return {};
}

rt::ErrorOr<void> Renderer::set_namespace_attribute(Value const& ns, rt::StringView name, Value value)
{
    for (size_t i = 0; i < m_attribute_count; ++i)
        if (m_attributes[i].owner == ns.start && m_attributes[i].name == name) {
            m_attributes[i].value = value;
            return {};
        }
    if (m_attribute_count == max_attributes)
        return error("more than {} namespace attributes", max_attributes);
    m_attributes[m_attribute_count++] = { ns.start, name, value };
    return {};
}

rt::StringView Renderer::keyword_at(size_t at) const
{
    if (m_tokens[at].kind != TokenKind::StatementOpen || m_tokens[at + 1].kind != TokenKind::Name)
        return {};
    return m_tokens[at + 1].text;
}

Renderer::Block Renderer::block_of(rt::StringView keyword)
{
    return keyword == "elif"   ? Block::Elif
        : keyword == "else"     ? Block::Else
        : keyword == "endif"    ? Block::Endif
        : keyword == "endfor"   ? Block::Endfor
        : keyword == "endmacro" ? Block::Endmacro
                                : Block::End;
}

rt::ErrorOr<void> Renderer::end_of_tag()
{
    return expect(TokenKind::StatementClose, "'%}'");
}

rt::ErrorOr<Renderer::Block> Renderer::execute(size_t& at)
{
    DepthGuard guard = nesting();
    if (guard.too_deep())
        return too_deep_error();
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
            if (keyword == "break" || keyword == "continue") {
                TRY(end_of_tag());
                at = m_at;
                return keyword == "break" ? Block::Break : Block::Continue;
            }
            Block control = Block::End;
            if (keyword == "if")
                control = TRY(run_if());
            else if (keyword == "for")
                control = TRY(run_for());
            else if (keyword == "set")
                TRY(run_set());
            else if (keyword == "macro")
                TRY(define_macro());
            else
                return error("unsupported statement '{}'", keyword.is_empty() ? rt::StringView("(none)") : keyword);
            at = m_at;
            if (control != Block::End)
                return control;
            break;
        }
        default: return error("a stray token outside a tag");
        }
    }
}

rt::ErrorOr<Renderer::Block> Renderer::skip(size_t& at)
{
    i32 depth = 0;
    for (;; ++at) {
        TRY(charge(1));
        if (m_tokens[at].kind == TokenKind::End)
            return Block::End;
        rt::StringView keyword = keyword_at(at);
        if (keyword == "if" || keyword == "for" || keyword == "macro")
            ++depth;
        else if (depth > 0 && (keyword == "endif" || keyword == "endfor" || keyword == "endmacro"))
            --depth;
        else if (depth == 0 && block_of(keyword) != Block::End)
            return block_of(keyword);
    }
}

rt::ErrorOr<Renderer::Block> Renderer::run_if()
{
    bool taken = false;
    Block control = Block::End; // a break or continue met in the branch taken
    bool condition = TRY(expression()).truthy();
    TRY(end_of_tag());
    size_t at = m_at;
    while (true) {
        Block b;
        if (condition && !taken) {
            taken = true;
            b = TRY(execute(at));
            if (b == Block::Break || b == Block::Continue) {
                control = b;
                b = TRY(skip(at));
            }
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
            TRY(end_of_tag());
            return control;
        } else {
            return error("an if block is not closed by endif");
        }
        TRY(end_of_tag());
        at = m_at;
    }
}

// for NAME in LIST [if CONDITION]: the condition picks the items first, as Jinja does (loop.length
// counts those).
rt::ErrorOr<Renderer::Block> Renderer::run_for()
{
    rt::StringView name = TRY(expect_name());
    if (!at_name("in"))
        return error("only 'for NAME in LIST' loops are supported");
    ++m_at;
    Value list = TRY(or_expression()); // not `a if b else c`: an `if` here filters the loop
    if (list.kind == Value::Kind::Undefined)
        list = Value { Value::Kind::List, false, 0, {}, 0, 0 };
    if (!list.is_list())
        return error("for loops run over lists only");
    if (at_name("if")) {
        ++m_at;
        size_t condition = m_at, scope = m_variable_count;
        Value kept = TRY(new_list(list.count));
        size_t count = 0;
        for (size_t i = 0; i < list.count; ++i) {
            m_at = condition;
            TRY(assign(name, item(list, i), scope));
            if (TRY(expression()).truthy())
                list_item(kept, count++) = item(list, i);
        }
        m_variable_count = scope;
        if (list.count == 0) { // the condition is still parsed, quietly
            ++m_quiet;
            TRY(expression());
            --m_quiet;
        }
        kept.count = count;
        list = kept;
    }
    TRY(end_of_tag());
    size_t at = m_at;
    TRY(run_for_body(name, list, m_at, at));
    m_at = at + 2;
    TRY(end_of_tag());
    return Block::End;
}

// Runs the body at `body` for each item; leaves `at` at the endfor tag.
rt::ErrorOr<void> Renderer::run_for_body(rt::StringView name, Value const& list, size_t body, size_t& at)
{
    size_t scope = m_variable_count, outer_scope = m_scope;
    m_scope = scope;
    struct ScopeRestore {
        size_t& scope;
        size_t outer;
        ~ScopeRestore() { scope = outer; }
    } restore { m_scope, outer_scope };
    at = body;
    for (size_t i = 0; i < list.count; ++i) {
        TRY(charge(1));
        TRY(assign(name, item(list, i), scope));
        TRY(assign("loop", Value { Value::Kind::Loop, false, 0, {}, i, list.count }, scope));
        at = body;
        Block b = TRY(execute(at));
        m_variable_count = scope; // what the body set stays in the body
        if (b == Block::Break || b == Block::Continue) {
            Block end = TRY(skip(at));
            if (end != Block::Endfor)
                return error("a for block is not closed by endfor");
            if (b == Block::Break)
                return {};
            continue;
        }
        if (b != Block::Endfor)
            return error("a for block is not closed by endfor");
    }
    if (list.count == 0 && TRY(skip(at)) != Block::Endfor)
        return error("a for block is not closed by endfor");
    return {};
}

// set NAME = VALUE, or set NAMESPACE.ATTRIBUTE = VALUE (the one way to carry a value out of a loop).
rt::ErrorOr<void> Renderer::run_set()
{
    rt::StringView name = TRY(expect_name());
    rt::StringView attribute_name;
    if (at_operator(".")) {
        ++m_at;
        attribute_name = TRY(expect_name());
    }
    TRY(expect_operator("="));
    Value value = TRY(expression());
    TRY(end_of_tag());
    if (attribute_name.is_empty())
        return assign(name, value, m_scope); // in a loop, the loop's own variable (Jinja's scoping)
    Value ns = lookup(name);
    if (ns.kind != Value::Kind::Namespace)
        return error("'set {}.{}' needs {} to be a namespace()", name, attribute_name, name);
    return set_namespace_attribute(ns, attribute_name, value);
}

}

namespace app {

rt::ErrorOr<size_t> render_chat_template(rt::StringView source, ChatTemplateInputs const& inputs, rt::Span<char> out)
{
    chat_template_detail::Renderer renderer(source, inputs, out);
    return renderer.run();
}

}
