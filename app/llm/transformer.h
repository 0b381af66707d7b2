#pragma once
// The Llama forward pass over one token. The weights stay where the checkpoint has them
// (module memory, or the int8 copies quantize_checkpoint made), whatever their type;
// every activation buffer
// and the KV cache are allocated once, up front. The operations run through the active
// kernel plan (kernels::activate).
#include "batch_state.h"
#include "checkpoint.h"
#include "screened_argmax.h"
#include <rt/heap.h>

namespace llm {

// How many prompt tokens create() processes together at most (a batch's activations are
// this many times one token's); fewer when memory is short.
constexpr i32 default_batch = 32;

class Transformer {
public:
    // Bytes of activations and KV cache a model needs (what create() allocates), without
    // the prompt batch's (BatchState::bytes).
    static u64 state_bytes(Config const&);
    // Positions the cache keeps for a layer that sees only a window (Config::sliding): the
    // window twice and a batch, when that is fewer than the run's (seq_len). Its keys and
    // values then lie in that many slots, the oldest still seen first: when a token's
    // would not fit, the last window's move to the start (make_room), one move per
    // window's worth of tokens. So Gemma 3 1B's 32768-position context takes 5 of its 6
    // layers' 2 x 512 + 64 positions instead.
    static i32 window_cache_positions(Config const&);
    // `checkpoint` must outlive the transformer. Prompts are processed in batches of up
    // to `batch` tokens (1: token by token), fewer if that many do not fit in memory;
    // `batch_required` makes that an error instead.
    static rt::ErrorOr<Transformer> create(Checkpoint const& checkpoint, i32 batch = default_batch, bool batch_required = false);

    // Runs `token` at `position` (0-based) and returns the logits over the vocabulary.
    // Positions follow the last one run, or start over at 0 (a window's cache keeps only
    // the positions after the last one's window).
    float* forward(i32 token, i32 position);
    // Greedy decoding's next token: forward() and then the index of the first largest
    // logit, -1 when a logit is NaN or infinite (argmax() of forward's logits). Once
    // screen_classifier() has made the int8 copy, only the logits that can be the largest
    // are computed (screened_argmax.h).
    i32 forward_argmax(i32 token, i32 position);
    // Makes that copy; an error when the classifier's type or width cannot be screened or
    // the copy does not fit in memory.
    rt::ErrorOr<void> screen_classifier();
    ScreenedArgmax const& screen() const { return m_screen; }
    // Runs `tokens` at positions `position`, `position` + 1, ... and returns the logits
    // after the last: the bits `forward` would give token by token (transformer_batch.cpp).
    float* forward_batch(rt::Span<const i32> tokens, i32 position);
    // Tokens forward_batch processes together.
    i32 batch_capacity() const { return m_batch.capacity(); }

    Config const& config() const { return m_config; }

private:
    Transformer(Checkpoint const& checkpoint) : m_config(checkpoint.config), m_weights(&checkpoint.weights) {}
    // The input of the matrix products, quantised as the model's matrices want it (into
    // q, s and sums; x alone when they take floats). `batch`: for a batch kernel, which
    // for Q6_Kx8 rows also takes the 16-value sums (after the 32-value ones in `sums`);
    // the one-token kernels make their own.
    MatmulInput quantize_input(const float* x, i32 n, i8* q, float* s, i32* sums, bool batch) const;
    MatmulInput prepare(const float* x, i32 n);
    // Where a layer's key (and value) of `position` lies in m_key_cache (m_value_cache).
    size_t cache_index(i32 layer, i32 position) const
    {
        bool windowed = m_window_cache_positions < m_config.seq_len && m_config.sliding(layer);
        return m_cache_offsets[size_t(layer)] + size_t(windowed ? position - m_window_base : position) * size_t(m_config.kv_dim());
    }
    // Makes room in the windowed layers' caches for positions [position, position + count).
    void make_room(i32 position, i32 count);
    void attention(i32 layer, i32 position);
    // One head's attention for query `q` at `position` over the layer's cache up to it
    // (from config().first_visible): `scores` (position + 1 floats) scratch, `out` the
    // head's head_size outputs.
    void attend(i32 layer, i32 head, const float* q, i32 position, float* scores, float* out) const;
    // Every layer for `token` at `position`, leaving the residual stream in m_x.
    void run_layers(i32 token, i32 position);
    void add_qkv_biases(Layer const&, float* q, float* k, float* v) const;
    // A sublayer's input from the residual stream `x`: its RMS norm, or `x` itself where
    // the layer has no norm before the sublayer (OLMo 2's).
    void sublayer_input(Tensor const& norm, float* out, const float* x) const;
    // Qwen3's and Gemma 3's RMS norm of each query and key head, OLMo 2's of all the queries
    // and all the keys (nothing for other models).
    void normalize_heads(Layer const&, float* q, float* k) const;
    // The embedding row of `token` into x (scaled for Gemma and Granite).
    void embed(i32 token, float* x) const;
    // The layer's RoPE tables (of its set: rope_sets()) among `cosines`/`sines` of one position.
    const float* rope_table(const float* table, i32 layer) const
    {
        return table + (m_config.sliding(layer) ? m_config.head_size() / 2 : 0);
    }
    // Both sets' tables for `position`.
    void rope_tables(float* cosines, float* sines, i32 position) const;
    // The feed-forward gate: SiLU (llama) or GELU (Gemma 3) of hb, times hb2.
    void gate(float* hb, const float* hb2) const;
    // A sublayer's output `out` joins the residual stream `x`: after Gemma's norm of it
    // (`post_norm`, when the layer has one) and Granite's residual scale.
    void join_residual(Tensor const& post_norm, float* out, float* x) const;
    // The final norm on the residual stream in m_x, in place.
    void final_norm();
    // The final norm and the classifier on the residual stream in m_x.
    float* classify();
    // One batch: at most batch_capacity() tokens.
    void forward_chunk(rt::Span<const i32> tokens, i32 position);
    // The batch's matrix inputs from rows of `x` (`count` rows of `n`, `stride` apart).
    void prepare_batch(const float* x, size_t stride, i32 n, i32 count);
    void attention_batch(i32 layer, i32 position, i32 count);

    Config m_config;
    Weights const* m_weights;
    rt::HeapArray<float> m_x;           // [dim] residual stream
    rt::HeapArray<float> m_xb;          // [max(dim, q_dim)] normalised input / attention output
    rt::HeapArray<float> m_xb2;         // [dim]
    rt::HeapArray<float> m_hb;          // [hidden_dim]
    rt::HeapArray<float> m_hb2;         // [hidden_dim]
    rt::HeapArray<float> m_q;           // [q_dim]
    rt::HeapArray<float> m_key_cache;   // [n_layers][seq_len or window_cache_positions][kv_dim]
    rt::HeapArray<float> m_value_cache; // the same
    rt::HeapArray<size_t> m_cache_offsets; // [n_layers] where each layer's keys begin
    i32 m_window_cache_positions { 0 }; // window_cache_positions()
    i32 m_window_base { 0 };            // the position in the windowed caches' first slot
    rt::HeapArray<float> m_attention;   // [n_heads][seq_len]
    rt::HeapArray<float> m_logits;      // [vocab_size]
    rt::HeapArray<float> m_rope_frequencies; // [rope_sets][head_size / 2], the same at every position
    rt::HeapArray<float> m_rope_cos;    // [rope_sets][head_size / 2] for the current position
    rt::HeapArray<float> m_rope_sin;
    rt::HeapArray<i8> m_input_q;        // [max(dim, hidden_dim)] int8 input
    rt::HeapArray<float> m_input_s;     // its group scales
    rt::HeapArray<i32> m_input_sums;    // its group sums (GGUF groups of 32; input_sums_count)
    ScreenedArgmax m_screen;            // greedy decoding's int8 classifier (empty until screen_classifier)
    BatchState m_batch;                 // the prompt batch's activations
    MatmulInput m_batch_inputs[max_batch]; // the batch's matrix inputs (prepare_batch)
};

}
