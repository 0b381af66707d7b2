#include "transformer.h"
#include "ops.h"
#include <rt/math.h>
#include <rt/profile.h>

namespace llm {

u64 Transformer::state_bytes(Config const& c)
{
    u64 cache = u64(c.n_layers) * u64(c.seq_len) * u64(c.kv_dim());
    u64 floats = 4 * u64(c.dim) + 2 * u64(c.hidden_dim) + 2 * cache + u64(c.n_heads) * u64(c.seq_len) + u64(c.vocab_size);
    return floats * sizeof(float);
}

rt::ErrorOr<Transformer> Transformer::create(Checkpoint const& checkpoint)
{
    Config const& c = checkpoint.config;
    u64 needed = state_bytes(c);
    // One clear message up front beats failing on whichever buffer happens to be last.
    if (needed > rt::Heap::the().largest_free_block())
        return rt::Error::format("memory: the KV cache and activations need {} MiB ({} bytes) in one block, only {} MiB is free; "
                                 "give the machine more memory or use a shorter context",
            (needed + (1 << 20) - 1) >> 20, needed, rt::Heap::the().largest_free_block() >> 20);
    Transformer t(c, checkpoint.weights);
    size_t cache = size_t(c.n_layers) * size_t(c.seq_len) * size_t(c.kv_dim());
    t.m_x = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
    t.m_xb = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
    t.m_xb2 = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
    t.m_hb = TRY(rt::HeapArray<float>::allocate(size_t(c.hidden_dim)));
    t.m_hb2 = TRY(rt::HeapArray<float>::allocate(size_t(c.hidden_dim)));
    t.m_q = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
    t.m_key_cache = TRY(rt::HeapArray<float>::allocate(cache));
    t.m_value_cache = TRY(rt::HeapArray<float>::allocate(cache));
    t.m_attention = TRY(rt::HeapArray<float>::allocate(size_t(c.n_heads) * size_t(c.seq_len)));
    t.m_logits = TRY(rt::HeapArray<float>::allocate(size_t(c.vocab_size)));
    return t;
}

void Transformer::attention(i32 layer, i32 position)
{
    Config const& c = m_config;
    i32 head_size = c.head_size();
    i32 kv_dim = c.kv_dim();
    i32 queries_per_kv_head = c.n_heads / c.n_kv_heads;
    size_t layer_offset = size_t(layer) * size_t(c.seq_len) * size_t(kv_dim);
    float head_scale = rt::math::sqrtf(float(head_size));

    for (i32 h = 0; h < c.n_heads; ++h) {
        const float* q = m_q.data() + h * head_size;
        float* scores = m_attention.data() + size_t(h) * size_t(c.seq_len);
        size_t kv_head_offset = size_t(h / queries_per_kv_head) * size_t(head_size);
        for (i32 t = 0; t <= position; ++t) {
            const float* k = m_key_cache.data() + layer_offset + size_t(t) * size_t(kv_dim) + kv_head_offset;
            float score = 0.0f;
            for (i32 i = 0; i < head_size; ++i)
                score += q[i] * k[i];
            scores[t] = score / head_scale;
        }
        ops::softmax(scores, position + 1);
        float* out = m_xb.data() + h * head_size;
        for (i32 i = 0; i < head_size; ++i)
            out[i] = 0.0f;
        for (i32 t = 0; t <= position; ++t) {
            const float* v = m_value_cache.data() + layer_offset + size_t(t) * size_t(kv_dim) + kv_head_offset;
            float weight = scores[t];
            for (i32 i = 0; i < head_size; ++i)
                out[i] += weight * v[i];
        }
    }
}

float* Transformer::forward(i32 token, i32 position)
{
    Config const& c = m_config;
    Weights const& w = m_weights;
    size_t dim = size_t(c.dim), hidden = size_t(c.hidden_dim), kv_dim = size_t(c.kv_dim());
    float* x = m_x.data();

    const float* embedding = w.token_embedding + size_t(token) * dim;
    for (size_t i = 0; i < dim; ++i)
        x[i] = embedding[i];

    for (i32 layer = 0; layer < c.n_layers; ++layer) {
        size_t l = size_t(layer);
        // The new key and value go straight into this position's cache slot.
        size_t cache_slot = (l * size_t(c.seq_len) + size_t(position)) * kv_dim;
        float* k = m_key_cache.data() + cache_slot;
        float* v = m_value_cache.data() + cache_slot;
        {
            rt::ScopedCycles probe { "rmsnorm" };
            ops::rmsnorm(m_xb.data(), x, w.rms_attention + l * dim, c.dim);
        }
        {
            rt::ScopedCycles probe { "matmul qkv" };
            ops::matmul(m_q.data(), m_xb.data(), w.wq + l * dim * dim, c.dim, c.dim);
            ops::matmul(k, m_xb.data(), w.wk + l * kv_dim * dim, c.dim, c.kv_dim());
            ops::matmul(v, m_xb.data(), w.wv + l * kv_dim * dim, c.dim, c.kv_dim());
        }
        {
            rt::ScopedCycles probe { "rope" };
            ops::rope(m_q.data(), k, c.dim, c.kv_dim(), c.head_size(), position);
        }
        {
            rt::ScopedCycles probe { "attention" };
            attention(layer, position);
        }
        {
            rt::ScopedCycles probe { "matmul wo" };
            ops::matmul(m_xb2.data(), m_xb.data(), w.wo + l * dim * dim, c.dim, c.dim);
        }
        ops::accumulate(x, m_xb2.data(), c.dim);
        {
            rt::ScopedCycles probe { "rmsnorm" };
            ops::rmsnorm(m_xb.data(), x, w.rms_ffn + l * dim, c.dim);
        }
        {
            rt::ScopedCycles probe { "matmul ffn" };
            ops::matmul(m_hb.data(), m_xb.data(), w.w1 + l * hidden * dim, c.dim, c.hidden_dim);
            ops::matmul(m_hb2.data(), m_xb.data(), w.w3 + l * hidden * dim, c.dim, c.hidden_dim);
        }
        {
            rt::ScopedCycles probe { "swiglu" };
            ops::swiglu(m_hb.data(), m_hb2.data(), c.hidden_dim);
        }
        {
            rt::ScopedCycles probe { "matmul ffn" };
            ops::matmul(m_xb.data(), m_hb.data(), w.w2 + l * dim * hidden, c.hidden_dim, c.dim);
        }
        ops::accumulate(x, m_xb.data(), c.dim);
    }
    {
        rt::ScopedCycles probe { "rmsnorm" };
        ops::rmsnorm(x, x, w.rms_final, c.dim);
    }
    {
        rt::ScopedCycles probe { "matmul classifier" };
        ops::matmul(m_logits.data(), x, w.classifier, c.dim, c.vocab_size);
    }
    return m_logits.data();
}

}
