#pragma once
// The generation loop: feed the prompt, then sample, streaming each piece as it comes.
#include "sampler.h"
#include "text_tokenizer.h"
#include "transformer.h"
#include <rt/format.h>

namespace llm {

struct GenerationStats {
    i32 prompt_tokens { 0 };
    i32 generated_tokens { 0 }; // sampled tokens (after the prompt)
    i32 positions { 0 };        // forward passes run
    u64 start_cycles { 0 };
    u64 prompt_cycles { 0 };       // when the prompt's last logits were ready
    u64 first_token_cycles { 0 }; // when the first sampled token was ready
    u64 end_cycles { 0 };
    bool stopped_at_bos { false };
    bool stopped_by_request { false }; // stop_requested() said so
};

// Asked after each token written: true stops the text there (a person typed Ctrl+C).
using StopRequested = bool (*)();

// Encodes `prompt` with BOS and runs until `steps` positions (prompt included) or until
// the model emits BOS, writing printable pieces to `out`. The prompt runs in batches
// (Transformer::forward_batch), its text echoed before it. Prompt errors (too long for the
// context or for `steps`) are reported before any forward pass runs. `stop_requested`, when
// given, may end the text sooner.
rt::ErrorOr<GenerationStats> generate(Transformer&, TextTokenizer const&, Sampler&, rt::StringView prompt, i32 steps, rt::TextSink& out,
    StopRequested stop_requested = nullptr);

}
