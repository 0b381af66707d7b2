#pragma once
// The Llama forward pass over one token: the weights stay in the module, every
// activation buffer and the KV cache are allocated once, up front.
#include "checkpoint.h"
#include <rt/heap.h>

namespace llm {

class Transformer {
public:
    // Bytes of activations and KV cache a model needs (what create() allocates).
    static u64 state_bytes(Config const&);
    static rt::ErrorOr<Transformer> create(Checkpoint const&);

    // Runs `token` at `position` (0-based) and returns the logits over the vocabulary.
    float* forward(i32 token, i32 position);

    Config const& config() const { return m_config; }

private:
    Transformer(Config const& config, Weights const& weights) : m_config(config), m_weights(weights) {}
    void attention(i32 layer, i32 position);

    Config m_config;
    Weights m_weights;
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
};

}
