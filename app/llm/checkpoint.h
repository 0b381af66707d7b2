#pragma once
// llama2.c checkpoints: a header of seven int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means the classifier has its own
// weights) followed by fp32 tensors. Weights are used in place, straight from the module.
#include <rt/error.h>
#include <rt/heap.h>
#include <rt/span.h>

namespace llm {

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
    float norm_epsilon { 1e-5f };  // added to the mean square in RMS normalisation

    i32 head_size() const { return dim / n_heads; }
    i32 kv_dim() const { return n_kv_heads * head_size(); }
    u64 parameter_count() const;
};

// Pointers into the checkpoint; shapes as [rows][columns], row-major.
struct Weights {
    const float* token_embedding; // [vocab_size][dim]
    const float* rms_attention;   // [n_layers][dim]
    const float* wq;              // [n_layers][dim][dim]
    const float* wk;              // [n_layers][kv_dim][dim]
    const float* wv;              // [n_layers][kv_dim][dim]
    const float* wo;              // [n_layers][dim][dim]
    const float* rms_ffn;         // [n_layers][dim]
    const float* w1;              // [n_layers][hidden_dim][dim]  gate
    const float* w2;              // [n_layers][dim][hidden_dim]  down
    const float* w3;              // [n_layers][hidden_dim][dim]  up
    const float* rms_final;       // [dim]
    const float* classifier;      // [vocab_size][dim]
};

// One layer's matrix in int8: values q (row-major, like the fp32 matrix) and one scale per
// group of `group` consecutive values.
struct QuantizedMatrix {
    const i8* q;
    const float* s;
};

struct QuantizedWeights {
    i32 group { 0 };
    // Per layer: [n_layers] entries each.
    rt::HeapArray<QuantizedMatrix> wq, wk, wv, wo, w1, w2, w3;
    QuantizedMatrix classifier {};
    // Storage when the weights were quantised at load time (quant=q8).
    rt::HeapArray<i8> owned_values;
    rt::HeapArray<float> owned_scales;
};

enum class WeightFormat { Float32, Int8, Gguf };

// A GGUF matrix used in place: its ggml type (F32, F16, Q8_0, Q4_0) and its bytes.
struct BlockMatrix {
    u32 type;
    const u8* data;
};

// GGUF weights: per layer [n_layers] entries; norms are F32 and set in Weights.
struct GgufWeights {
    rt::HeapArray<BlockMatrix> wq, wk, wv, wo, w1, w2, w3;
    rt::HeapArray<const float*> attention_norms, ffn_norms; // F32, in place
    BlockMatrix embedding {};
    BlockMatrix classifier {};
    // F32 tensors that a file with general.alignment below 4 left at unaligned addresses,
    // copied once at load so every kernel can read them as floats.
    rt::HeapArray<float> realigned;
};

struct Checkpoint {
    Config config;
    Weights weights; // fp32; for int8 models only the norms and the embedding are set
    WeightFormat format { WeightFormat::Float32 };
    QuantizedWeights quantized;
    rt::HeapArray<float> dequantized_embedding; // int8 models: the embedding table as floats
    GgufWeights gguf;
    u64 weight_bytes { 0 };   // bytes of weights one token streams through
};

constexpr size_t checkpoint_header_bytes = 7 * sizeof(i32);
constexpr size_t int8_header_bytes = 256;
constexpr u32 int8_magic = 0x616b3432; // "ak42"

// Validates the header and the module's size before anything else is read. Reads fp32
// (version 0) checkpoints and llama2.c's version-2 int8 exports.
rt::ErrorOr<Checkpoint> load_checkpoint(rt::Bytes module);

// Quantises an fp32 checkpoint's matrices to int8 in groups of `group`, exactly as
// llama2.c's export does (so stories260K at group 32 equals stories260K_q80.bin).
rt::ErrorOr<void> quantize_checkpoint(Checkpoint&, i32 group);

// The header values alone, checked for sense (shared with the tools that write checkpoints).
rt::ErrorOr<Config> validate_config(i32 const (&header)[7]);

}
