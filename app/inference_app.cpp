#include "inference_app.h"
#include "chat/chat.h"
#include "chat/line_editor.h"
#include "llm/core_count_check.h"
#include "llm/prefetch_check.h"
#include "llm/generate.h"
#include "llm/kernels/tuner.h"
#include "model_loader.h"
#include "options.h"
#include "prompt_commands.h"
#include <rt/console.h>
#include <rt/cycles.h>
#include <rt/heap.h>
#include <rt/profile.h>
#include <rt/work_pool.h>

namespace app {

namespace {

// The stop check every mode passes to generation: Ctrl+C typed on any input.
bool ctrl_c_typed() { return rt::Console::the().interrupted(); }

// Discards text: benchmark runs measure generation, not the console.
class NullSink final : public rt::TextSink {
public:
    void write(rt::StringView) override {}
};

// The operation that carries most of a model's weights, named as in a tune= plan: the
// one that multiplies its gate matrices.
llm::kernels::Op main_operation(llm::Checkpoint const& checkpoint)
{
    return llm::traits(checkpoint.weights.layers[0].w1.type).op;
}

// A person at the screen sees one header line (model, kernels, cores) above the story
// instead of the boot log, which stays on the serial line.
void start_story_screen(llm::Checkpoint const& checkpoint, llm::kernels::Plan const& plan, Options const& options)
{
    auto& console = rt::Console::the();
    console.clear_screens();
    auto op = main_operation(checkpoint);
    size_t cores = rt::WorkPool::the().worker_count();
    // With several cores, how many the main product runs on (the plan's @N; all when unset).
    auto on_cores = rt::FixedString<16>::formatted("@{}", plan.workers[size_t(op)] ? size_t(plan.workers[size_t(op)]) : cores);
    rt::ScopedColor color { rt::Color::Highlight };
    rt::format_to(console.screens(), "BareFlow | {} {:.2f}M params | {}:{}{} | {} core{} | temp {:.2f}\n\n", llm::format_name(checkpoint),
        double(checkpoint.config.parameter_count()) / 1e6, llm::kernels::op_names[size_t(op)],
        llm::kernels::variant_name(op, plan.choice[size_t(op)]), cores > 1 ? on_cores.view() : rt::StringView(""), cores, cores == 1 ? "" : "s",
        double(options.temperature));
}

// A story cut short by Ctrl+C says so before its figures (which cover what was generated).
void report_stop(llm::GenerationStats const& stats, rt::StringView tag)
{
    if (stats.stopped_by_request)
        rt::println_colored(rt::Color::Warning, "{} stopped (Ctrl+C) after {} generated token(s)", tag, stats.generated_tokens);
}

// The summary is for everyone; per-core figures, the profiler table (unless asked for on
// the screen too) and the JSON lines are for the log.
void report(llm::GenerationStats const& stats, u64 weight_bytes, i32 batch, bool with_profile, bool table_on_screens = false)
{
    double seconds = rt::CycleClock::to_seconds(stats.end_cycles - stats.start_cycles);
    double tokens_per_second = seconds > 0 ? double(stats.positions) / seconds : 0.0;
    double first_token_ms = stats.generated_tokens ? rt::CycleClock::to_seconds(stats.first_token_cycles - stats.start_cycles) * 1000.0 : 0.0;
    // The prompt (processed in batches) and the generation after it, apart: the prompt's
    // positions against the time to its last logits, the rest against the time after.
    i32 prompt_positions = rt::min(stats.positions, stats.prompt_tokens);
    i32 generation_positions = stats.positions - prompt_positions;
    double prompt_seconds = rt::CycleClock::to_seconds(stats.prompt_cycles - stats.start_cycles);
    double generation_seconds = rt::CycleClock::to_seconds(stats.end_cycles - stats.prompt_cycles);
    double prompt_per_second = prompt_seconds > 0 ? double(prompt_positions) / prompt_seconds : 0.0;
    double generation_per_second = generation_seconds > 0 ? double(generation_positions) / generation_seconds : 0.0;
    auto& console = rt::Console::the();
    // Not a sum: the prompt's tokens and all but the last generated one each take a
    // position, so positions = prompt + generated - 1 (the last token is never fed back).
    rt::println("[gen] {} prompt token{}, {} generated, {} positions in {:.3f} s{}", stats.prompt_tokens, stats.prompt_tokens == 1 ? "" : "s",
        stats.generated_tokens, stats.positions, seconds, stats.stopped_at_bos ? " (the model ended the story)" : "");
    rt::println_colored(rt::Color::Good, "[gen] {:.2f} tok/s, time to first token {:.2f} ms; prompt {:.2f} tok/s ({} position{} in batches of {}), generation {:.2f} tok/s",
        tokens_per_second, first_token_ms, prompt_per_second, prompt_positions, prompt_positions == 1 ? "" : "s", batch, generation_per_second);
    rt::format_to(console.logs(), "{{\"generation\":{{\"prompt_tokens\":{},\"generated_tokens\":{},\"positions\":{},\"seconds\":{:.6f},\"tok_per_s\":{:.3f},\"ttft_ms\":{:.3f},\"weight_bytes_per_token\":{},\"weight_gb_per_s\":{:.3f},"
                                  "\"prompt_batch\":{},\"prompt_seconds\":{:.6f},\"prompt_tok_per_s\":{:.3f},\"generation_seconds\":{:.6f},\"generation_tok_per_s\":{:.3f}}}}}",
        stats.prompt_tokens, stats.generated_tokens, stats.positions, seconds, tokens_per_second, first_token_ms, weight_bytes,
        tokens_per_second * double(weight_bytes) / 1e9, batch, prompt_seconds, prompt_per_second, generation_seconds, generation_per_second);
    console.logs().write("\n");
    if (with_profile) {
        // Per-core busy time shows how evenly the work was split.
        auto& pool = rt::WorkPool::the();
        u64 wall = stats.end_cycles - stats.start_cycles;
        for (size_t core = 0; core < pool.worker_count(); ++core) {
            auto const& s = pool.stats(core);
            u64 idle = wall > s.busy_cycles ? wall - s.busy_cycles : 0;
            rt::format_to(console.logs(), "[cpu] core {:>2}: {:>8} jobs, busy {:>13} cycles ({:>5.1f}%), idle {:>13} cycles, {} of {} chunks taken over\n",
                core, s.jobs, s.busy_cycles, wall ? 100.0 * double(s.busy_cycles) / double(wall) : 0.0, idle, s.taken_over, s.chunks);
        }
        if (table_on_screens)
            rt::Profiler::the().report(console);
        else
            rt::Profiler::the().report(console.logs());
        rt::Profiler::the().report_json(console.logs());
    }
}

// Reads prompts until the input ends or the user types "exit"; a bad prompt gets a
// message and a new prompt, not the end of the run, and Ctrl+C stops a story.
rt::ErrorOr<void> interactive(u64 weight_bytes, llm::Transformer& transformer, llm::TextTokenizer const& tokenizer, llm::Sampler& sampler,
    PromptCommands& commands)
{
    rt::println("[interactive] type a prompt; /help lists the commands, exit ends");
    char line[LineEditor::max_line];
    LineEditor editor { rt::Console::the(), rt::Console::the() };
    while (true) {
        rt::print("\nprompt> ");
        size_t length;
        LineStatus status = [&] {
            rt::ScopedCharacterWrap typing; // the screens keep a typed character a cell, for editing
            return editor.read(line, sizeof line, length);
        }();
        if (status == LineStatus::EndOfInput) {
            rt::println("\n[interactive] input ended");
            return {};
        }
        if (status == LineStatus::TooLong) {
            rt::println_colored(rt::Color::Warning, "[interactive] prompt too long: at most {} characters; try a shorter prompt", sizeof line - 1);
            continue;
        }
        rt::StringView prompt { line, length };
        if (prompt == "exit" || prompt == "quit") {
            rt::println("[interactive] bye");
            return {};
        }
        if (prompt.is_empty() || commands.run(prompt, sampler))
            continue;
        rt::Profiler::the().reset();
        auto stats = [&] {
            rt::ScopedColor text { rt::Color::Text };
            return llm::generate(transformer, tokenizer, sampler, prompt, commands.steps(), rt::Console::the(), ctrl_c_typed);
        }();
        rt::println("");
        if (stats.is_error()) {
            rt::println_colored(rt::Color::Warning, "[interactive] {}; try a shorter prompt", stats.error().message());
            continue;
        }
        report_stop(stats.value(), "[interactive]");
        report(stats.value(), weight_bytes, transformer.batch_capacity(), false);
    }
}

// Greedy decoding computes only the logits that can be the largest (screened_argmax.h),
// when the classifier is large enough for that to gain and the run long enough to repay
// the int8 copy: the 15M model's takes 0.37 s in QEMU, what about 11 tokens save there,
// and 0.08 s hosted, about 90 tokens' saving. Without the memory for the copy it runs as
// before.
constexpr i32 screened_min_steps = 64;

void screen_classifier(llm::Transformer& transformer, llm::Checkpoint const& checkpoint, i32 steps)
{
    llm::Tensor const& classifier = checkpoint.weights.classifier;
    if (!llm::kernels::screens_classifier(checkpoint.weights) || steps < screened_min_steps)
        return;
    u64 bytes = llm::ScreenedArgmax::bytes(classifier);
    if (bytes > rt::Heap::the().largest_free_block() / 2) {
        rt::println("[gen] greedy: every logit computed (the classifier's int8 copy would take {} of the {} MiB free)", (bytes + (1 << 20) - 1) >> 20,
            rt::Heap::the().largest_free_block() >> 20);
        return;
    }
    u64 start = rt::read_cycles();
    auto made = transformer.screen_classifier();
    if (made.is_error()) {
        rt::println("[gen] greedy: every logit computed ({})", made.error().message());
        return;
    }
    rt::println("[gen] greedy: only the logits that can be the largest, screened by an int8 copy of the classifier ({} MiB, made in {:.2f} s; "
                "argmax=full computes them all)",
        (bytes + (1 << 20) - 1) >> 20, rt::CycleClock::to_seconds(rt::read_cycles() - start));
}

// Bytes one token streams: the classifier's int8 copy instead of the classifier when it
// is screened (rows with a logit computed exactly add little).
u64 streamed_bytes(llm::Checkpoint const& checkpoint, llm::Transformer const& transformer)
{
    if (!transformer.screen().ready())
        return checkpoint.weight_bytes;
    llm::Tensor const& classifier = checkpoint.weights.classifier;
    u64 values = u64(classifier.rows) * u64(classifier.cols);
    return checkpoint.weight_bytes - u64(classifier.rows) * classifier.row_bytes() + values + values / 32 * sizeof(float);
}

// A greedy run's screening: how many rows a token computed exactly.
void report_screen(llm::Transformer const& transformer)
{
    auto const& screen = transformer.screen();
    if (!screen.ready() || screen.tokens() == 0)
        return;
    rt::println("[gen] screened argmax: {:.1f} of {} logits computed exactly per token on average, {} of {} tokens took the full product",
        double(screen.exact_rows()) / double(screen.tokens()), transformer.config().vocab_size, screen.full_products(), screen.tokens());
}

// Runs the mode the command line asked for on a loaded model.
rt::ErrorOr<void> run_mode(Options const& options, LoadedModel const& model, llm::Transformer& transformer, llm::Sampler& sampler, u64 seed, i32 steps,
    rt::DateTime const* clock)
{
    u64 weight_bytes = streamed_bytes(model.checkpoint, transformer);
    switch (options.mode) {
    case Mode::Chat:
        if (!model.is_gguf)
            return rt::Error::format("mode=chat needs a GGUF chat model (its template ends turns with EOS); this is a llama2.c checkpoint");
        // The conversation may use the whole context unless steps=N says fewer.
    {
        PromptCommands commands { "[chat]", options, seed, 0 };
        rt::DateTime const* today = options.date_source == Options::DateSource::Given ? &options.date
            : options.date_source == Options::DateSource::Clock                       ? clock
                                                                                      : nullptr;
        return run_chat(transformer, model.gguf_tokenizer, sampler, commands, options.system, model.chat_format, model.chat_template,
            options.steps ? steps : model.checkpoint.config.seq_len, { today, options.thinking });
    }
    case Mode::Interactive: {
        PromptCommands commands { "[interactive]", options, seed, model.checkpoint.config.seq_len };
        return interactive(weight_bytes, transformer, model.tokenizer(), sampler, commands);
    }
    case Mode::Bench: {
        NullSink discard;
        rt::Profiler::the().reset();
        rt::WorkPool::the().reset_stats();
        auto stats = TRY(llm::generate(transformer, model.tokenizer(), sampler, options.prompt, steps, discard, ctrl_c_typed));
        report_stop(stats, "[bench]");
        report(stats, weight_bytes, transformer.batch_capacity(), true, true);
        report_screen(transformer);
        return {};
    }
    case Mode::Generate: {
        rt::Profiler::the().reset();
        rt::WorkPool::the().reset_stats();
        rt::format_to(rt::Console::the().logs(), "[gen] prompt: \"{}\"\n\n", options.prompt);
        start_story_screen(model.checkpoint, model.plan, options);
        auto stats = [&] {
            rt::ScopedColor text { rt::Color::Text };
            return llm::generate(transformer, model.tokenizer(), sampler, options.prompt, steps, rt::Console::the(), ctrl_c_typed);
        }();
        rt::println("");
        rt::println("");
        if (stats.is_error())
            return stats.release_error();
        report_stop(stats.value(), "[gen]");
        report(stats.value(), weight_bytes, transformer.batch_capacity(), true);
        report_screen(transformer);
        return {};
    }
    }
    return {};
}

}

rt::ErrorOr<void> run(Inputs const& inputs)
{
    Options options = TRY(parse_options(inputs.command_line));
    LoadedModel model;
    TRY(load_model(model, inputs, options));
    i32 steps = TRY(story_steps(options, model.checkpoint.config.seq_len));
    auto transformer = TRY(llm::Transformer::create(model.checkpoint, options.batch ? options.batch : llm::default_batch, options.batch != 0));
    if (options.tune == "auto") {
        model.plan = llm::check_core_counts(transformer, model.plan, model.checkpoint.weights, rt::Console::the());
        model.plan = llm::check_prefetch(transformer, model.plan, rt::Console::the());
    }
    rt::print("[tune] plan (put on the command line to skip tuning): tune=");
    model.plan.format(rt::Console::the());
    rt::println("");
    u64 seed = options.seed_given ? options.seed : inputs.fallback_seed;
    auto sampler = TRY(llm::Sampler::create(model.checkpoint.config.vocab_size, options.temperature, options.top_p, seed, options.top_k));
    if (sampler.greedy() && options.screened_argmax)
        screen_classifier(transformer, model.checkpoint, options.mode == Mode::Chat && !options.steps ? model.checkpoint.config.seq_len : steps);
    rt::println("[gen] steps={} temp={:.2f} topp={:.2f} topk={} seed={} batch={}", steps, double(options.temperature), double(options.top_p), options.top_k, seed,
        transformer.batch_capacity());
    return run_mode(options, model, transformer, sampler, seed, steps, inputs.today);
}

}
