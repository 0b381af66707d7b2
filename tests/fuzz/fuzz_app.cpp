// libFuzzer target: the whole application, as the kernel and the hosted program run it.
// Input: command line, separator, model, separator, tokenizer, separator, typed input
// (for mode=interactive and mode=chat: a terminal's bytes, escape sequences and Ctrl+C included). Each run is kept short: steps above 16 become
// steps=8, tuning is off unless asked for, and chat needs a context of at most 64.
#include "../../app/inference_app.h"
#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_model.h"
#include "fuzz_support.h"
#include <rt/cpu_features.h>
#include <rt/terminal_keys.h>
#include <string>

namespace {

// Types the input's last part as a terminal would send it (escape sequences become keys,
// as on the serial line and the hosted stdin), then ends the input (as a closed stdin does).
class TypedInput final : public rt::InputSource {
public:
    int poll() override
    {
        while (m_next < m_text.length())
            if (int key = m_keys.take(u8(m_text[m_next++])); key != rt::TerminalKeys::nothing)
                return key;
        return end_of_input;
    }
    void reset(rt::StringView text)
    {
        m_text = text;
        m_next = 0;
        m_keys = {};
        rt::Console::the().discard_typed_ahead(); // what a run before this one left
    }

private:
    rt::StringView m_text;
    size_t m_next { 0 };
    rt::TerminalKeys m_keys;
};

fuzz::DiscardSink console_sink;
TypedInput typed_input;

rt::CpuFeatures const& cpu()
{
    static rt::CpuFeatures features = [] {
        rt::Console::the().attach_output(console_sink);
        rt::Console::the().attach_input(typed_input);
        return rt::detect_cpu_features();
    }();
    return features;
}

bool chat_context_is_small(rt::Bytes model)
{
    auto file = llm::gguf::File::parse(model);
    if (file.is_error())
        return true; // refused before any generation
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    return checkpoint.is_error() || checkpoint.value().config.seq_len <= 64;
}

}

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    auto const& features = cpu();
    fuzz::reset_heap(64 << 20);
    auto parts = fuzz::split(data, size, 4);
    if (parts.parts[0].size() > rt::CommandLine::max_text - 32)
        return -1;
    std::string text(reinterpret_cast<const char*>(parts.parts[0].data()), parts.parts[0].size());
    static rt::CommandLine command_line;
    if (rt::CommandLine::parse({ text.data(), text.size() }, command_line).is_error())
        return 0;
    // The last occurrence of a key wins: appended values bound the run's length.
    auto steps = command_line.get_integer("steps", 0, INT64_MIN, INT64_MAX);
    if (!command_line.has("steps") || (!steps.is_error() && steps.value() > 16))
        text += " steps=8";
    if (!command_line.has("tune"))
        text += " tune=off";
    if (rt::CommandLine::parse({ text.data(), text.size() }, command_line).is_error())
        return -1; // too many entries with the additions
    auto mode = command_line.get_string("mode", "generate");
    fuzz::Part model(parts.parts[1].data(), parts.parts[1].size());
    fuzz::Part tokenizer(parts.parts[2].data(), parts.parts[2].size());
    fuzz::Part typed(parts.parts[3].data(), parts.parts[3].size());
    if (!mode.is_error() && mode.value() == "chat" && !chat_context_is_small(model.bytes()))
        return -1;
    typed_input.reset(typed.text());
    // An empty part is an absent module, as in the kernel.
    rt::Span<u8> model_bytes = model.size() ? model.writable_bytes() : rt::Span<u8> {};
    rt::Bytes tokenizer_bytes = tokenizer.size() ? tokenizer.bytes() : rt::Bytes {};
    (void)app::run({ model_bytes, tokenizer_bytes, command_line, features, 1, nullptr });
    return 0;
}
