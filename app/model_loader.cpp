#include "model_loader.h"
#include "llm/gguf_model.h"
#include "llm/interleave.h"
#include "llm/kernels/tuner.h"
#include "llm/transformer.h"
#include <rt/console.h>
#include <rt/heap.h>
#include <rt/cycles.h>

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

void describe_model(llm::Checkpoint const& checkpoint, i32 model_context)
{
    auto const& c = checkpoint.config;
    // Heads of another width than dim / heads (Qwen3's) are named: they decide the size of
    // the attention's matrices and of the KV cache.
    auto heads_of = c.head_dim && c.head_dim * c.n_heads != c.dim ? rt::FixedString<24>::formatted(" of {}", c.head_dim) : rt::FixedString<24>();
    rt::println("[model] {}: dim {}, hidden {}, {} layers, {} heads{} ({} kv), vocab {}, context {}", llm::format_name(checkpoint), c.dim,
        c.hidden_dim, c.n_layers, c.n_heads, heads_of.view(), c.n_kv_heads, c.vocab_size, model_context);
    if (u32 unused = checkpoint.unused_tensors)
        rt::println_colored(rt::Color::Warning, "[model] the file has {} tensor{} ({}{}) that BareFlow's layer for {} does not use: the model runs "
                                                "without {}, and its text may be wrong",
            unused, unused > 1 ? "s" : "", checkpoint.first_unused_tensor, unused > 1 ? " ..." : "", llm::format_name(checkpoint),
            unused > 1 ? "them" : "it");
    if (c.sliding_window > 0 && c.sliding_period != 1) { // a period of one leaves no local layer
        if (c.sliding_period == 0)
            rt::println("[model] sliding-window attention: every layer sees the last {} positions", c.sliding_window);
        else
            rt::println("[model] sliding-window attention: {} of every {} layers see the last {} positions (RoPE base {:.0f}), the others all",
                c.sliding_period - 1, c.sliding_period, c.sliding_window, double(c.rope_theta_local));
        if (i32 kept = llm::Transformer::window_cache_positions(c); kept < c.seq_len)
            rt::println("[model] their KV caches keep {} positions of the {}", kept, c.seq_len);
    }
    if (c.attention_softcap != 0.0f || c.final_softcap != 0.0f) {
        auto cap = [](const char* what, float value) {
            return value != 0.0f ? rt::FixedString<48>::formatted("{} at {:.1f}", what, double(value)) : rt::FixedString<48>::formatted("{} not", what);
        };
        rt::println("[model] soft-capping: {}, {}", cap("attention scores", c.attention_softcap).view(), cap("logits", c.final_softcap).view());
    }
    if (c.yarn_factor != 0.0f)
        rt::println("[model] YaRN: RoPE frequencies from pair {:.0f} on divided by up to {:.1f} (blended to pair {:.0f}), RoPE times {:.3f}",
            double(c.yarn_low), double(c.yarn_factor), double(c.yarn_high), double(c.rope_attention_factor));
    if (c.no_rope_period > 0)
        rt::println("[model] no position embedding in every {}th layer", c.no_rope_period);
    if (c.rope_dim)
        rt::println("[model] RoPE turns the first {} of each head's {} dimensions", c.rope_dim, c.head_size());
    if (c.rope_original_context > 0)
        rt::println("[model] LongRoPE: the {} factors ({} positions in this run, the original context is {}), RoPE times {:.3f}",
            c.long_rope(c.seq_len) ? "long" : "short", c.seq_len, c.rope_original_context, double(c.rope_attention_factor));
    llm::Config full = c;
    full.seq_len = model_context;
    rt::println("[model] {:.2f}M parameters, {:.1f} MiB of weights read per token; KV cache and activations {:.1f} MiB{}",
        double(full.parameter_count()) / 1e6, double(checkpoint.weight_bytes) / 1048576.0, double(llm::Transformer::state_bytes(c)) / 1048576.0,
        c.seq_len < model_context ? rt::FixedString<48>::formatted(" (for {} positions)", c.seq_len).view() : rt::StringView(""));
}

// The positions the KV cache holds, set as the config's seq_len: a story's steps (generate,
// bench: a TinyLlama story of 256 steps zeroes 12 MiB of cache, not 92), the model's whole
// context where prompts are read (interactive, chat; steps=N caps a chat), and never more
// than memory holds: then as many as fit beside the rest (an eighth of the free memory, 32
// MiB at least, stays free), said in one line. A story whose steps do not fit is an error.
rt::ErrorOr<void> fit_context(llm::Config& c, Options const& options)
{
    i32 context = c.seq_len;
    bool story = options.mode == Mode::Generate || options.mode == Mode::Bench;
    i32 wanted = story ? TRY(story_steps(options, context)) : options.mode == Mode::Chat && options.steps ? TRY(story_steps(options, context)) : context;
    u64 free = rt::Heap::the().largest_free_block();
    u64 budget = free - rt::min(free, rt::max(free / 8, u64(32) << 20));
    auto bytes_for = [&](i32 positions) {
        llm::Config trial = c;
        trial.seq_len = positions;
        return llm::Transformer::state_bytes(trial);
    };
    c.seq_len = wanted;
    if (bytes_for(wanted) <= budget || story)
        return {}; // a story that does not fit gets Transformer::create's message
    i32 low = 0, high = wanted; // the most positions that fit: bytes_for grows with them
    while (low < high) {
        i32 middle = low + (high - low + 1) / 2;
        if (bytes_for(middle) <= budget)
            low = middle;
        else
            high = middle - 1;
    }
    constexpr i32 least = 64;
    if (low < least)
        return rt::Error::format("memory: {} MiB free, less {} MiB kept for the rest of the run, holds a KV cache of {} positions, fewer than {}; "
                                 "give the machine more memory",
            free >> 20, (free - budget) >> 20, low, least);
    c.seq_len = low;
    rt::println_colored(rt::Color::Warning, "[model] context: {} of the model's {} positions, as many as {} MiB of memory holds (all {} would need {} MiB)",
        low, context, free >> 20, context, (bytes_for(context) + (1 << 20) - 1) >> 20);
    return {};
}

// tune=auto measures, tune=off uses the scalar reference, anything else is a plan.
rt::ErrorOr<llm::kernels::Plan> choose_kernels(Options const& options, llm::Checkpoint const& checkpoint, rt::CpuFeatures const& cpu)
{
    llm::kernels::Plan plan;
    if (options.tune == "auto")
        plan = TRY(llm::kernels::tune(checkpoint, cpu, rt::Console::the()));
    else if (!(options.tune == "off")) {
        plan = TRY(llm::kernels::Plan::parse(options.tune, cpu));
        // A plan names what the build that printed it knew; one from an older build
        // leaves newer operations (or a hand-written one, those it skips) on the scalar
        // reference, many times slower: say so rather than run slowly without a word.
        char names[256];
        rt::BufferSink unnamed(names, sizeof names);
        if (llm::kernels::unnamed_operations(plan, checkpoint.weights, unnamed))
            rt::println("[tune] note: the plan does not name {}, which this model runs: they run the scalar reference "
                        "(name them, or leave tune= out to time every operation)",
                unnamed.view());
    }
    llm::kernels::activate(plan);
    return plan;
}

// A GGUF file carries its weights, its vocabulary and perhaps a chat template.
rt::ErrorOr<void> load_gguf(LoadedModel& model, Inputs const& inputs)
{
    auto file = TRY(llm::gguf::File::parse(inputs.model));
    if (auto found = file.get_string("tokenizer.chat_template"); !found.is_error()) {
        model.chat_template = found.value();
        model.chat_format = ChatFormat::from_template(model.chat_template);
    }
    model.checkpoint = TRY(llm::load_gguf_checkpoint(file));
    u64 start = rt::read_cycles();
    if (size_t repacked = TRY(llm::interleave_weights(model.checkpoint.weights, inputs.model)))
        rt::println("[model] {} Q4_0/Q8_0/Q4_K/Q5_K/Q6_K matrices interleaved in groups of eight rows in {:.1f} ms", repacked,
            rt::CycleClock::to_microseconds(rt::read_cycles() - start) / 1000.0);
    model.gguf_tokenizer = TRY(llm::GgufTokenizer::load(file));
    if (model.gguf_tokenizer.vocab_size() != model.checkpoint.config.vocab_size)
        return rt::Error::format("tokenizer: the GGUF vocabulary has {} tokens, the embedding {}", model.gguf_tokenizer.vocab_size(),
            model.checkpoint.config.vocab_size);
    rt::println("[model] GGUF v{}: {} tensors, {} metadata entries; vocabulary from the file{}", file.version(), file.tensors().size(),
        file.metadata().size(), inputs.tokenizer.data() ? " (tokenizer module ignored)" : "");
    print_tensor_types(file);
    return {};
}

// quant=q8: llama2.c fp32 weights become int8; other models keep their types.
rt::ErrorOr<void> apply_quantisation(llm::Checkpoint& checkpoint)
{
    if (checkpoint.format == llm::WeightFormat::Gguf) {
        rt::println("[quant] quant=q8 applies to llama2.c checkpoints; this GGUF keeps its own types");
        return {};
    }
    if (checkpoint.format != llm::WeightFormat::Float32)
        return {};
    // Group size 32, halved until it divides dim: llama2.c's export rule, from 32.
    i32 group = 32;
    while (checkpoint.config.dim % group)
        group /= 2;
    u64 start = rt::read_cycles();
    TRY(llm::quantize_checkpoint(checkpoint, group));
    rt::println("[quant] weights quantised to int8 (groups of {}) in {:.1f} ms", group,
        rt::CycleClock::to_microseconds(rt::read_cycles() - start) / 1000.0);
    return {};
}

}

llm::TextTokenizer const& LoadedModel::tokenizer() const
{
    if (is_gguf)
        return gguf_tokenizer;
    return bin_tokenizer;
}

rt::ErrorOr<void> load_model(LoadedModel& model, Inputs const& inputs, Options const& options)
{
    if (!inputs.model.data())
        return rt::Error::format("model: no model given (the GRUB entry needs `module2 --nounzip /boot/model.bin model`)");
    // A GGUF file carries its own vocabulary; llama2.c checkpoints need tokenizer.bin.
    model.is_gguf = inputs.model.size() >= 4 && rt::StringView(reinterpret_cast<const char*>(inputs.model.data()), 4) == "GGUF";
    if (model.is_gguf) {
        TRY(load_gguf(model, inputs));
    } else {
        if (!inputs.tokenizer.data())
            return rt::Error::format("tokenizer: no tokenizer given (the GRUB entry needs `module2 --nounzip /boot/tokenizer.bin tokenizer`)");
        model.checkpoint = TRY(llm::load_checkpoint(inputs.model));
    }
    if (options.quantize)
        TRY(apply_quantisation(model.checkpoint));
    if (!model.is_gguf) {
        // llama2.c int8 (quant=q8's copies, or a version-2 file as loaded) in groups of 32.
        u64 start = rt::read_cycles();
        if (size_t repacked = TRY(llm::interleave_weights(model.checkpoint.weights, inputs.model)))
            rt::println("[model] {} int8 matrices interleaved in groups of eight rows in {:.1f} ms", repacked,
                rt::CycleClock::to_microseconds(rt::read_cycles() - start) / 1000.0);
    }
    model.model_context = model.checkpoint.config.seq_len;
    TRY(fit_context(model.checkpoint.config, options));
    describe_model(model.checkpoint, model.model_context);
    model.plan = TRY(choose_kernels(options, model.checkpoint, inputs.cpu));
    if (!model.is_gguf)
        model.bin_tokenizer = TRY(llm::Tokenizer::load(inputs.tokenizer, model.checkpoint.config.vocab_size));
    return {};
}

}
