#include "chat.h"
#include "line_editor.h"
#include "llm/tokenizer.h"
#include <rt/console.h>

namespace app {

namespace {
constexpr size_t max_message = 512;
}

rt::ErrorOr<void> Chat::append(rt::HeapArray<i32>& tokens, size_t& count, rt::StringView text, bool close) const
{
    size_t room = tokens.size() - count;
    if (room < llm::TextTokenizer::token_capacity(text.length()) + 1)
        return rt::Error::format("chat: message too long");
    size_t n = TRY(m_tokenizer.encode(text, false, { tokens.data() + count, room }));
    count += n;
    if (close)
        tokens[count++] = m_tokenizer.eos();
    return {};
}

rt::ErrorOr<Chat::TurnResult> Chat::turn(rt::StringView message, rt::TextSink& out)
{
    auto const& config = m_transformer.config();
    auto tokens = TRY(rt::HeapArray<i32>::allocate(llm::TextTokenizer::token_capacity(message.length() + m_system.length() + 64) + 8));
    size_t count = 0;
    if (m_position == 0) {
        tokens[count++] = m_tokenizer.bos();
        if (!m_system.is_empty()) {
            TRY(append(tokens, count, "<|system|>\n", false));
            TRY(append(tokens, count, m_system, true));
            TRY(append(tokens, count, "\n", false));
        }
    } else {
        TRY(append(tokens, count, "\n", false)); // after the previous reply's </s>
    }
    TRY(append(tokens, count, "<|user|>\n", false));
    TRY(append(tokens, count, message, true));
    TRY(append(tokens, count, "\n<|assistant|>\n", false));
    // Room for the message and at least a few words of reply, or the context is full.
    if (i64(m_position) + i64(count) + 8 > i64(config.seq_len))
        return TurnResult::ContextFull;

    float* logits = nullptr;
    for (size_t i = 0; i < count; ++i)
        logits = m_transformer.forward(tokens[i], m_position++);
    i32 previous = tokens[count - 1];
    while (m_position < config.seq_len) {
        i32 next = m_sampler.sample(logits);
        if (next == m_tokenizer.eos() || next == m_tokenizer.bos()) {
            // The reply is over: its </s> goes into the cache like the template says.
            logits = m_transformer.forward(m_tokenizer.eos(), m_position++);
            (void)logits;
            m_last_token = next;
            return TurnResult::Replied;
        }
        rt::StringView piece = m_tokenizer.decode(previous, next);
        if (llm::is_printable_piece(piece))
            out.write(piece);
        logits = m_transformer.forward(next, m_position++);
        previous = next;
    }
    return TurnResult::ContextFull;
}

rt::ErrorOr<void> run_chat(llm::Transformer& transformer, llm::GgufTokenizer const& tokenizer, llm::Sampler& sampler, rt::StringView system)
{
    Chat chat(transformer, tokenizer, sampler, system);
    char line[max_message];
    rt::println("[chat] type a message; /reset starts over, exit ends");
    while (true) {
        rt::print("\nyou> ");
        size_t length;
        if (read_line(line, sizeof line, length) == LineStatus::EndOfInput) {
            rt::println("\n[chat] input ended");
            return {};
        }
        rt::StringView message { line, length };
        if (message == "exit" || message == "quit") {
            rt::println("[chat] bye");
            return {};
        }
        if (message == "/reset") {
            chat.reset();
            rt::println("[chat] started over: the conversation is forgotten");
            continue;
        }
        if (message.is_empty())
            continue;
        rt::print("assistant> ");
        auto result = chat.turn(message, rt::Console::the());
        if (result.is_error()) {
            rt::println_colored(rt::Color::Warning, "\n[chat] {}", result.error().message());
            continue;
        }
        if (result.value() == Chat::TurnResult::ContextFull) {
            rt::println_colored(rt::Color::Warning, "\n[chat] the context is full ({} of {} positions): type /reset to start over",
                chat.position(), transformer.config().seq_len);
            continue;
        }
        rt::println("");
    }
}

}
