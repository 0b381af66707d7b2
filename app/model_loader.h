#pragma once
// Loading a model for the application: the file's format (GGUF or llama2.c), its weights
// and vocabulary, quant=q8, and the kernel plan (tune=), printing the boot log's [model],
// [quant] and [tune] lines in the order a run shows them (the plan line is run()'s).
#include "chat/chat.h"
#include "inference_app.h"
#include "llm/checkpoint.h"
#include "llm/gguf_tokenizer.h"
#include "llm/kernels/kernels.h"
#include "llm/tokenizer.h"
#include "options.h"

namespace app {

struct LoadedModel {
    llm::Checkpoint checkpoint; // its config's seq_len: the positions this run holds (fit_context)
    i32 model_context { 0 };    // the context the model was made for
    bool is_gguf { false };
    llm::Tokenizer bin_tokenizer;   // llama2.c: tokenizer.bin
    llm::GgufTokenizer gguf_tokenizer; // GGUF: the file's own vocabulary
    ChatFormat chat_format { ChatFormat::from_template("") };
    rt::StringView chat_template;
    llm::kernels::Plan plan; // active once loaded; run() may lower its core counts (core_count_check.h)

    llm::TextTokenizer const& tokenizer() const;
};

// Fills `model` in place (the transformer will point into it, so it never moves).
rt::ErrorOr<void> load_model(LoadedModel& model, Inputs const&, Options const&);

}
