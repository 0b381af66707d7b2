#pragma once
// llama2.c checkpoints: a header of seven int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means the classifier has its own
// weights) followed by fp32 tensors. Weights are used in place, straight from the module.
#include <rt/error.h>
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

struct Checkpoint {
    Config config;
    Weights weights;
    u64 weight_bytes;
};

constexpr size_t checkpoint_header_bytes = 7 * sizeof(i32);

// Validates the header and the module's size before anything else is read.
rt::ErrorOr<Checkpoint> load_checkpoint(rt::Bytes module);

// The header values alone, checked for sense (shared with the tools that write checkpoints).
rt::ErrorOr<Config> validate_config(i32 const (&header)[7]);

}
