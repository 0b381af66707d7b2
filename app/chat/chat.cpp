#include "chat.h"
#include "../prompt_commands.h"
#include "chat_template.h"
#include "line_editor.h"
#include "../llm/tokenizer.h"
#include <rt/console.h>
#include <rt/cycles.h>

namespace app {

namespace {
constexpr size_t max_message = LineEditor::max_line;
constexpr i32 min_reply = 8; // positions a turn keeps for at least a few words of reply

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
    if (contains(chat_template, "<|start_header_id|>"))
        return { Kind::Llama3, "Llama 3", "<|start_header_id|>system<|end_header_id|>\n\n", "<|start_header_id|>user<|end_header_id|>\n\n",
            "<|start_header_id|>assistant<|end_header_id|>\n\n", "", "<|eot_id|>" };
    // Gemma has no system turn: the system message opens the first user turn.
    if (contains(chat_template, "<start_of_turn>"))
        return { Kind::Gemma, "Gemma", "<start_of_turn>user\n", "<start_of_turn>user\n", "\n<start_of_turn>model\n", "\n", "<end_of_turn>" };
    // Granite's roles sit between markers of their own; its turns end with <|end_of_text|>.
    if (contains(chat_template, "<|start_of_role|>"))
        return { Kind::Granite, "Granite", "<|start_of_role|>system<|end_of_role|>", "<|start_of_role|>user<|end_of_role|>",
            "\n<|start_of_role|>assistant<|end_of_role|>", "\n", "<|end_of_text|>" };
    // Phi-3's turns end with <|end|> rather than EOS.
    if (contains(chat_template, "<|end|>") && contains(chat_template, "<|assistant|>"))
        return { Kind::Phi3, "Phi-3", "<|system|>\n", "<|user|>\n", "\n<|assistant|>\n", "\n", "<|end|>" };
    if (contains(chat_template, "[INST]"))
        return { Kind::Llama2, "Llama 2", "[INST] <<SYS>>\n", "[INST] ", " [/INST]", "", "" };
    return { Kind::Zephyr, "TinyLlama/Zephyr", "<|system|>\n", "<|user|>\n", "\n<|assistant|>\n", "\n", "" };
}

rt::ErrorOr<size_t> exchange_tokens(ChatFormat const& format, llm::GgufTokenizer const& tokenizer, rt::StringView system,
    rt::StringView message, bool first, rt::HeapArray<i32>& tokens)
{
    using Fragment = llm::GgufTokenizer::Fragment;
    // Zephyr's template closes turns with eos_token: the EOS piece, a special token.
    rt::StringView close = format.close_piece.is_empty() ? tokenizer.piece(tokenizer.eos()) : format.close_piece;
    Fragment fragments[8];
    size_t n = 0;
    auto marker = [&](rt::StringView text) { fragments[n++] = { text, true }; };
    auto words = [&](rt::StringView text) { fragments[n++] = { text, false }; };
    bool llama2 = format.kind == ChatFormat::Kind::Llama2;
    if (llama2) {
        // Every exchange opens with <s>; the system message is folded into the first.
        if (first && !system.is_empty()) {
            marker(format.system_open);
            words(system);
            marker("\n<</SYS>>\n\n");
        } else {
            marker(format.user_open);
        }
        words(message);
        marker(format.assistant_open);
    } else if (format.kind == ChatFormat::Kind::Gemma && first && !system.is_empty()) {
        marker(format.user_open);
        words(system);
        words("\n\n");
        words(message);
        marker(close);
        marker(format.assistant_open);
    } else {
        if (first && !system.is_empty()) {
            marker(format.system_open);
            words(system);
            marker(close);
            marker(format.between_turns);
        } else if (!first) {
            marker(format.between_turns); // after the previous reply's close
        }
        marker(format.user_open);
        words(message);
        marker(close);
        marker(format.assistant_open);
    }
    size_t length = 0;
    for (size_t i = 0; i < n; ++i)
        length += fragments[i].text.length();
    size_t capacity = 1 + llm::GgufTokenizer::fragments_capacity(length);
    if (tokens.size() < capacity)
        tokens = TRY(rt::HeapArray<i32>::allocate(capacity));
    size_t count = 0;
    if ((first || llama2) && tokenizer.adds_bos()) // Qwen's and SmolLM's vocabularies start without one
        tokens[count++] = tokenizer.bos();
    count += TRY(tokenizer.encode_fragments({ fragments, n }, { tokens.data() + count, tokens.size() - count }));
    return count;
}

namespace {
// How the renderer reports a template's own raise_exception().
constexpr rt::StringView template_refusal = "chat template: the template refuses this conversation";

// Stand-ins rendered in place of conversation text: control characters no template adds.
constexpr char previous_reply = '\x01', earlier_text = '\x02', new_message = '\x03';

size_t find(rt::StringView text, char c, size_t from = 0)
{
    for (size_t i = from; i < text.length(); ++i)
        if (text[i] == c)
            return i;
    return text.length();
}
}

rt::ErrorOr<size_t> template_exchange_tokens(rt::StringView chat_template, llm::GgufTokenizer const& tokenizer, rt::StringView system,
    rt::StringView message, i32 replies, rt::StringView close_piece, rt::HeapArray<i32>& tokens, TemplateSettings const& settings)
{
    // The conversation so far with stand-ins for its text: only the previous reply's end
    // and the new message matter, the rest is already in the cache.
    size_t count = size_t(2 * replies + 2);
    auto messages = TRY(rt::HeapArray<ChatMessage>::allocate(count));
    static const char earlier[] = { earlier_text }, reply[] = { previous_reply }, fresh[] = { new_message };
    auto text = TRY(rt::HeapArray<char>::allocate(8192 + 2 * system.length() + 256 * count));
    // A system message as a message of its own, or (`folded`) opening the first user message.
    auto folded_system = TRY(rt::HeapArray<char>::allocate(system.length() + 3));
    auto render = [&](bool folded) -> rt::ErrorOr<rt::StringView> {
        size_t n = 0;
        if (!system.is_empty() && !folded)
            messages[n++] = { "system", system };
        for (i32 r = 0; r < replies; ++r) {
            messages[n++] = { "user", { earlier, 1 } };
            messages[n++] = { "assistant", r + 1 == replies ? rt::StringView { reply, 1 } : rt::StringView { earlier, 1 } };
        }
        messages[n++] = { "user", { fresh, 1 } };
        if (folded) {
            for (size_t i = 0; i < system.length(); ++i)
                folded_system[i] = system[i];
            folded_system[system.length()] = '\n', folded_system[system.length() + 1] = '\n';
            folded_system[system.length() + 2] = messages[0].content[0];
            messages[0].content = { folded_system.data(), system.length() + 3 };
        }
        ChatTemplateInputs inputs { { messages.data(), n }, true, tokenizer.piece(tokenizer.bos()), tokenizer.piece(tokenizer.eos()), settings.today,
            settings.thinking };
        return rt::StringView { text.data(), TRY(render_chat_template(chat_template, inputs, { text.data(), text.size() })) };
    };
    // Templates without a system role (Gemma's, Mistral's first ones) refuse a system
    // message; as llama.cpp does then, it opens the first user message instead.
    auto attempt = render(false);
    bool refused = attempt.is_error() && !system.is_empty() && attempt.error().message().starts_with(template_refusal);
    rt::StringView rendered = refused ? TRY(render(true)) : TRY(rt::move(attempt));

    // What follows the previous reply, less the closing token the cache already holds.
    rt::StringView exchange = rendered;
    if (replies > 0) {
        size_t at = rendered.length();
        while (at > 0 && rendered[at - 1] != previous_reply)
            --at;
        if (at == 0)
            return rt::Error::format("chat template: the rendered text does not show the previous reply");
        exchange = rendered.substring(at);
        size_t space = 0;
        while (space < exchange.length() && (exchange[space] == ' ' || exchange[space] == '\n'))
            ++space;
        if (exchange.substring(space).starts_with(close_piece))
            exchange = exchange.substring(space + close_piece.length());
    }
    size_t marker = find(exchange, new_message);
    if (marker == exchange.length() || find(exchange, new_message, marker + 1) != exchange.length())
        return rt::Error::format("chat template: the rendered text does not show the new message once");
    if (find(exchange, earlier_text) != exchange.length() || find(exchange, previous_reply) != exchange.length())
        return rt::Error::format("chat template: the template re-renders earlier turns");
    llm::GgufTokenizer::Fragment fragments[] = { { exchange.substring(0, marker), true }, { message, false }, { exchange.substring(marker + 1), true } };
    size_t capacity = 1 + llm::GgufTokenizer::fragments_capacity(exchange.length() + message.length());
    if (tokens.size() < capacity)
        tokens = TRY(rt::HeapArray<i32>::allocate(capacity));
    size_t used = 0;
    // The conversation opens with BOS where the vocabulary wants one, unless the template
    // writes it itself.
    if (replies == 0 && tokenizer.adds_bos() && !exchange.starts_with(tokenizer.piece(tokenizer.bos())))
        tokens[used++] = tokenizer.bos();
    used += TRY(tokenizer.encode_fragments({ fragments, 3 }, { tokens.data() + used, tokens.size() - used }));
    return used;
}

Chat::Chat(llm::Transformer& transformer, llm::GgufTokenizer const& tokenizer, llm::Sampler& sampler, rt::StringView system, ChatFormat format,
    rt::StringView chat_template, i32 context, TemplateSettings settings)
    : m_transformer(transformer), m_tokenizer(tokenizer), m_sampler(sampler), m_system(system), m_format(format), m_template(chat_template), m_settings(settings),
      m_context(rt::min(context, transformer.config().seq_len))
{
    i32 close = format.close_piece.is_empty() ? -1 : tokenizer.find_piece(format.close_piece);
    m_close_token = close >= 0 ? close : tokenizer.eos();
}

bool Chat::template_can_think() const
{
    return contains(m_template, "enable_thinking");
}

rt::ErrorOr<Chat::TurnResult> Chat::turn(rt::StringView message, rt::TextSink& out, llm::StopRequested stop_requested)
{
    m_last_turn = {}; // until the message goes into the cache
    rt::HeapArray<i32> tokens;
    size_t count = 0;
    if (uses_template()) {
        auto rendered = template_exchange_tokens(m_template, m_tokenizer, m_system, message, m_replies, m_tokenizer.piece(m_close_token), tokens, m_settings);
        if (rendered.is_error()) {
            rt::println_colored(rt::Color::Warning, "[chat] {}; using the built-in {} markers from now on", rendered.error().message(), m_format.name);
            m_template = {};
        } else {
            count = rendered.value();
        }
    }
    if (!uses_template())
        count = TRY(exchange_tokens(m_format, m_tokenizer, m_system, message, m_position == 0, tokens));
    // Room for the message and at least a few words of reply, or the context is full;
    // a message that would not fit even an empty context is too long, not a full context.
    if (i64(count) + min_reply > i64(m_context))
        return rt::Error::format("message too long: {} tokens with the chat markers, the limit is {} (a context of {} positions, {} kept for the reply)",
            count, m_context - min_reply, m_context, min_reply);
    if (i64(m_position) + i64(count) + min_reply > i64(m_context))
        return TurnResult::ContextFull;

    // The message and its template text go into the cache in batches.
    TurnTimes& times = m_last_turn;
    times = { i32(count), 0, rt::read_cycles(), 0, 0, 0 };
    float* logits = m_transformer.forward_batch({ tokens.data(), count }, m_position);
    times.prompt_done = rt::read_cycles();
    m_position += i32(count);
    i32 previous = tokens[count - 1];
    // Every way out of the reply loop below stamps the turn's end.
    struct EndStamp {
        TurnTimes& times;
        ~EndStamp() { times.end = rt::read_cycles(); }
    } end_stamp { times };
    // Greedy decoding with a screened classifier: forward_argmax's token, no logits.
    bool screened = m_sampler.greedy() && m_transformer.screen().ready();
    i32 screened_token = -1;
    // The closing token goes into the cache after the reply, as the format says: after the
    // model's last token, or where the person stopped it.
    auto close_reply = [&](i32 last_token) {
        logits = m_transformer.forward(m_close_token, m_position++);
        (void)logits;
        m_last_token = last_token;
        ++m_replies;
    };
    while (m_position < m_context) {
        if (times.reply_tokens && stop_requested && stop_requested()) {
            close_reply(m_close_token);
            return TurnResult::Stopped;
        }
        auto sampled = logits ? m_sampler.sample(logits) : llm::Sampler::greedy_pick(screened_token);
        if (sampled.is_error())
            return rt::Error::format("the reply stopped at position {}: {}", m_position, sampled.error().message());
        i32 next = sampled.value();
        if (times.reply_tokens++ == 0)
            times.first_reply = rt::read_cycles();
        if (next == m_close_token || m_tokenizer.ends_text(next)) { // EOS, BOS, <|eot_id|> ...
            close_reply(next);
            return TurnResult::Replied;
        }
        rt::StringView piece = m_tokenizer.decode(previous, next);
        if (m_tokenizer.printable(piece))
            out.write(piece);
        if (screened) {
            screened_token = m_transformer.forward_argmax(next, m_position++);
            logits = nullptr;
        } else {
            logits = m_transformer.forward(next, m_position++);
        }
        previous = next;
    }
    return TurnResult::ContextFull;
}

namespace {
// One line after each turn: how long the message took to read, when the reply began and
// how fast it came (llama.cpp's programs print the same figures).
void report_turn(Chat::TurnTimes const& t, i32 batch)
{
    if (t.end == 0)
        return; // the message never went in (the context was full)
    double reading = rt::CycleClock::to_seconds(t.prompt_done - t.start);
    double replying = rt::CycleClock::to_seconds(t.end - t.prompt_done);
    double first = rt::CycleClock::to_seconds(t.first_reply - t.start);
    rt::println_colored(rt::Color::Log, "[chat] read {} tokens in {:.2f} s ({:.1f} tok/s, batches of {}); first reply token after {:.2f} s; {} reply tokens at {:.2f} tok/s",
        t.prompt_tokens, reading, reading > 0 ? t.prompt_tokens / reading : 0.0, batch, t.reply_tokens ? first : 0.0, t.reply_tokens,
        replying > 0 ? t.reply_tokens / replying : 0.0);
}

const char* thinking_name(Thinking thinking)
{
    switch (thinking) {
    case Thinking::On: return "on";
    case Thinking::Off: return "off";
    case Thinking::Undefined: break;
    }
    return "auto (the template's default)";
}

// Where the template has a reasoning switch, one line says how it is set and how to change
// it; where it has none, a think= that asked for one is said to change nothing.
void describe_thinking(Chat const& chat)
{
    if (chat.template_can_think())
        rt::println("[chat] the template's reasoning switch (enable_thinking) is {}; {}", thinking_name(chat.thinking()),
            chat.thinking() == Thinking::Off ? "/think on lets the model reason before it answers"
                                             : "/think off asks for answers without thinking first");
    else if (chat.thinking() != Thinking::Undefined)
        rt::println_colored(rt::Color::Warning, "[chat] think={} changes nothing: the chat does not use a template with enable_thinking",
            thinking_name(chat.thinking()));
}

// "/think on|off|auto": enable_thinking for the next turns.
void think_command(Chat& chat, rt::StringView value)
{
    Thinking thinking;
    if (value == "on")
        thinking = Thinking::On;
    else if (value == "off")
        thinking = Thinking::Off;
    else if (value == "auto")
        thinking = Thinking::Undefined;
    else {
        rt::println_colored(rt::Color::Warning, "[chat] /think takes on, off or auto (the template's default)");
        return;
    }
    if (!chat.template_can_think()) {
        rt::println_colored(rt::Color::Warning, "[chat] /think changes nothing: the chat does not use a template with enable_thinking");
        return;
    }
    chat.set_thinking(thinking);
    rt::println("[chat] thinking {} from the next message on", thinking_name(thinking));
}
}

rt::ErrorOr<void> run_chat(llm::Transformer& transformer, llm::GgufTokenizer const& tokenizer, llm::Sampler& sampler, PromptCommands& commands,
    rt::StringView system, ChatFormat format, rt::StringView chat_template, i32 context, TemplateSettings settings)
{
    Chat chat(transformer, tokenizer, sampler, system, format, chat_template, context, settings);
    char line[max_message];
    char system_message[max_message]; // one typed with /system (the boot's stays where it is)
    LineEditor editor { rt::Console::the(), rt::Console::the() };
    // The markers' name only where they are what the chat uses: a template of any shape
    // (DeepSeek's, Mistral's ...) is named by what it falls back to otherwise.
    if (chat.uses_template())
        rt::println("[chat] turns are rendered from the model's chat template ({} markers should it fail); type a message; /reset starts "
                    "over, /help lists the commands, exit ends",
            format.name);
    else
        rt::println("[chat] {} chat format (built-in markers: the model has no chat template); type a message; /reset starts over, /help "
                    "lists the commands, exit ends",
            format.name);
    describe_thinking(chat);
    while (true) {
        rt::print("\nyou> ");
        size_t length;
        LineStatus status = [&] {
            rt::ScopedCharacterWrap typing; // the screens keep a typed character a cell, for editing
            return editor.read(line, sizeof line, length);
        }();
        if (status == LineStatus::EndOfInput) {
            rt::println("\n[chat] input ended");
            return {};
        }
        if (status == LineStatus::TooLong) {
            rt::println_colored(rt::Color::Warning, "[chat] message too long: at most {} characters; it was not sent", sizeof line - 1);
            continue;
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
        if (message.starts_with("/system ") || message == "/system") {
            rt::StringView text = message.substring(rt::min(message.length(), size_t(8)));
            if (text.is_empty()) {
                rt::println_colored(rt::Color::Warning, "[chat] /system takes the new system message: /system You answer in one sentence.");
                continue;
            }
            __builtin_memcpy(system_message, text.data(), text.length());
            chat.start_over_with_system({ system_message, text.length() });
            rt::println("[chat] started over with the system message \"{}\"", text);
            continue;
        }
        if (message.starts_with("/think ") || message == "/think") {
            think_command(chat, message.substring(rt::min(message.length(), size_t(7))));
            continue;
        }
        if (message.is_empty() || commands.run(message, sampler))
            continue;
        rt::print("assistant> ");
        auto result = [&] {
            rt::ScopedColor reply { rt::Color::Text };
            return chat.turn(message, rt::Console::the(), [] { return rt::Console::the().interrupted(); });
        }();
        if (result.is_error()) {
            rt::println_colored(rt::Color::Warning, "\n[chat] {}", result.error().message());
            continue;
        }
        if (result.value() == Chat::TurnResult::Stopped) {
            rt::println_colored(rt::Color::Warning, "\n[chat] reply stopped (Ctrl+C)");
        } else if (result.value() == Chat::TurnResult::ContextFull) {
            rt::println_colored(rt::Color::Warning, "\n[chat] the context is full ({} of {} positions): type /reset to start over",
                chat.position(), chat.context());
        } else {
            rt::println("");
        }
        report_turn(chat.last_turn(), transformer.batch_capacity());
    }
}

}
