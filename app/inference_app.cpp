#include "inference_app.h"
#include "chat/chat.h"
#include "chat/line_editor.h"
#include "llm/generate.h"
#include "llm/gguf_model.h"
#include "llm/gguf_tokenizer.h"
#include "llm/tokenizer.h"
#include "llm/kernels/tuner.h"
#include "options.h"
#include <rt/console.h>
#include <rt/profile.h>
#include <rt/work_pool.h>

namespace app {

namespace {

// "[model] tensors: 5 F32, 13 Q4_K, 3 Q6_K": what a file's name (Q4_K_M, ...) stands for.
void print_tensor_types(llm::gguf::File const& file)
{
    u32 counts[32] {};
    for (auto const& t : file.tensors())
        if (u32(t.type) < 32)
            ++counts[u32(t.type)];
    rt::print("[model] tensors:");
    const char* separator = " ";
    for (u32 type = 0; type < 32; ++type)
        if (counts[type]) {
            rt::print("{}{} {}", separator, counts[type], llm::gguf::tensor_type_name(type));
            separator = ", ";
        }
    rt::println("");
}

constexpr i32 default_steps = 256;

// Discards text: benchmark runs measure generation, not the console.
class NullSink final : public rt::TextSink {
public:
    void write(rt::StringView) override {}
};

const char* format_name(llm::Checkpoint const& checkpoint)
{
    switch (checkpoint.format) {
    case llm::WeightFormat::Int8: return "llama2.c int8";
    case llm::WeightFormat::Gguf: return "GGUF llama";
    case llm::WeightFormat::Float32: break;
    }
    return "llama2.c fp32";
}

void describe_model(llm::Checkpoint const& checkpoint)
{
    auto const& c = checkpoint.config;
    rt::println("[model] {}: dim {}, hidden {}, {} layers, {} heads ({} kv), vocab {}, context {}", format_name(checkpoint), c.dim, c.hidden_dim,
        c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len);
    rt::println("[model] {:.2f}M parameters, {:.1f} MiB of weights read per token; KV cache and activations {:.1f} MiB",
        double(c.parameter_count()) / 1e6, double(checkpoint.weight_bytes) / 1048576.0,
        double(llm::Transformer::state_bytes(c)) / 1048576.0);
}

// The operation that carries most of a model's weights, named as in a tune= plan.
llm::kernels::Op main_operation(llm::Checkpoint const& checkpoint)
{
    using llm::kernels::Op;
    if (checkpoint.format == llm::WeightFormat::Int8)
        return Op::MatmulQ8;
    if (checkpoint.format != llm::WeightFormat::Gguf || checkpoint.gguf.w1.size() == 0)
        return Op::Matmul;
    switch (llm::gguf::TensorType(checkpoint.gguf.w1[0].type)) {
    case llm::gguf::TensorType::Q8_0: return Op::GgufQ8_0;
    case llm::gguf::TensorType::Q4_0: return Op::GgufQ4_0;
    case llm::gguf::TensorType::Q4_K: return Op::GgufQ4K;
    case llm::gguf::TensorType::Q6_K: return Op::GgufQ6K;
    default: return Op::Matmul;
    }
}

// A person at the screen sees one header line (model, kernels, cores) above the story
// instead of the boot log, which stays on the serial line.
void start_story_screen(llm::Checkpoint const& checkpoint, llm::kernels::Plan const& plan, Options const& options)
{
    auto& console = rt::Console::the();
    console.clear_screens();
    auto op = main_operation(checkpoint);
    size_t cores = rt::WorkPool::the().worker_count();
    rt::ScopedColor color { rt::Color::Highlight };
    rt::format_to(console.screens(), "BareFlow | {} {:.2f}M params | {}:{} | {} core{} | temp {:.2f}\n\n", format_name(checkpoint),
        double(checkpoint.config.parameter_count()) / 1e6, llm::kernels::op_names[size_t(op)],
        llm::kernels::variant_name(op, plan.choice[size_t(op)]), cores, cores == 1 ? "" : "s", double(options.temperature));
}

// The summary is for everyone; per-core figures, the profiler table (unless asked for on
// the screen too) and the JSON lines are for the log.
void report(llm::GenerationStats const& stats, u64 weight_bytes, bool with_profile, bool table_on_screens = false)
{
    double seconds = rt::CycleClock::to_seconds(stats.end_cycles - stats.start_cycles);
    double tokens_per_second = seconds > 0 ? double(stats.positions) / seconds : 0.0;
    double first_token_ms = stats.generated_tokens ? rt::CycleClock::to_seconds(stats.first_token_cycles - stats.start_cycles) * 1000.0 : 0.0;
    auto& console = rt::Console::the();
    // Not a sum: the prompt's tokens and all but the last generated one each take a
    // position, so positions = prompt + generated - 1 (the last token is never fed back).
    rt::println("[gen] {} prompt token{}, {} generated, {} positions in {:.3f} s{}", stats.prompt_tokens, stats.prompt_tokens == 1 ? "" : "s",
        stats.generated_tokens, stats.positions, seconds, stats.stopped_at_bos ? " (the model ended the story)" : "");
    rt::println_colored(rt::Color::Good, "[gen] {:.2f} tok/s, time to first token {:.2f} ms", tokens_per_second, first_token_ms);
    rt::format_to(console.logs(), "{{\"generation\":{{\"prompt_tokens\":{},\"generated_tokens\":{},\"positions\":{},\"seconds\":{:.6f},\"tok_per_s\":{:.3f},\"ttft_ms\":{:.3f},\"weight_bytes_per_token\":{},\"weight_gb_per_s\":{:.3f}}}}}",
        stats.prompt_tokens, stats.generated_tokens, stats.positions, seconds, tokens_per_second, first_token_ms, weight_bytes,
        tokens_per_second * double(weight_bytes) / 1e9);
    console.logs().write("\n");
    if (with_profile) {
        // Per-core busy time shows how evenly the work was split.
        auto& pool = rt::WorkPool::the();
        u64 wall = stats.end_cycles - stats.start_cycles;
        for (size_t core = 0; core < pool.worker_count(); ++core) {
            auto const& s = pool.stats(core);
            u64 idle = wall > s.busy_cycles ? wall - s.busy_cycles : 0;
            rt::format_to(console.logs(), "[cpu] core {:>2}: {:>8} jobs, busy {:>13} cycles ({:>5.1f}%), idle {:>13} cycles\n", core, s.jobs,
                s.busy_cycles, wall ? 100.0 * double(s.busy_cycles) / double(wall) : 0.0, idle);
        }
        if (table_on_screens)
            rt::Profiler::the().report(console);
        else
            rt::Profiler::the().report(console.logs());
        rt::Profiler::the().report_json(console.logs());
    }
}

// tune=auto measures, tune=off uses the scalar reference, anything else is a plan.
rt::ErrorOr<llm::kernels::Plan> choose_kernels(Options const& options, llm::Checkpoint const& checkpoint, rt::CpuFeatures const& cpu)
{
    llm::kernels::Plan plan;
    if (options.tune == "auto")
        plan = TRY(llm::kernels::tune(checkpoint, cpu, rt::Console::the()));
    else if (!(options.tune == "off"))
        plan = TRY(llm::kernels::Plan::parse(options.tune, cpu));
    llm::kernels::activate(plan);
    rt::print("[tune] plan (put on the command line to skip tuning): tune=");
    plan.format(rt::Console::the());
    rt::println("");
    return plan;
}

rt::ErrorOr<i32> resolve_steps(Options const& options, llm::Config const& config)
{
    if (options.steps == 0)
        return rt::min(default_steps, config.seq_len);
    if (options.steps > config.seq_len)
        return rt::Error::format("steps={} is more than the model's context of {} tokens", options.steps, config.seq_len);
    return options.steps;
}

// Reads prompts until the input ends or the user types "exit"; a bad prompt gets a
// message and a new prompt, not the end of the run.
rt::ErrorOr<void> interactive(u64 weight_bytes, llm::Transformer& transformer, llm::TextTokenizer const& tokenizer, llm::Sampler& sampler, i32 steps)
{
    char line[512];
    while (true) {
        rt::print("\nprompt> ");
        size_t length;
        LineStatus status = read_line(line, sizeof line, length);
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
        if (prompt.is_empty())
            continue;
        rt::Profiler::the().reset();
        auto stats = [&] {
            rt::ScopedColor text { rt::Color::Text };
            return llm::generate(transformer, tokenizer, sampler, prompt, steps, rt::Console::the());
        }();
        rt::println("");
        if (stats.is_error()) {
            rt::println_colored(rt::Color::Warning, "[interactive] {}; try a shorter prompt", stats.error().message());
            continue;
        }
        report(stats.value(), weight_bytes, false);
    }
}

}

rt::ErrorOr<void> run(Inputs const& inputs)
{
    Options options = TRY(parse_options(inputs.command_line));
    if (!inputs.model.data())
        return rt::Error::format("model: no model given (the GRUB entry needs `module2 --nounzip /boot/model.bin model`)");
    // A GGUF file carries its own vocabulary; llama2.c checkpoints need tokenizer.bin.
    bool is_gguf = inputs.model.size() >= 4 && rt::StringView(reinterpret_cast<const char*>(inputs.model.data()), 4) == "GGUF";
    llm::Checkpoint checkpoint;
    llm::Tokenizer bin_tokenizer;
    llm::GgufTokenizer gguf_tokenizer;
    llm::TextTokenizer const* tokenizer = nullptr;
    ChatFormat chat_format = ChatFormat::from_template("");
    rt::StringView chat_template;
    if (is_gguf) {
        auto file = TRY(llm::gguf::File::parse(inputs.model));
        if (auto found = file.get_string("tokenizer.chat_template"); !found.is_error()) {
            chat_template = found.value();
            chat_format = ChatFormat::from_template(chat_template);
        }
        checkpoint = TRY(llm::load_gguf_checkpoint(file));
        gguf_tokenizer = TRY(llm::GgufTokenizer::load(file));
        if (gguf_tokenizer.vocab_size() != checkpoint.config.vocab_size)
            return rt::Error::format("tokenizer: the GGUF vocabulary has {} tokens, the embedding {}", gguf_tokenizer.vocab_size(), checkpoint.config.vocab_size);
        tokenizer = &gguf_tokenizer;
        rt::println("[model] GGUF v{}: {} tensors, {} metadata entries; vocabulary from the file{}", file.version(), file.tensors().size(),
            file.metadata().size(), inputs.tokenizer.data() ? " (tokenizer module ignored)" : "");
        print_tensor_types(file);
    } else {
        if (!inputs.tokenizer.data())
            return rt::Error::format("tokenizer: no tokenizer given (the GRUB entry needs `module2 --nounzip /boot/tokenizer.bin tokenizer`)");
        checkpoint = TRY(llm::load_checkpoint(inputs.model));
    }
    if (options.quantize && checkpoint.format == llm::WeightFormat::Gguf)
        rt::println("[quant] quant=q8 applies to llama2.c checkpoints; this GGUF keeps its own types");
    if (options.quantize && checkpoint.format == llm::WeightFormat::Float32) {
        // Group size 32, halved until it divides dim: llama2.c's export rule, from 32.
        i32 group = 32;
        while (checkpoint.config.dim % group)
            group /= 2;
        u64 start = rt::read_cycles();
        TRY(llm::quantize_checkpoint(checkpoint, group));
        rt::println("[quant] weights quantised to int8 (groups of {}) in {:.1f} ms", group,
            rt::CycleClock::to_microseconds(rt::read_cycles() - start) / 1000.0);
    }
    describe_model(checkpoint);
    auto plan = TRY(choose_kernels(options, checkpoint, inputs.cpu));
    if (!is_gguf) {
        bin_tokenizer = TRY(llm::Tokenizer::load(inputs.tokenizer, checkpoint.config.vocab_size));
        tokenizer = &bin_tokenizer;
    }
    i32 steps = TRY(resolve_steps(options, checkpoint.config));
    auto transformer = TRY(llm::Transformer::create(checkpoint));
    u64 seed = options.seed_given ? options.seed : inputs.fallback_seed;
    auto sampler = TRY(llm::Sampler::create(checkpoint.config.vocab_size, options.temperature, options.top_p, seed, options.top_k));
    rt::println("[gen] steps={} temp={:.2f} topp={:.2f} topk={} seed={}", steps, double(options.temperature), double(options.top_p), options.top_k, seed);

    switch (options.mode) {
    case Mode::Chat:
        if (!is_gguf)
            return rt::Error::format("mode=chat needs a GGUF chat model (its template ends turns with EOS); this is a llama2.c checkpoint");
        return run_chat(transformer, gguf_tokenizer, sampler, options.system, chat_format, chat_template);
    case Mode::Interactive:
        return interactive(checkpoint.weight_bytes, transformer, *tokenizer, sampler, steps);
    case Mode::Bench: {
        NullSink discard;
        rt::Profiler::the().reset();
        rt::WorkPool::the().reset_stats();
        auto stats = TRY(llm::generate(transformer, *tokenizer, sampler, options.prompt, steps, discard));
        report(stats, checkpoint.weight_bytes, true, true);
        return {};
    }
    case Mode::Generate: {
        rt::Profiler::the().reset();
        rt::WorkPool::the().reset_stats();
        rt::format_to(rt::Console::the().logs(), "[gen] prompt: \"{}\"\n\n", options.prompt);
        start_story_screen(checkpoint, plan, options);
        auto stats = [&] {
            rt::ScopedColor text { rt::Color::Text };
            return llm::generate(transformer, *tokenizer, sampler, options.prompt, steps, rt::Console::the());
        }();
        rt::println("");
        rt::println("");
        if (stats.is_error())
            return stats.release_error();
        report(stats.value(), checkpoint.weight_bytes, true);
        return {};
    }
    }
    return {};
}

}
