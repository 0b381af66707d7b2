#pragma once
// Renders a GGUF's tokenizer.chat_template: the subset of Jinja that chat templates use,
// with the settings Hugging Face renders them with (trim_blocks, lstrip_blocks).
//
// Supported: text, {{ expressions }}, {# comments #}, whitespace control ({%- -%});
// statements if/elif/else/endif, for ... in ... /endfor (with loop.index, index0, first,
// last, length), set; literals (strings, integers, true/false/none), names, message['key']
// and message.key, slices [a:b], + ~ - * / % == != < > <= >= and or not in, "is defined"
// style tests, the filters trim/length/lower/upper/string, string methods strip/lstrip/
// rstrip/lower/upper/startswith/endswith, and raise_exception(). Anything else is an error
// naming what was not understood, so the caller can fall back to a known format.
#include <rt/error.h>
#include <rt/span.h>

namespace app {

struct ChatMessage {
    rt::StringView role; // "system", "user" or "assistant"
    rt::StringView content;
};

struct ChatTemplateInputs {
    rt::Span<const ChatMessage> messages;
    bool add_generation_prompt;
    rt::StringView bos_token;
    rt::StringView eos_token;
};

// Writes the rendered text to `out` and returns its length.
rt::ErrorOr<size_t> render_chat_template(rt::StringView source, ChatTemplateInputs const&, rt::Span<char> out);

}
