#pragma once
// Renders a GGUF's tokenizer.chat_template: the subset of Jinja that chat templates use,
// with the settings Hugging Face renders them with (trim_blocks, lstrip_blocks, loop
// controls, one trailing newline dropped), to the same bytes Python's jinja2 gives
// (tests/host/chat_template_test.py compares them).
//
// Supported: text, {{ expressions }}, {# comments #}, whitespace control ({%- -%});
// statements if/elif/else, for NAME in LIST [if CONDITION] (loop.index, index0, revindex,
// first, last, length; break, continue), set NAME and set NAMESPACE.NAME, macro (with
// defaults); literals (strings, integers, true/false/none, lists), namespace(), range();
// message['key'] and .key, indexes, slices with steps, + - * // % ~ == != < > <= >= and or
// not in, `a if b else c`; Jinja's tests (defined, none, string, number, odd, equalto ...);
// filters and methods on strings and lists (trim, split, replace, title, join, selectattr,
// map, first, last, list, default, tojson ...), raise_exception() and strftime_now() (where
// the inputs give a date); enable_thinking where the inputs set it. Anything else (dicts, floats, call blocks) is an error naming
// what was not understood, so the caller can fall back to a known format.
#include <rt/date_time.h>
#include <rt/error.h>
#include <rt/span.h>

namespace app {

struct ChatMessage {
    rt::StringView role; // "system", "user" or "assistant"
    rt::StringView content;
};

// The reasoning switch Qwen3's template (and others) reads as enable_thinking: left
// undefined, as Hugging Face leaves it unless asked (the template's own default: think),
// or set.
enum class Thinking : u8 { Undefined, On, Off };

struct ChatTemplateInputs {
    rt::Span<const ChatMessage> messages;
    bool add_generation_prompt;
    rt::StringView bos_token;
    rt::StringView eos_token;
    // Today, for strftime_now(format) (Hugging Face's: the local date and time); null leaves
    // strftime_now undefined, as templates that check for it expect.
    rt::DateTime const* now = nullptr;
    Thinking thinking = Thinking::Undefined;
};

// Writes the rendered text to `out` and returns its length.
rt::ErrorOr<size_t> render_chat_template(rt::StringView source, ChatTemplateInputs const&, rt::Span<char> out);

}
