// The chat template's macros: {% macro name(a, b=default) %}...{% endmacro %} defines one
// (its body is skipped where it stands), name(x, b=y) runs it. As in Jinja, a call's value
// is the text its body writes, its parameters and `set`s are its own, and the template's
// other variables (namespaces included) are seen from inside.
#include "chat_template_renderer.h"

namespace app::chat_template_detail {

rt::ErrorOr<void> Renderer::define_macro()
{
    rt::StringView name = TRY(expect_name());
    if (m_macro_count == max_macros)
        return error("more than {} macros", max_macros);
    TRY(expect_operator("("));
    size_t parameters = m_at;
    // Past the parameter list to the tag's close (defaults are read when the macro is called).
    ++m_quiet;
    while (!at_operator(")")) {
        TRY(expect_name());
        if (at_operator("=")) {
            ++m_at;
            TRY(expression());
        }
        if (!at_operator(")"))
            TRY(expect_operator(","));
    }
    --m_quiet;
    ++m_at;
    TRY(end_of_tag());
    size_t at = m_at;
    if (TRY(skip(at)) != Block::Endmacro)
        return error("a macro is not closed by endmacro");
    m_macros[m_macro_count++] = { name, parameters, m_at };
    m_at = at + 2;
    return end_of_tag();
}

Renderer::Macro const* Renderer::find_macro(rt::StringView name) const
{
    for (size_t i = m_macro_count; i > 0; --i)
        if (m_macros[i - 1].name == name)
            return &m_macros[i - 1];
    return nullptr;
}

rt::ErrorOr<Value> Renderer::call_macro(Macro const& macro, Argument const* arguments, size_t count)
{
    DepthGuard guard = nesting();
    if (guard.too_deep())
        return too_deep_error();
    size_t return_to = m_at, scope = m_variable_count, outer_scope = m_scope, output_start = m_length;
    // The parameters: by position, by name, else their defaults (evaluated now), else undefined.
    m_at = macro.parameters;
    size_t position = 0, used = 0;
    while (!at_operator(")")) {
        rt::StringView parameter = TRY(expect_name());
        Value value;
        bool given = false;
        for (size_t i = 0; i < count; ++i)
            if (arguments[i].name == parameter) {
                value = arguments[i].value, given = true, ++used;
                break;
            }
        if (!given && position < count && arguments[position].name.is_empty())
            value = arguments[position].value, given = true, ++used;
        ++position;
        if (at_operator("=")) {
            ++m_at;
            m_quiet += given;
            Value fallback = TRY(expression());
            m_quiet -= given;
            value = given ? value : fallback;
        }
        TRY(assign(parameter, value, scope));
        if (!at_operator(")"))
            TRY(expect_operator(","));
    }
    if (used < count)
        return error("macro '{}' takes fewer arguments than the {} given", macro.name, count);
    m_scope = scope; // the macro's own `set`s stay its own
    size_t at = macro.body;
    Block end = TRY(execute(at));
    m_variable_count = scope;
    m_scope = outer_scope;
    if (end != Block::Endmacro)
        return error("{} inside macro '{}'", block_name(end), macro.name);
    // The body's output becomes the call's value.
    rt::StringView written { m_out.data() + output_start, m_length - output_start };
    Value text = Value::of_string(TRY(store(written)));
    m_length = output_start;
    m_at = return_to;
    return text;
}

}
