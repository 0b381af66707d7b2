#pragma once
// Models: their shape (Config) and weights (tensors of any type, tensor.h), loaded from
// llama2.c checkpoints (here) or GGUF files (gguf_model.h). A llama2.c checkpoint is a
// header of seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
// seq_len; a negative vocab_size means the classifier has its own weights) followed by
// fp32 tensors, or llama2.c's version-2 int8 export. GGUF tensors are of the types
// tensor.h lists. Weights are used in place, straight from the module.
#include "tensor.h"
#include <rt/error.h>
#include <rt/heap.h>
#include <rt/span.h>
#include <rt/utility.h>

namespace llm {

// The widest residual stream (and query vector) a model may have: far above any model's,
// low enough that products of sizes stay in 64 bits.
constexpr i32 max_dim = 1 << 16;

struct Config {
    i32 dim;        // width of the residual stream
    i32 hidden_dim; // width of the feed-forward layer
    i32 n_layers;
    i32 n_heads;    // query heads
    i32 n_kv_heads; // key/value heads (fewer than n_heads: grouped-query attention)
    i32 vocab_size;
    i32 seq_len;    // context length
    bool shared_classifier;
    float rope_theta { 10000.0f }; // RoPE base frequency
    // Linear RoPE scaling (rope.scaling.factor): positions divided by it, in the layers
    // that see the whole context (Gemma 3 4B's factor 8); 1: none.
    float rope_scale { 1.0f };
    // YaRN (rope.scaling.type yarn), in the same layers: pair i's frequency f becomes
    // f * (ramp + (1 - ramp) / yarn_factor), where ramp is yarn_ext_factor for the pairs
    // below yarn_low (fast turns, kept), 0 above yarn_high (slow ones, interpolated) and
    // falls linearly between; RoPE's cosines and sines are then scaled by 1 + 0.1 ln(factor)
    // (in rope_attention_factor). 0: none.
    float yarn_factor { 0.0f };
    float yarn_low { 0.0f }, yarn_high { 0.0f }, yarn_ext_factor { 1.0f };
    float norm_epsilon { 1e-5f };  // added to the mean square in RMS normalisation
    // RoPE turns each head's dimensions i and i + head_size / 2 together (GPT-NeoX's way,
    // Qwen2's) rather than 2i and 2i + 1 (llama's: its GGUF files' query and key rows are
    // ordered for that).
    bool rope_halves { false };
    // The width of one attention head when the file names it (Qwen3's key_length: heads
    // wider than dim / n_heads, so the queries are wider than the residual stream);
    // 0: dim / n_heads, as in llama2.c's checkpoints.
    i32 head_dim { 0 };
    // RoPE turns the first `rope_dim` dimensions of each head and leaves the rest
    // (rope.dimension_count: Phi-4-mini's 96 of 128); 0: all of them.
    i32 rope_dim { 0 };
    // Gemma 3's differences from llama (Gemma 2's too), all off for other models:
    //  - the embedding row is multiplied by sqrt(dim) before the first layer
    //    (`embedding_scale`, which Granite sets too);
    //  - the feed-forward gate is GELU (tanh form) rather than SiLU;
    //  - sliding-window attention: in every `sliding_period` layers all but the last see
    //    only the last `sliding_window` positions (their own included), with RoPE of base
    //    `rope_theta_local`; the last sees the whole context with rope_theta.
    float embedding_scale { 1.0f };
    bool gelu_gate { false };
    i32 sliding_window { 0 }; // 0: every layer sees the whole context
    i32 sliding_period { 0 };
    float rope_theta_local { 10000.0f };
    // Gemma 2's, besides the above (a period of 2, one base for both kinds of layer):
    //  - soft-capping: attention scores become cap * tanh(score / cap) before the softmax,
    //    and the logits the same with their own cap (0: none; Gemma 3 may cap its logits);
    //  - the scores' divisor sqrt(query_scale_width), which is Gemma's query_pre_attn_scalar:
    //    dim / n_heads in the 27B models, not their head width (0: the head width).
    float attention_softcap { 0.0f };
    float final_softcap { 0.0f };
    i32 query_scale_width { 0 };
    // Phi-3's LongRoPE (Weights::rope_factors and rope_factors_long): the long factors
    // when a run holds more positions than `rope_original_context` (0: no long factors),
    // and RoPE's cosines and sines times `rope_attention_factor` (so every score times its
    // square) either way.
    i32 rope_original_context { 0 };
    float rope_attention_factor { 1.0f };
    // Granite's multipliers: every score times `attention_scale` (0: divided by
    // sqrt(scores_scale_width()) instead), each sublayer's output times `residual_scale`
    // before it joins the residual stream, the logits divided by `logit_scale`.
    float attention_scale { 0.0f };
    float residual_scale { 1.0f };
    float logit_scale { 1.0f };
    // SmolLM3's layers without position embedding: every `no_rope_period`-th layer (the
    // 4th, 8th ...) leaves its queries and keys unturned (0: every layer turns them).
    i32 no_rope_period { 0 };
    bool rotary(i32 layer) const { return no_rope_period == 0 || (layer + 1) % no_rope_period != 0; }
    bool long_rope(i32 positions) const { return rope_original_context > 0 && positions > rope_original_context; }

    // (A period of 0 makes every layer local, as llama.cpp reads it.)
    bool sliding(i32 layer) const
    {
        return sliding_window > 0 && (sliding_period == 0 || layer % sliding_period < sliding_period - 1);
    }
    // RoPE's tables come in one set, or two where local layers have their own base (the
    // local one second).
    i32 rope_sets() const { return sliding_window > 0 ? 2 : 1; }
    // The first position a layer's query at `position` sees.
    i32 first_visible(i32 layer, i32 position) const { return sliding(layer) ? rt::max(0, position - sliding_window + 1) : 0; }
    i32 head_size() const { return head_dim ? head_dim : dim / n_heads; }
    i32 rotary_width() const { return rope_dim ? rope_dim : head_size(); }
    i32 scores_scale_width() const { return query_scale_width ? query_scale_width : head_size(); }
    // What each attention score (query . key) is divided by.
    float scores_divisor() const;
    i32 kv_dim() const { return n_kv_heads * head_size(); }
    i32 q_dim() const { return n_heads * head_size(); } // the queries and the attention's output
    // The longest vector a matrix product reads (its input buffers are this wide).
    i32 widest_input() const { return rt::max(rt::max(dim, hidden_dim), q_dim()); }
    u64 parameter_count() const;
};

// One transformer layer's tensors; the shapes are [rows][columns] (a norm is one row).
struct Layer {
    Tensor attention_norm; // [1][dim], F32 (OLMo 2 has none, nor ffn_norm: data null)
    Tensor wq;             // [q_dim][dim]
    Tensor wk;             // [kv_dim][dim]
    Tensor wv;             // [kv_dim][dim]
    Tensor wo;             // [dim][q_dim]
    Tensor ffn_norm;       // [1][dim], F32
    Tensor w1;             // [hidden_dim][dim]  gate
    Tensor w2;             // [dim][hidden_dim]  down
    Tensor w3;             // [hidden_dim][dim]  up
    // Qwen2 adds a bias to the query, key and value projections (none: data null).
    Tensor q_bias;         // [1][q_dim], F32
    Tensor k_bias;         // [1][kv_dim], F32
    Tensor v_bias;         // [1][kv_dim], F32
    // Qwen3 RMS-normalises each head of the queries and keys before RoPE, every head with
    // the same weights (none: data null); OLMo 2 all the queries, and all the keys, as one.
    Tensor q_norm;         // [1][head_size], F32 (OLMo 2: [1][q_dim])
    Tensor k_norm;         // [1][head_size], F32 (OLMo 2: [1][kv_dim])
    // Gemma 2 and 3 RMS-normalise the attention's and the feed-forward's outputs before adding
    // them to the residual stream (none: data null).
    Tensor post_attention_norm; // [1][dim], F32
    Tensor post_ffn_norm;       // [1][dim], F32
};

// The weights of any model file, in one structure: tensors used in place where the file
// holds them (module memory), or in storage owned here.
struct Weights {
    Tensor embedding;             // [vocab_size][dim]
    rt::HeapArray<Layer> layers;  // [n_layers]
    Tensor final_norm;            // [1][dim], F32
    Tensor classifier;            // [vocab_size][dim] (the embedding when shared)
    // Llama 3.1's and 3.2's RoPE scaling: each frequency divided by its factor (none: null).
    // Phi-3's LongRoPE short factors, the same way, and its long ones for long runs
    // (Config::long_rope).
    Tensor rope_factors;          // [1][rotary_width / 2], F32
    Tensor rope_factors_long;     // [1][rotary_width / 2], F32
    // How the inputs of the matrix products are quantised: not at all (0), or in groups of
    // `input_group` (the int8 types' scheme), with each group's sum when `input_sums`
    // (the k-quants' mins multiply them; int8 rows interleaved at load take an offset off).
    // GGUF models quantise for all their matrices.
    i32 input_group { 0 };
    bool input_sums { false };
    // And the sums of each 16 values (Q6_Kx8's batch kernels take them; interleave.h).
    bool input_sums16 { false };
    // Storage: int8 values and scales made at load time (quant=q8), and F32 tensors that a
    // GGUF file left at unaligned addresses, copied once so every kernel can read floats.
    rt::HeapArray<i8> owned_values;
    rt::HeapArray<float> owned_scales;
    rt::HeapArray<float> realigned;
};

// Where the weights came from: for messages and the tools; the forward pass never asks.
enum class WeightFormat { Float32, Int8, Gguf };
// The layer designs BareFlow runs: llama's (llama2.c's checkpoints too), Qwen2's (query,
// key and value biases; RoPE over each head's halves) and Qwen3's (no biases; each head's
// queries and keys RMS-normalised before RoPE over halves), Gemma 2's and Gemma 3's (Config
// and Layer say what they change), Phi-3's (llama's layer with RoPE over halves, its
// files' query, key and value matrices fused in one, and gate and up; LongRoPE) and
// Granite's (llama's layer with Config's multipliers), SmolLM3's (llama's, with some
// layers not turned by RoPE), ERNIE 4.5's (llama's, under its own name) and OLMo 2's (no
// norms before the sublayers, Gemma's after them; the queries and keys RMS-normalised as
// whole vectors; OLMo 3's sliding window).
enum class Architecture { Llama, Qwen2, Qwen3, Gemma2, Gemma3, Phi3, Granite, SmolLM3, Ernie45, Olmo2 };

struct Checkpoint {
    Config config;
    Weights weights;
    WeightFormat format { WeightFormat::Float32 };
    u64 weight_bytes { 0 }; // bytes of weights one token streams through
    Architecture architecture { Architecture::Llama };
    // A GGUF file's tensors the architecture's layer has no place for (a variant's
    // biases, a mixture of experts' routers ...), and the first one's name.
    u32 unused_tensors { 0 };
    rt::StringView first_unused_tensor;
};

// The general.architecture name of each design in GGUF files, and "GGUF " and that name.
struct ArchitectureName {
    Architecture design;
    const char* format_name; // "GGUF qwen3"
    rt::StringView name() const { return { format_name + 5, __builtin_strlen(format_name) - 5 }; }
};
inline constexpr ArchitectureName architecture_names[] = { { Architecture::Llama, "GGUF llama" }, { Architecture::Qwen2, "GGUF qwen2" },
    { Architecture::Qwen3, "GGUF qwen3" }, { Architecture::Gemma2, "GGUF gemma2" }, { Architecture::Gemma3, "GGUF gemma3" },
    { Architecture::Phi3, "GGUF phi3" }, { Architecture::Granite, "GGUF granite" }, { Architecture::SmolLM3, "GGUF smollm3" },
    { Architecture::Ernie45, "GGUF ernie4_5" }, { Architecture::Olmo2, "GGUF olmo2" } };

// "llama2.c fp32", "llama2.c int8", or "GGUF " and the architecture's name ("GGUF qwen3").
const char* format_name(Checkpoint const&);

constexpr size_t checkpoint_header_bytes = 7 * sizeof(i32);
constexpr size_t int8_header_bytes = 256;
constexpr u32 int8_magic = 0x616b3432; // "ak42"

// Validates the header and the module's size before anything else is read. Reads fp32
// (version 0) checkpoints and llama2.c's version-2 int8 exports.
rt::ErrorOr<Checkpoint> load_checkpoint(rt::Bytes module);

// Quantises an fp32 checkpoint's matrices to int8 (Q8) in groups of `group`, exactly as
// llama2.c's export does (so stories260K at group 32 equals stories260K_q80.bin). The
// values are stored in file order: embedding, then each matrix kind for every layer
// (wq of all layers, wk ...), then the classifier when it is not shared.
rt::ErrorOr<void> quantize_checkpoint(Checkpoint&, i32 group);

// The header values alone, checked for sense (shared with the tools that write checkpoints).
rt::ErrorOr<Config> validate_config(i32 const (&header)[7]);

}
