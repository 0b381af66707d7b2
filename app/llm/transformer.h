#pragma once
// The Llama forward pass over one token. The weights stay where the checkpoint has them
// (module memory, or the int8 copies quantize_checkpoint made), whatever their type;
// every activation buffer
// and the KV cache are allocated once, up front. The operations run through the active
// kernel plan (kernels::activate).
#include "checkpoint.h"
#include <rt/heap.h>

namespace llm {

class Transformer {
public:
    // Bytes of activations and KV cache a model needs (what create() allocates).
    static u64 state_bytes(Config const&);
    // `checkpoint` must outlive the transformer.
    static rt::ErrorOr<Transformer> create(Checkpoint const& checkpoint);

    // Runs `token` at `position` (0-based) and returns the logits over the vocabulary.
    float* forward(i32 token, i32 position);

    Config const& config() const { return m_config; }

private:
    Transformer(Checkpoint const& checkpoint) : m_config(checkpoint.config), m_weights(&checkpoint.weights) {}
    // The input of the matrix products, quantised as the model's matrices want it.
    MatmulInput prepare(const float* x, i32 n);
    void attention(i32 layer, i32 position);

    Config m_config;
    Weights const* m_weights;
    rt::HeapArray<float> m_x;           // [dim] residual stream
    rt::HeapArray<float> m_xb;          // [dim] normalised input / attention output
    rt::HeapArray<float> m_xb2;         // [dim]
    rt::HeapArray<float> m_hb;          // [hidden_dim]
    rt::HeapArray<float> m_hb2;         // [hidden_dim]
    rt::HeapArray<float> m_q;           // [dim]
    rt::HeapArray<float> m_key_cache;   // [n_layers][seq_len][kv_dim]
    rt::HeapArray<float> m_value_cache; // [n_layers][seq_len][kv_dim]
    rt::HeapArray<float> m_attention;   // [n_heads][seq_len]
    rt::HeapArray<float> m_logits;      // [vocab_size]
    rt::HeapArray<float> m_rope_cos;    // [head_size / 2] for the current position
    rt::HeapArray<float> m_rope_sin;
    rt::HeapArray<i8> m_input_q;        // [max(dim, hidden_dim)] int8 input
    rt::HeapArray<float> m_input_s;     // its group scales
    rt::HeapArray<i32> m_input_sums;    // its group sums (GGUF groups of 32)
};

}
