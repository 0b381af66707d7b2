#pragma once
// What the user asked for on the command line, checked and typed.
#include "chat/chat_template.h"
#include <rt/cmdline.h>
#include <rt/date_time.h>

namespace app {

enum class Mode { Generate, Interactive, Bench, Chat };

struct Options {
    Mode mode { Mode::Generate };
    rt::StringView prompt { "Once upon a time" };
    i32 steps { 0 }; // 0: not given, use min(256, context)
    float temperature { 1.0f };
    float top_p { 0.9f };
    i32 top_k { 0 };     // 0: off (llama2.c's sampler); else only the k most probable tokens
    u64 seed { 0 };
    bool seed_given { false };
    bool quantize { false };            // quant=q8: int8 weights made at load time
    rt::StringView tune { "auto" };     // auto, off, or a plan (matmul:avx2,...)
    i32 batch { 0 };                    // prompt tokens processed together (0: not given, as many as fit up to 32)
    // Greedy decoding: only the logits that can be the largest (argmax=screened), when the
    // classifier is large enough to gain; argmax=full computes them all.
    bool screened_argmax { true };
    rt::StringView system { "You are a friendly assistant." }; // mode=chat's system message
    // date=: the date chat templates write (strftime_now): the machine's clock, none (the
    // template's own default), or YYYY-MM-DD.
    enum class DateSource { Clock, None, Given } date_source { DateSource::Clock };
    rt::DateTime date {};
    // think=on|off: the chat template's enable_thinking (Qwen3's reasoning before it
    // answers); auto leaves it undefined, the template's own default.
    Thinking thinking { Thinking::Undefined };
};

// Keys the application reads; everything else on the command line is an error.
constexpr rt::StringView application_keys[] = { "mode", "prompt", "steps", "temp", "topp", "topk", "seed", "quant", "tune", "system", "batch", "argmax", "date", "think" };

rt::ErrorOr<Options> parse_options(rt::CommandLine const&);

// The keys a prompt's commands change too (prompt_commands.h): steps, temp, topp, topk and
// seed, read into `options` with its values as their defaults, checked as at boot.
rt::ErrorOr<void> read_sampling_keys(rt::CommandLine const&, Options& options);

// How many positions a story may take: steps=N, at most the model's context; by default 256
// or the context, whichever is less.
rt::ErrorOr<i32> story_steps(Options const&, i32 context);

}
