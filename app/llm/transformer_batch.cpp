// The forward pass over a batch of tokens at consecutive positions (the prompt, a chat
// turn's template text). Every step is the one-token step (transformer.cpp) applied to
// each token with the same kernels in the same order, so the logits are bit for bit those
// of token-by-token processing; what changes is that the matrix products read each
// weight tile once for the whole batch (batch.h) and the new keys and values of all the
// batch's tokens go into the cache in one product.
#include "batch.h"
#include "kernels/kernels.h"
#include "ops.h"
#include "transformer.h"
#include <rt/profile.h>
#include <rt/utility.h>
#include <rt/work_pool.h>

namespace llm {

float* Transformer::forward_batch(rt::Span<const i32> tokens, i32 position)
{
    i32 capacity = batch_capacity();
    if (capacity <= 1) {
        float* logits = m_logits.data();
        for (size_t i = 0; i < tokens.size(); ++i)
            logits = forward(tokens[i], position + i32(i));
        return logits;
    }
    for (size_t done = 0; done < tokens.size();) {
        size_t count = rt::min(tokens.size() - done, size_t(capacity));
        forward_chunk({ tokens.data() + done, count }, position + i32(done));
        done += count;
    }
    // Only the last token's logits are wanted: its residual stream goes through the
    // classifier as forward() would send it.
    if (tokens.size() == 0)
        return m_logits.data();
    size_t last = (tokens.size() - 1) % size_t(capacity);
    __builtin_memcpy(m_x.data(), m_batch.x.data() + last * m_batch.dim_stride, size_t(m_config.dim) * sizeof(float));
    return classify();
}

void Transformer::prepare_batch(const float* x, size_t stride, i32 n, i32 count)
{
    BatchState& b = m_batch;
    for (i32 t = 0; t < count; ++t)
        m_batch_inputs[t] = quantize_input(x + size_t(t) * stride, n, b.input_q.data() + size_t(t) * b.input_stride,
            b.input_s.data() + size_t(t) * b.input_stride, b.input_sums.data() + size_t(t) * b.sums_stride, true);
}

void Transformer::attention_batch(i32 layer, i32 position, i32 count)
{
    BatchState& b = m_batch;
    i32 head_size = m_config.head_size();
    // Heads are independent: split them between the cores. Each head runs the batch's
    // tokens in order, token t seeing the cache up to its own position (causal).
    rt::WorkPool::the().parallel_for(size_t(m_config.n_heads), 1, [&](size_t first_head, size_t end_head) {
        for (i32 h = i32(first_head); h < i32(end_head); ++h)
            for (i32 token = 0; token < count; ++token) {
                size_t at = size_t(token) * b.dim_stride + size_t(h * head_size);
                attend(layer, h, b.q.data() + at, position + token, m_attention.data() + size_t(h) * size_t(m_config.seq_len), b.xb.data() + at);
            }
    }, kernels::active().workers_for(kernels::Op::Attention));
}

void Transformer::forward_chunk(rt::Span<const i32> tokens, i32 position)
{
    Config const& c = m_config;
    Weights const& w = *m_weights;
    BatchState& b = m_batch;
    i32 count = i32(tokens.size());
    size_t kv_dim = size_t(c.kv_dim());
    size_t ds = b.dim_stride, hs = b.hidden_stride;
    auto row = [](rt::HeapArray<float> const& array, size_t stride, i32 t) { return array.data() + size_t(t) * stride; };
    rt::Span<const MatmulInput> inputs { m_batch_inputs, size_t(count) };

    for (i32 t = 0; t < count; ++t) {
        rope_tables(row(b.rope_cos, b.rope_stride, t), row(b.rope_sin, b.rope_stride, t), position + t);
        embed(tokens[size_t(t)], row(b.x, ds, t));
    }
    make_room(position, count);

    for (i32 layer = 0; layer < c.n_layers; ++layer) {
        Layer const& l = w.layers[size_t(layer)];
        // The batch's keys and values go straight into their positions' cache slots,
        // which lie one after another.
        float* k = m_key_cache.data() + cache_index(layer, position);
        float* v = m_value_cache.data() + cache_index(layer, position);
        for (i32 t = 0; t < count; ++t)
            sublayer_input(l.attention_norm, row(b.xb, ds, t), row(b.x, ds, t));
        {
            prepare_batch(b.xb.data(), ds, c.dim, count);
            rt::ScopedCycles probe { "matmul qkv" };
            BatchProduct qkv[] = { { b.q.data(), ds, &l.wq }, { k, kv_dim, &l.wk }, { v, kv_dim, &l.wv } };
            matmul_batch(qkv, inputs);
        }
        for (i32 t = 0; t < count; ++t) {
            add_qkv_biases(l, row(b.q, ds, t), k + size_t(t) * kv_dim, v + size_t(t) * kv_dim);
            normalize_heads(l, row(b.q, ds, t), k + size_t(t) * kv_dim);
        }
        if (c.rotary(layer)) {
            rt::ScopedCycles probe { "rope" };
            auto rope_apply = c.rope_halves ? ops::rope_apply_halves : ops::rope_apply;
            for (i32 t = 0; t < count; ++t)
                rope_apply(row(b.q, ds, t), k + size_t(t) * kv_dim, c.q_dim(), c.kv_dim(), c.head_size(), c.rotary_width(),
                    rope_table(row(b.rope_cos, b.rope_stride, t), layer), rope_table(row(b.rope_sin, b.rope_stride, t), layer));
        }
        {
            rt::ScopedCycles probe { "attention" };
            attention_batch(layer, position, count);
        }
        {
            prepare_batch(b.xb.data(), ds, c.q_dim(), count);
            rt::ScopedCycles probe { "matmul wo" };
            BatchProduct wo[] = { { b.xb2.data(), ds, &l.wo } };
            matmul_batch(wo, inputs);
        }
        for (i32 t = 0; t < count; ++t)
            join_residual(l.post_attention_norm, row(b.xb2, ds, t), row(b.x, ds, t));
        for (i32 t = 0; t < count; ++t)
            sublayer_input(l.ffn_norm, row(b.xb, ds, t), row(b.x, ds, t));
        {
            prepare_batch(b.xb.data(), ds, c.dim, count);
            rt::ScopedCycles probe { "matmul ffn" };
            BatchProduct gate_and_up[] = { { b.hb.data(), hs, &l.w1 }, { b.hb2.data(), hs, &l.w3 } };
            matmul_batch(gate_and_up, inputs);
        }
        for (i32 t = 0; t < count; ++t)
            gate(row(b.hb, hs, t), row(b.hb2, hs, t));
        {
            prepare_batch(b.hb.data(), hs, c.hidden_dim, count);
            rt::ScopedCycles probe { "matmul ffn" };
            BatchProduct down[] = { { b.xb.data(), ds, &l.w2 } };
            matmul_batch(down, inputs);
        }
        for (i32 t = 0; t < count; ++t)
            join_residual(l.post_ffn_norm, row(b.xb, ds, t), row(b.x, ds, t));
    }
}

}
