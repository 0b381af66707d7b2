// The chat-template renderer on the templates real GGUF files carry, and on bad input.
#include "../../app/chat/chat_template.h"
#include "chat_templates.h"
#include "models.h"
#include <gtest/gtest.h>
#include <pthread.h>
#include <string>
#include <vector>

namespace {

using namespace testing_support::chat_templates;

struct Rendered {
    std::string text;
    std::string error;
};

Rendered render(std::string const& source, std::vector<app::ChatMessage> const& messages, bool add_generation_prompt, size_t capacity = 4096)
{
    testing_support::ScopedHeap heap(4 << 20);
    std::vector<char> out(capacity);
    app::ChatTemplateInputs inputs { { messages.data(), messages.size() }, add_generation_prompt, "<s>", "</s>" };
    auto n = app::render_chat_template({ source.data(), source.size() }, inputs, { out.data(), out.size() });
    if (n.is_error())
        return { "", std::string(n.error().message().data(), n.error().message().length()) };
    return { std::string(out.data(), n.value()), "" };
}

TEST(ChatTemplate, RendersTinyLlamaChat)
{
    auto r = render(tinyllama, { { "system", "You are kind." }, { "user", "Hi" } }, true);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.text, "<|system|>\nYou are kind.</s>\n<|user|>\nHi</s>\n<|assistant|>\n");
    r = render(tinyllama, { { "user", "Hi" }, { "assistant", "Hello!" } }, false);
    EXPECT_EQ(r.text, "<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n");
}

TEST(ChatTemplate, RendersLlama2Chat)
{
    auto r = render(llama2, { { "system", "S" }, { "user", "Hi " }, { "assistant", " Hello" }, { "user", "Bye" } }, true);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.text, "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST] Hello </s><s>[INST] Bye [/INST]");
    r = render(llama2, { { "user", "Hi" } }, true);
    EXPECT_EQ(r.text, "<s>[INST] Hi [/INST]");
    r = render(llama2, { { "user", "a" }, { "user", "b" } }, true);
    EXPECT_EQ(r.error, "chat template: the template refuses this conversation: Conversation roles must alternate user/assistant/user/assistant/...");
}

TEST(ChatTemplate, RendersChatMl)
{
    auto r = render(chatml, { { "user", "Hi" } }, true);
    EXPECT_EQ(r.text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, RendersSmolLm2Chat)
{
    auto r = render(smollm2, { { "user", "Hi" } }, true);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.text, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    r = render(smollm2, { { "system", "Be brief." }, { "user", "Hi" } }, true);
    EXPECT_EQ(r.text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, WhitespaceControlAndExpressions)
{
    EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c", {}, false).text, "abc");
    EXPECT_EQ(render("  {% if true %}\nx{% endif %}\n", {}, false).text, "x"); // lstrip_blocks, trim_blocks
    EXPECT_EQ(render("{{ 1 + 2 * 3 }} {{ 7 % 3 }} {{ 'ab' ~ 5 }} {{ 'x' if false else 'y' }}", {}, false).text, "7 1 ab5 y");
    EXPECT_EQ(render("{{ messages | length }}{{ messages[-1].content | upper }}{{ messages[0]['role'] is defined }}", { { "user", "hi" } }, false).text,
        "1HITrue");
    EXPECT_EQ(render("{{ foo is defined }}{{ foo }}{% if 'ell' in 'hello' and not false %}!{% endif %}", {}, false).text, "False!");
    EXPECT_EQ(render("{# a comment #}{% for m in messages %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}",
                  { { "user", "a" }, { "assistant", "b" } }, false)
                  .text,
        "1/2,2/2");
}

// What the templates of DeepSeek's, Mistral's and llama.cpp's own files need beyond the
// basics (chat_template_test.py compares far more with jinja2 itself).
TEST(ChatTemplate, NamespacesMacrosAndLoopControls)
{
    std::vector<app::ChatMessage> chat { { "system", "S" }, { "user", "a</think>b" }, { "assistant", "x</think>y" }, { "user", "c" } };
    EXPECT_EQ(render("{% set ns = namespace(n=0, seen='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.seen = ns.seen ~ m.role[0] %}"
                     "{% endfor %}{{ ns.n }} {{ ns.seen }}",
                  chat, false)
                  .text,
        "4 suau");
    EXPECT_EQ(render("{% macro turn(role, text='?') %}<{{ role }}:{{ text | trim }}>{% set local = 1 %}{% endmacro %}"
                     "{% for m in messages if m.role != 'system' %}{{ turn(m.role, m.content.split('</think>')[-1]) }}{% endfor %}"
                     "{{ turn('x') }}{{ local is defined }}",
                  chat, false)
                  .text,
        "<user:b><assistant:y><user:c><x:?>False");
    EXPECT_EQ(render("{% for m in messages %}{% if loop.index0 == 0 %}{% continue %}{% endif %}{% if m.role == 'assistant' %}{% break %}"
                     "{% endif %}{{ m.content }}{% endfor %}.",
                  chat, false)
                  .text,
        "a</think>b.");
    EXPECT_EQ(render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('|') }}", chat, false).text, "a</think>b|c");
    EXPECT_EQ(render("{{ (messages | selectattr('role', 'equalto', 'user') | list)[-1] == messages[3] }}", chat, false).text, "True");
    EXPECT_EQ(render("{{ messages[1:] | tojson }}", { { "user", "q\"\n" } }, false).text, "[]");
    EXPECT_EQ(render("{{ messages | tojson }}", { { "user", "q\"\n\x01é" } }, false).text, "[{\"role\": \"user\", \"content\": \"q\\\"\\n\\u0001é\"}]");
}

// However a template nests (parentheses, list literals, calls, conditionals, macros calling
// themselves), it is refused before the renderer has used 128 KiB of stack: run here on a
// thread with 160 KiB, as in the kernel (256 KiB, ~30 used before a chat starts).
TEST(ChatTemplate, DeepNestingFitsTheKernelsStack)
{
    auto repeated = [](std::string const& open, std::string const& middle, std::string const& close) {
        std::string s = "{{ ";
        for (int i = 0; i < 60; ++i)
            s += open;
        s += middle;
        for (int i = 0; i < 60; ++i)
            s += close;
        return s + " }}";
    };
    static std::vector<std::string> sources;
    sources = { repeated("(", "1", ")"), repeated("[", "1", "]"), repeated("namespace(x=", "1", ")"), repeated("'a' if true else (", "1", ")"),
        repeated("(messages | selectattr('role', 'equalto', ", "'user'", ") | list)"),
        "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}x{% endmacro %}{{ f(100) }}" };
    static std::vector<std::string> errors;
    errors.clear();
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    constexpr size_t stack = 1 << 20; // the sanitizers' frames are several times larger: memory safety is what is checked there
#else
    constexpr size_t stack = 160 << 10;
#endif
#else
    constexpr size_t stack = 160 << 10;
#endif
    pthread_attr_setstacksize(&attributes, stack);
    pthread_t thread;
    ASSERT_EQ(pthread_create(
                  &thread, &attributes,
                  [](void*) -> void* {
                      for (auto const& source : sources)
                          errors.push_back(render(source, { { "user", "hi" } }, true).error);
                      return nullptr;
                  },
                  nullptr),
        0);
    pthread_join(thread, nullptr);
    ASSERT_EQ(errors.size(), sources.size());
    for (auto const& e : errors)
        EXPECT_EQ(e, "chat template: expressions or blocks nest too deeply (more than 48 levels or 128 KiB of stack)");
}

TEST(ChatTemplate, RefusesWhatItDoesNotUnderstand)
{
    EXPECT_EQ(render("{% call f() %}{% endcall %}", {}, false).error, "chat template: unsupported statement 'call'");
    EXPECT_EQ(render("{{ 'a' ", {}, false).error, "chat template: a {{ tag is not closed");
    EXPECT_EQ(render("{% if true %}x", {}, false).error, "chat template: an if block is not closed by endif");
    EXPECT_EQ(render("{% endfor %}", {}, false).error, "chat template: endfor without a matching opening tag");
    EXPECT_EQ(render("{{ 'x' | wordwrap }}", {}, false).error, "chat template: unsupported method or filter 'wordwrap'");
    EXPECT_EQ(render("{{ {'a': 1} }}", {}, false).error, "chat template: dictionary literals are not supported");
    EXPECT_EQ(render("{{ 1.5 }}", {}, false).error, "chat template: numbers with a fraction are not supported");
    EXPECT_EQ(render("{{ 3 / 2 }}", {}, false).error, "chat template: '/' divides into a fraction, which BareFlow's templates do not hold (use //)");
    EXPECT_EQ(render("{{ strftime_now('%d') }}", {}, false).error, "chat template: 'strftime_now' is undefined (not a function BareFlow's templates know)");
    EXPECT_EQ(render("{{ nothing.at_all }}", {}, false).error, "chat template: an undefined value has no attribute 'at_all'");
    EXPECT_EQ(render("{% break %}", {}, false).error, "chat template: break outside a for loop");
    EXPECT_EQ(render("{% set x.y = 1 %}", {}, false).error, "chat template: 'set x.y' needs x to be a namespace()");
    EXPECT_EQ(render("{% macro f() %}{% for m in messages %}{% endmacro %}", {}, false).error, "chat template: a macro is not closed by endmacro");
    EXPECT_EQ(render("{{ range(1000000) | length }}", {}, false).error, "chat template: range() of more than 100000 numbers");
    EXPECT_EQ(render("{{ range(20000) | list | length }}", {}, false).error, "chat template: lists grow beyond 16384 items");
    EXPECT_EQ(render("{{ 'abc' }}", {}, false, 2).error, "chat template: the rendered text is longer than 2 bytes");
    EXPECT_EQ(render("{{ 'a' + 1 }}", {}, false).error, "chat template: '+' needs two numbers, two strings or two lists (~ joins other values as text)");
    std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
    EXPECT_EQ(render(deep, {}, false).error, "chat template: expressions or blocks nest too deeply (more than 48 levels or 128 KiB of stack)");
    std::string nested;
    for (int i = 0; i < 100; ++i)
        nested += "{% if true %}";
    EXPECT_EQ(render(nested, {}, false).error, "chat template: expressions or blocks nest too deeply (more than 48 levels or 128 KiB of stack)");
}

}

namespace {

// Renders with a big output buffer, so only the renderer's own limits can stop it.
Rendered render_many(std::string const& source, size_t messages)
{
    std::vector<app::ChatMessage> conversation(messages, app::ChatMessage { "user", "hello there" });
    return render(source, conversation, true, 256 << 10);
}

// Without the budget these renders run for minutes (the suite's timeout fails them); with
// it they stop with the error. No timing is asserted: sanitized builds run several times slower.
TEST(ChatTemplate, LoopsAndOutputHaveAWorkBudget)
{
    // Six loops over 20 messages: 64 million passes, which would run for minutes.
    std::string nested;
    for (int i = 0; i < 6; ++i)
        nested += "{% for m" + std::to_string(i) + " in messages %}";
    for (int i = 0; i < 6; ++i)
        nested += "{% endfor %}";
    Rendered r = render_many(nested, 20);
    EXPECT_NE(r.error.find("chat template: rendering needs more than"), std::string::npos) << r.error;

    // Quiet work counts too: a branch not taken is still passed over on every pass.
    std::string skipped = "{% for a in messages %}{% for b in messages %}{% for c in messages %}{% if false %}"
        + std::string(200, 'x') + "{{ 1 }}{% endif %}{% endfor %}{% endfor %}{% endfor %}";
    r = render_many(skipped, 200);
    EXPECT_NE(r.error.find("rendering needs more than"), std::string::npos) << r.error;

    // Output: each pass writes a long string, far more in all than the budget allows.
    std::string wide = "{% for a in messages %}{% for b in messages %}{{ '" + std::string(1000, 'y') + "' ~ a.content }}{% endfor %}{% endfor %}";
    std::vector<app::ChatMessage> conversation(100, app::ChatMessage { "user", "hi" });
    testing_support::ScopedHeap heap(64 << 20);
    std::vector<char> out(8 << 20);
    app::ChatTemplateInputs inputs { { conversation.data(), conversation.size() }, true, "<s>", "</s>" };
    auto n = app::render_chat_template({ wide.data(), wide.size() }, inputs, { out.data(), out.size() });
    ASSERT_TRUE(n.is_error());
    EXPECT_NE(std::string(n.error().message().data(), n.error().message().length()).find("rendering needs more than"), std::string::npos);

    // A real template over a long conversation stays well inside the budget.
    std::vector<app::ChatMessage> long_chat;
    for (int i = 0; i < 200; ++i)
        long_chat.push_back({ i % 2 ? "assistant" : "user", "a message of ordinary length, about one sentence" });
    EXPECT_EQ(render(chatml, long_chat, true, 64 << 10).error, "");
}

TEST(ChatTemplate, IntegerArithmeticNeverTraps)
{
    // INT64_MIN without overflow: -(2^40) * 2^23.
    std::string min = "((0 - 1099511627776) * 8388608)";
    EXPECT_EQ(render("{{ " + min + " }}", {}, false).text, "-9223372036854775808");
    EXPECT_EQ(render("{{ " + min + " // -1 }}", {}, false).error, "chat template: -9223372036854775808 // -1 overflows 64 bits");
    EXPECT_EQ(render("{{ " + min + " % -1 }}", {}, false).text, "0");
    EXPECT_EQ(render("{{ " + min + " % 7 }}", {}, false).text, "6");
    EXPECT_EQ(render("{{ -7 % " + min + " }}", {}, false).text, "-7");
    EXPECT_EQ(render("{{ 7 % " + min + " }}", {}, false).text, "-9223372036854775801");
    EXPECT_EQ(render("{{ -" + min + " }}", {}, false).error, "chat template: 0 - -9223372036854775808 overflows 64 bits");
    EXPECT_EQ(render("{{ " + min + " - 1 }}", {}, false).error, "chat template: -9223372036854775808 - 1 overflows 64 bits");
    EXPECT_EQ(render("{{ 0 - " + min + " }}", {}, false).error, "chat template: 0 - -9223372036854775808 overflows 64 bits");
    EXPECT_EQ(render("{{ (1099511627776 * 8388607 + 1099511627775) + 1099511627776 }}", {}, false).error,
        "chat template: 9223372036854775807 + 1099511627776 overflows 64 bits");
    EXPECT_EQ(render("{{ 1099511627776 * 1099511627776 }}", {}, false).error, "chat template: 1099511627776 * 1099511627776 overflows 64 bits");
    EXPECT_EQ(render("{{ 5 // 0 }}", {}, false).error, "chat template: 5 // 0: division by zero");
    EXPECT_EQ(render("{{ 5 % 0 }}", {}, false).error, "chat template: 5 % 0: division by zero");
    EXPECT_EQ(render("{{ 12345678901234567 }}", {}, false).error, "chat template: an integer literal is larger than 1099511627776");
    // Python's signs for % and its rounding down for //.
    EXPECT_EQ(render("{{ -7 % 3 }} {{ 7 % -3 }} {{ -7 // 2 }} {{ 7 // -2 }} {{ 7 // 2 }} {{ -8 // 2 }}", {}, false).text, "2 -2 -4 -4 3 -4");
    // In a branch not taken nothing is reported.
    EXPECT_EQ(render("{% if false and 1 // 0 %}x{% endif %}ok", {}, false).text, "ok");
}

}
