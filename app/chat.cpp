#include "chat.h"
#include "line_editor.h"
#include "llm/tokenizer.h"
#include <rt/console.h>

namespace app {

namespace {
constexpr size_t max_message = 512;

bool contains(rt::StringView text, rt::StringView part)
{
    for (size_t i = 0; i + part.length() <= text.length(); ++i)
        if (text.substring(i, part.length()) == part)
            return true;
    return false;
}
}

ChatFormat ChatFormat::from_template(rt::StringView chat_template)
{
    if (contains(chat_template, "<|im_start|>"))
        return { Kind::ChatMl, "ChatML", "<|im_start|>system\n", "<|im_start|>user\n", "\n<|im_start|>assistant\n", "\n", "<|im_end|>" };
    if (contains(chat_template, "[INST]"))
        return { Kind::Llama2, "Llama 2", "[INST] <<SYS>>\n", "[INST] ", " [/INST]", "", "" };
    return { Kind::Zephyr, "TinyLlama/Zephyr", "<|system|>\n", "<|user|>\n", "\n<|assistant|>\n", "\n", "" };
}

Chat::Chat(llm::Transformer& transformer, llm::GgufTokenizer const& tokenizer, llm::Sampler& sampler, rt::StringView system, ChatFormat format)
    : m_transformer(transformer), m_tokenizer(tokenizer), m_sampler(sampler), m_system(system), m_format(format)
{
    i32 close = format.close_piece.is_empty() ? -1 : tokenizer.find_piece(format.close_piece);
    m_close_token = close >= 0 ? close : tokenizer.eos();
}

rt::ErrorOr<void> Chat::append(rt::HeapArray<i32>& tokens, size_t& count, rt::StringView text, bool close) const
{
    size_t room = tokens.size() - count;
    if (room < llm::TextTokenizer::token_capacity(text.length()) + 1)
        return rt::Error::format("chat: message too long");
    size_t n = TRY(m_tokenizer.encode(text, false, { tokens.data() + count, room }));
    count += n;
    if (close)
        tokens[count++] = m_close_token;
    return {};
}

rt::ErrorOr<Chat::TurnResult> Chat::turn(rt::StringView message, rt::TextSink& out)
{
    auto const& config = m_transformer.config();
    auto tokens = TRY(rt::HeapArray<i32>::allocate(llm::TextTokenizer::token_capacity(message.length() + m_system.length() + 64) + 8));
    size_t count = 0;
    bool llama2 = m_format.kind == ChatFormat::Kind::Llama2;
    if (m_position == 0 || llama2)
        tokens[count++] = m_tokenizer.bos(); // Llama 2 opens every exchange with <s>
    if (m_position == 0 && !m_system.is_empty()) {
        if (llama2) {
            // Llama 2 folds the system message into the first user turn.
            TRY(append(tokens, count, m_format.system_open, false));
            TRY(append(tokens, count, m_system, false));
            TRY(append(tokens, count, "\n<</SYS>>\n\n", false));
        } else {
            TRY(append(tokens, count, m_format.system_open, false));
            TRY(append(tokens, count, m_system, true));
            TRY(append(tokens, count, m_format.between_turns, false));
        }
    } else if (llama2) {
        TRY(append(tokens, count, m_format.user_open, false));
    } else {
        if (m_position > 0)
            TRY(append(tokens, count, m_format.between_turns, false)); // after the previous reply's close
        TRY(append(tokens, count, m_format.user_open, false));
    }
    TRY(append(tokens, count, message, !llama2));
    TRY(append(tokens, count, m_format.assistant_open, false));
    // Room for the message and at least a few words of reply, or the context is full.
    if (i64(m_position) + i64(count) + 8 > i64(config.seq_len))
        return TurnResult::ContextFull;

    float* logits = nullptr;
    for (size_t i = 0; i < count; ++i)
        logits = m_transformer.forward(tokens[i], m_position++);
    i32 previous = tokens[count - 1];
    while (m_position < config.seq_len) {
        i32 next = m_sampler.sample(logits);
        if (next == m_close_token || next == m_tokenizer.eos() || next == m_tokenizer.bos()) {
            // The reply is over: its closing token goes into the cache as the format says.
            logits = m_transformer.forward(m_close_token, m_position++);
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

rt::ErrorOr<void> run_chat(llm::Transformer& transformer, llm::GgufTokenizer const& tokenizer, llm::Sampler& sampler, rt::StringView system,
    ChatFormat format)
{
    Chat chat(transformer, tokenizer, sampler, system, format);
    char line[max_message];
    rt::println("[chat] {} chat format; type a message; /reset starts over, exit ends", format.name);
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
