// Renders chat templates with app::render_chat_template for chat_template_test.py, which
// compares the results with Python's jinja2 (the library Hugging Face renders them with).
// Reads cases from stdin until it ends, each:
//   template <bytes>\n<template source>
//   tokens <bytes>\n<bos token> <bytes>\n<eos token> <0|1: add_generation_prompt>
//   clock <year> <month> <day> <hour> <minute> <second> (year 0: no clock)
//   thinking <-1: undefined | 0 | 1>\n
//   messages <count>\n then per message: <bytes>\n<role> <bytes>\n<content>
// and writes per case "ok <bytes>\n<text>" or "error <bytes>\n<message>".
#include "../../app/chat/chat_template.h"
#include "models.h"
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

bool read_count(const char* word, size_t& count)
{
    std::string seen;
    if (!(std::cin >> seen) || seen != word || !(std::cin >> count))
        return false;
    return std::cin.get() == '\n';
}

bool read_bytes(std::string& out)
{
    size_t length;
    if (!(std::cin >> length) || std::cin.get() != '\n')
        return false;
    out.resize(length);
    return bool(std::cin.read(out.data(), std::streamsize(length)));
}

void reply(const char* kind, rt::StringView text)
{
    printf("%s %zu\n", kind, text.length());
    fwrite(text.data(), 1, text.length(), stdout);
}

}

int main()
{
    testing_support::ScopedHeap heap(64 << 20);
    std::vector<char> out(1 << 20);
    while (std::cin.peek() != EOF) {
        size_t length, count;
        std::string source, bos, eos, generation;
        if (!read_count("template", length))
            return fprintf(stderr, "render_templates: expected a case\n"), 2;
        source.resize(length);
        std::cin.read(source.data(), std::streamsize(length));
        std::string word;
        int add_generation_prompt = 0, clock[6] = {}, thinking = -1;
        std::string clock_word, thinking_word;
        if (!(std::cin >> word) || word != "tokens" || !read_bytes(bos) || !read_bytes(eos) || !(std::cin >> add_generation_prompt)
            || !(std::cin >> clock_word) || clock_word != "clock" || !(std::cin >> clock[0] >> clock[1] >> clock[2] >> clock[3] >> clock[4] >> clock[5])
            || !(std::cin >> thinking_word) || thinking_word != "thinking" || !(std::cin >> thinking)
            || !read_count("messages", count))
            return fprintf(stderr, "render_templates: a case's tokens or messages are malformed\n"), 2;
        std::vector<std::string> texts(2 * count);
        for (size_t i = 0; i < 2 * count; ++i)
            if (!read_bytes(texts[i]))
                return fprintf(stderr, "render_templates: message %zu is malformed\n", i / 2), 2;
        std::vector<app::ChatMessage> messages;
        for (size_t i = 0; i < count; ++i)
            messages.push_back({ { texts[2 * i].data(), texts[2 * i].size() }, { texts[2 * i + 1].data(), texts[2 * i + 1].size() } });
        rt::DateTime now { clock[0], u8(clock[1]), u8(clock[2]), u8(clock[3]), u8(clock[4]), u8(clock[5]) };
        app::ChatTemplateInputs inputs { { messages.data(), messages.size() }, add_generation_prompt != 0, { bos.data(), bos.size() },
            { eos.data(), eos.size() }, clock[0] ? &now : nullptr,
            thinking < 0 ? app::Thinking::Undefined : thinking ? app::Thinking::On : app::Thinking::Off };
        auto rendered = app::render_chat_template({ source.data(), source.size() }, inputs, { out.data(), out.size() });
        if (rendered.is_error())
            reply("error", rendered.error().message());
        else
            reply("ok", { out.data(), rendered.value() });
        fflush(stdout);
    }
    return 0;
}
