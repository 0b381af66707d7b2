#pragma once
// mode=chat: a multi-turn conversation with a GGUF chat model. Each turn is added to the
// same KV cache (nothing is recomputed), formatted in the model's chat format, and the
// reply streams until the model closes its turn. When the context is full the user is
// told and may start over; the cache never overflows.
#include "chat_template.h"
#include "../llm/generate.h"
#include "../llm/gguf_tokenizer.h"
#include "../llm/sampler.h"
#include "../llm/transformer.h"
#include <rt/date_time.h>

namespace app {

// The turn markers of a chat format. The format is recognised from the GGUF's
// tokenizer.chat_template (a Jinja template: its marker strings identify it), defaulting to
// TinyLlama's Zephyr-style <|system|>/<|user|>/<|assistant|> turns closed by </s>.
struct ChatFormat {
    enum class Kind { Zephyr, ChatMl, Llama2, Llama3, Gemma, Phi3, Granite };
    Kind kind;
    const char* name;
    rt::StringView system_open, user_open, assistant_open, between_turns;
    rt::StringView close_piece; // the token text that ends a turn ("" = EOS)

    static ChatFormat from_template(rt::StringView chat_template);
};

// The tokens one exchange puts into the cache before the assistant replies: the user's
// message in the format's markers (the first exchange also opens the conversation: BOS,
// the system message). Markers go through special-token parsing, the user's words do not.
rt::ErrorOr<size_t> exchange_tokens(ChatFormat const&, llm::GgufTokenizer const&, rt::StringView system, rt::StringView message,
    bool first, rt::HeapArray<i32>& tokens);

// What a template reads besides the conversation: today's date (its strftime_now; null:
// none) and the reasoning switch (enable_thinking).
struct TemplateSettings {
    rt::DateTime const* today = nullptr;
    Thinking thinking = Thinking::Undefined;
};

// The same exchange rendered from the model's own chat template (chat_template.h), after
// `replies` earlier replies each closed by `close_piece`. An error means the template
// cannot be used this way; the caller falls back to exchange_tokens.
rt::ErrorOr<size_t> template_exchange_tokens(rt::StringView chat_template, llm::GgufTokenizer const&, rt::StringView system,
    rt::StringView message, i32 replies, rt::StringView close_piece, rt::HeapArray<i32>& tokens, TemplateSettings const& settings = {});

class Chat {
public:
    // `chat_template` (may be empty) is rendered for each exchange; `format`'s markers are
    // the fallback when it cannot be. The conversation holds at most `context` positions
    // (the model's context, or fewer: steps=N).
    Chat(llm::Transformer& transformer, llm::GgufTokenizer const& tokenizer, llm::Sampler& sampler, rt::StringView system, ChatFormat format,
        rt::StringView chat_template, i32 context, TemplateSettings settings = {});

    // Stopped: stop_requested() ended the reply early; it is closed as if the model had
    // ended it there, and the conversation goes on.
    enum class TurnResult { Replied, Stopped, ContextFull };
    // Adds the user's message, streams the reply to `out`.
    rt::ErrorOr<TurnResult> turn(rt::StringView message, rt::TextSink& out, llm::StopRequested stop_requested = nullptr);

    // Where the last turn's time went, in TSC cycles: reading the message and its template
    // text into the cache (in batches), then the reply. A user waits `first_reply` for the
    // first word; that is what batching the prompt shortens.
    struct TurnTimes {
        i32 prompt_tokens { 0 };
        i32 reply_tokens { 0 }; // sampled, the closing token included
        u64 start { 0 }, prompt_done { 0 }, first_reply { 0 }, end { 0 };
    };
    TurnTimes const& last_turn() const { return m_last_turn; }
    void reset()
    {
        m_position = 0;
        m_replies = 0;
    }
    // A new system message (it must outlive the chat), for a conversation started over.
    void start_over_with_system(rt::StringView system)
    {
        m_system = system;
        reset();
    }
    bool uses_template() const { return !m_template.is_empty(); }
    // Whether the template in use reads enable_thinking (Qwen3's does; none after a fall
    // back to built-in markers): only then does think= or /think change a turn.
    bool template_can_think() const;
    // The next turns' enable_thinking (those already in the cache stay as they were).
    void set_thinking(Thinking thinking) { m_settings.thinking = thinking; }
    Thinking thinking() const { return m_settings.thinking; }
    i32 position() const { return m_position; }
    i32 context() const { return m_context; }

private:
    llm::Transformer& m_transformer;
    llm::GgufTokenizer const& m_tokenizer;
    llm::Sampler& m_sampler;
    rt::StringView m_system;
    ChatFormat m_format;
    rt::StringView m_template;
    TemplateSettings m_settings;
    i32 m_close_token; // the token that ends a turn
    i32 m_context;
    i32 m_replies { 0 }; // replies in the cache
    i32 m_position { 0 };
    i32 m_last_token { 0 };
    TurnTimes m_last_turn;
};

class PromptCommands;

// Runs the chat loop on the console: /reset starts over, the other /commands change the
// sampling (prompt_commands.h), exit or quit ends.
rt::ErrorOr<void> run_chat(llm::Transformer&, llm::GgufTokenizer const&, llm::Sampler&, PromptCommands&, rt::StringView system, ChatFormat,
    rt::StringView chat_template, i32 context, TemplateSettings settings);

}
