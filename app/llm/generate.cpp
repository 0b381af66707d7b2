#include "generate.h"
#include "tokenizer.h"
#include <rt/cycles.h>
#include <rt/profile.h>

namespace llm {

rt::ErrorOr<GenerationStats> generate(Transformer& transformer, TextTokenizer const& tokenizer, Sampler& sampler, rt::StringView prompt,
    i32 steps, rt::TextSink& out)
{
    Config const& config = transformer.config();
    GenerationStats stats;
    auto tokens = TRY(rt::HeapArray<i32>::allocate(TextTokenizer::token_capacity(prompt.length())));
    i32 count;
    {
        rt::ScopedCycles probe { "tokenizer" };
        count = TRY(tokenizer.encode_prompt(prompt, tokens.span()));
    }
    if (count > config.seq_len)
        return rt::Error::format("prompt: {} tokens do not fit the model's context of {} tokens", count, config.seq_len);
    if (count >= steps)
        return rt::Error::format("prompt: {} tokens leave no room to generate within steps={}", count, steps);
    stats.prompt_tokens = count;

    stats.start_cycles = rt::read_cycles();
    i32 token = tokens[0];
    i32 position = 0;
    while (position < steps) {
        float* logits = transformer.forward(token, position);
        i32 next;
        if (position < count - 1) {
            next = tokens[size_t(position) + 1]; // still reading the prompt
        } else {
            rt::ScopedCycles probe { "sampling" };
            auto sampled = sampler.sample(logits);
            if (sampled.is_error())
                return rt::Error::format("generation stopped at position {}: {}", position, sampled.error().message());
            next = sampled.value();
            if (stats.generated_tokens++ == 0)
                stats.first_token_cycles = rt::read_cycles();
        }
        ++position;
        if (tokenizer.ends_text(next)) { // BOS (llama2.c's stories) or EOS ends the text
            stats.stopped_at_bos = true;
            break;
        }
        rt::StringView piece = tokenizer.decode(token, next);
        if (is_printable_piece(piece)) {
            // Serial and screen drawing are timed too: the console must keep up with the model.
            rt::ScopedCycles probe { "output" };
            out.write(piece);
        }
        token = next;
    }
    stats.positions = position;
    stats.end_cycles = rt::read_cycles();
    return stats;
}

}
