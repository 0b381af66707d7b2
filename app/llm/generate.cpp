#include "generate.h"
#include "tokenizer.h"
#include <rt/cycles.h>
#include <rt/profile.h>

namespace llm {

namespace {
void write_piece(TextTokenizer const& tokenizer, rt::StringView piece, rt::TextSink& out)
{
    if (tokenizer.printable(piece)) {
        // Serial and screen drawing are timed too: the console must keep up with the model.
        rt::ScopedCycles probe { "output" };
        out.write(piece);
    }
}
}

rt::ErrorOr<GenerationStats> generate(Transformer& transformer, TextTokenizer const& tokenizer, Sampler& sampler, rt::StringView prompt,
    i32 steps, rt::TextSink& out, StopRequested stop_requested)
{
    Config const& config = transformer.config();
    GenerationStats stats;
    auto tokens = TRY(rt::HeapArray<i32>::allocate(TextTokenizer::token_capacity(prompt.length())));
    i32 count;
    {
        rt::ScopedCycles probe { "tokenizer" };
        count = TRY(tokenizer.encode_prompt(prompt, tokens.span()));
    }
    if (count < 1) // encode_prompt gives BOS at least
        return rt::Error::format("prompt: no token to start from");
    if (count >= steps)
        return rt::Error::format("prompt: {} tokens leave no room to generate within steps={}", count, steps);
    if (count > config.seq_len)
        return rt::Error::format("prompt: {} tokens do not fit the context of {} positions", count, config.seq_len);
    stats.prompt_tokens = count;

    stats.start_cycles = rt::read_cycles();
    // The prompt, echoed as it would be token by token: up to a BOS or EOS inside it,
    // which ends the text there.
    i32 position = 0;
    if (!tokenizer.ends_text(tokens[0])) // a vocabulary that starts without BOS (byte-level BPE's)
        write_piece(tokenizer, tokenizer.decode(-1, tokens[0]), out);
    while (position < count - 1) {
        i32 next = tokens[size_t(position) + 1];
        if (tokenizer.ends_text(next)) {
            stats.stopped_at_bos = true;
            break;
        }
        write_piece(tokenizer, tokenizer.decode(tokens[size_t(position)], next), out);
        ++position;
    }
    float* logits = transformer.forward_batch({ tokens.data(), size_t(position) + 1 }, 0);
    i32 token = tokens[size_t(position)];
    ++position;
    stats.prompt_cycles = rt::read_cycles();
    // Greedy decoding with a screened classifier takes forward_argmax's token, for which
    // not every logit is computed (logits is then null).
    bool screened = sampler.greedy() && transformer.screen().ready();
    i32 screened_token = -1;
    while (!stats.stopped_at_bos && position <= steps) {
        i32 next;
        {
            rt::ScopedCycles probe { "sampling" };
            auto sampled = logits ? sampler.sample(logits) : Sampler::greedy_pick(screened_token);
            if (sampled.is_error())
                return rt::Error::format("generation stopped at position {}: {}", position - 1, sampled.error().message());
            next = sampled.value();
            if (stats.generated_tokens++ == 0)
                stats.first_token_cycles = rt::read_cycles();
        }
        if (tokenizer.ends_text(next)) { // BOS (llama2.c's stories) or EOS ends the text
            stats.stopped_at_bos = true;
            break;
        }
        write_piece(tokenizer, tokenizer.decode(token, next), out);
        token = next;
        if (position == steps)
            break;
        if (stop_requested && stop_requested()) {
            stats.stopped_by_request = true;
            break;
        }
        if (screened) {
            screened_token = transformer.forward_argmax(token, position);
            logits = nullptr;
        } else {
            logits = transformer.forward(token, position);
        }
        ++position;
    }
    stats.positions = position;
    stats.end_cycles = rt::read_cycles();
    return stats;
}

}
