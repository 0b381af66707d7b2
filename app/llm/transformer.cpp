#include "transformer.h"
#include "kernels/kernels.h"
#include "ops.h"
#include "sampler.h"
#include <rt/math.h>
#include <rt/profile.h>
#include <rt/work_pool.h>

namespace llm {

i32 Transformer::window_cache_positions(Config const& c)
{
    i64 kept = 2 * i64(c.sliding_window) + max_batch;
    return c.sliding_window > 0 && kept < c.seq_len ? i32(kept) : c.seq_len;
}

namespace {

// Floats of each of the key and value caches, and where each layer's begin (when
// `offsets` is given).
u64 cache_floats(Config const& c, size_t* offsets = nullptr)
{
    u64 floats = 0;
    i32 windowed = Transformer::window_cache_positions(c);
    for (i32 layer = 0; layer < c.n_layers; ++layer) {
        if (offsets)
            offsets[layer] = size_t(floats);
        floats += u64(c.sliding(layer) ? windowed : c.seq_len) * u64(c.kv_dim());
    }
    return floats;
}

}

u64 Transformer::state_bytes(Config const& c)
{
    u64 cache = cache_floats(c);
    u64 widest = u64(c.widest_input());
    // x, xb2; xb (the attention's output too) and q
    u64 floats = 2 * u64(c.dim) + u64(rt::max(c.dim, c.q_dim())) + u64(c.q_dim()) + 2 * u64(c.hidden_dim) + 2 * cache + u64(c.n_heads) * u64(c.seq_len) + u64(c.vocab_size);
    floats += u64(c.rope_sets()) * u64(c.head_size()) * 3 / 2; // RoPE frequencies, cosines and sines
    // plus the int8 input, its scales and group sums
    return floats * sizeof(float) + widest * (1 + sizeof(float)) + input_sums_count(c) * sizeof(i32);
}

rt::ErrorOr<Transformer> Transformer::create(Checkpoint const& checkpoint, i32 batch, bool batch_required)
{
    Config const& c = checkpoint.config;
    u64 needed = state_bytes(c);
    // One clear message up front beats failing on whichever buffer happens to be last.
    if (needed > rt::Heap::the().largest_free_block())
        return rt::Error::format("memory: the KV cache and activations need {} MiB ({} bytes) in one block, only {} MiB is free; "
                                 "give the machine more memory or ask for fewer positions (steps=N)",
            (needed + (1 << 20) - 1) >> 20, needed, rt::Heap::the().largest_free_block() >> 20);
    Transformer t(checkpoint);
    t.m_cache_offsets = TRY(rt::HeapArray<size_t>::allocate(size_t(c.n_layers)));
    size_t cache = size_t(cache_floats(c, t.m_cache_offsets.data()));
    t.m_window_cache_positions = window_cache_positions(c);
    t.m_x = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
    t.m_xb = TRY(rt::HeapArray<float>::allocate(size_t(rt::max(c.dim, c.q_dim()))));
    t.m_xb2 = TRY(rt::HeapArray<float>::allocate(size_t(c.dim)));
    t.m_hb = TRY(rt::HeapArray<float>::allocate(size_t(c.hidden_dim)));
    t.m_hb2 = TRY(rt::HeapArray<float>::allocate(size_t(c.hidden_dim)));
    t.m_q = TRY(rt::HeapArray<float>::allocate(size_t(c.q_dim())));
    // Zeroed: the cache fills position by position, and a prompt batch writes tens of
    // positions at once; their first touch belongs to loading, not to the first tokens.
    t.m_key_cache = TRY(rt::HeapArray<float>::allocate_zeroed(cache));
    t.m_value_cache = TRY(rt::HeapArray<float>::allocate_zeroed(cache));
    t.m_attention = TRY(rt::HeapArray<float>::allocate(size_t(c.n_heads) * size_t(c.seq_len)));
    t.m_logits = TRY(rt::HeapArray<float>::allocate(size_t(c.vocab_size)));
    size_t rope = size_t(c.rope_sets()) * size_t(c.head_size() / 2);
    t.m_rope_frequencies = TRY(rt::HeapArray<float>::allocate(rope));
    ops::rope_frequencies(t.m_rope_frequencies.data(), c.rotary_width(), c.rope_theta);
    // Llama 3's factors, or Phi-3's short or long ones by the positions this run holds (as
    // llama.cpp chooses by its context size); neither has local layers.
    Tensor const& factors = c.long_rope(c.seq_len) ? checkpoint.weights.rope_factors_long : checkpoint.weights.rope_factors;
    if (factors.data)
        for (i32 pair = 0; pair < c.rotary_width() / 2; ++pair)
            t.m_rope_frequencies[size_t(pair)] /= factors.floats()[pair];
    if (c.rope_scale != 1.0f) // position / scale: the same angle as frequency / scale
        for (i32 pair = 0; pair < c.rotary_width() / 2; ++pair)
            t.m_rope_frequencies[size_t(pair)] /= c.rope_scale;
    if (c.yarn_factor != 0.0f) // YaRN's blend of each pair's own frequency and the interpolated one
        for (i32 pair = 0; pair < c.rotary_width() / 2; ++pair) {
            float ramp = (float(pair) - c.yarn_low) / rt::max(0.001f, c.yarn_high - c.yarn_low);
            ramp = (1.0f - rt::min(1.0f, rt::max(0.0f, ramp))) * c.yarn_ext_factor;
            t.m_rope_frequencies[size_t(pair)] *= ramp + (1.0f - ramp) / c.yarn_factor;
        }
    if (c.rope_sets() == 2)
        ops::rope_frequencies(t.m_rope_frequencies.data() + c.head_size() / 2, c.rotary_width(), c.rope_theta_local);
    t.m_rope_cos = TRY(rt::HeapArray<float>::allocate(rope));
    t.m_rope_sin = TRY(rt::HeapArray<float>::allocate(rope));
    size_t widest = size_t(c.widest_input());
    t.m_input_q = TRY(rt::HeapArray<i8>::allocate(widest));
    t.m_input_s = TRY(rt::HeapArray<float>::allocate(widest));
    t.m_input_sums = TRY(rt::HeapArray<i32>::allocate(input_sums_count(c)));
    // The prompt batch comes last, sized to what is left: halved until it fits, or an
    // error when the caller asked for exactly that many tokens.
    i32 capacity = rt::min(rt::min(batch, max_batch), c.seq_len);
    u64 free = rt::Heap::the().largest_free_block();
    if (batch_required && BatchState::bytes(c, capacity) > free)
        return rt::Error::format("memory: a prompt batch of {} tokens needs {} KiB more in one block, only {} KiB is free; "
                                 "give the machine more memory or ask for a smaller batch=",
            capacity, (BatchState::bytes(c, capacity) + 1023) >> 10, free >> 10);
    while (capacity > 1 && BatchState::bytes(c, capacity) > free)
        capacity /= 2;
    t.m_batch = TRY(BatchState::create(c, capacity));
    return t;
}

MatmulInput Transformer::quantize_input(const float* x, i32 n, i8* q, float* s, i32* sums, bool batch) const
{
    i32 group = m_weights->input_group;
    if (group == 0)
        return { x, nullptr, nullptr, nullptr };
    rt::ScopedCycles probe { "quantize" };
    kernels::active().quantize(q, s, x, n, group);
    if (!m_weights->input_sums)
        return { x, q, s, nullptr };
    ops::group_sums(sums, q, n, group);
    if (!batch || !m_weights->input_sums16)
        return { x, q, s, sums };
    i32* sums16 = sums + sums16_offset(m_config);
    ops::group_sums(sums16, q, n, 16);
    return { x, q, s, sums, sums16 };
}

MatmulInput Transformer::prepare(const float* x, i32 n)
{
    return quantize_input(x, n, m_input_q.data(), m_input_s.data(), m_input_sums.data(), false);
}

void Transformer::attend(i32 layer, i32 head, const float* q, i32 position, float* scores, float* out) const
{
    Config const& c = m_config;
    i32 head_size = c.head_size();
    size_t kv_dim = size_t(c.kv_dim());
    // The head's slice of every cached position it sees, in the layer's part of the cache.
    i32 visible = c.first_visible(layer, position), count = position + 1 - visible;
    size_t first = cache_index(layer, visible) + size_t(head / (c.n_heads / c.n_kv_heads)) * size_t(head_size);
    float head_scale = c.scores_divisor();
    auto const& kernels = kernels::active();
    kernels.attention.scores(scores, q, m_key_cache.data() + first, kv_dim, count, head_size, head_scale);
    if (c.attention_softcap != 0.0f)
        ops::soft_cap(scores, count, c.attention_softcap);
    kernels.softmax(scores, count);
    kernels.attention.weighted_sum(out, scores, m_value_cache.data() + first, kv_dim, count, head_size);
}

void Transformer::make_room(i32 position, i32 count)
{
    if (m_window_cache_positions == m_config.seq_len)
        return; // every layer keeps every position
    i32 keep_from = rt::max(0, position - m_config.sliding_window + 1); // the first position these tokens see
    if (keep_from >= m_window_base && position + count - m_window_base <= m_window_cache_positions)
        return;
    // Positions [keep_from, position) move to the first slots (none when starting over).
    size_t kv_dim = size_t(m_config.kv_dim());
    if (keep_from > m_window_base && position > keep_from) {
        size_t moved = size_t(position - keep_from) * kv_dim, from = size_t(keep_from - m_window_base) * kv_dim;
        for (i32 layer = 0; layer < m_config.n_layers; ++layer) {
            if (!m_config.sliding(layer))
                continue;
            size_t at = m_cache_offsets[size_t(layer)];
            __builtin_memmove(m_key_cache.data() + at, m_key_cache.data() + at + from, moved * sizeof(float));
            __builtin_memmove(m_value_cache.data() + at, m_value_cache.data() + at + from, moved * sizeof(float));
        }
    }
    m_window_base = keep_from;
}

void Transformer::attention(i32 layer, i32 position)
{
    i32 head_size = m_config.head_size();
    // Heads are independent: split them between the cores.
    rt::WorkPool::the().parallel_for(size_t(m_config.n_heads), 1, [&](size_t first_head, size_t end_head) {
        for (i32 h = i32(first_head); h < i32(end_head); ++h)
            attend(layer, h, m_q.data() + h * head_size, position, m_attention.data() + size_t(h) * size_t(m_config.seq_len),
                m_xb.data() + h * head_size);
    }, kernels::active().workers_for(kernels::Op::Attention));
}

float* Transformer::forward(i32 token, i32 position)
{
    run_layers(token, position);
    return classify();
}

i32 Transformer::forward_argmax(i32 token, i32 position)
{
    if (!m_screen.ready()) // (never for capped logits: screen_classifier)
        return argmax(forward(token, position), m_config.vocab_size);
    run_layers(token, position);
    final_norm();
    rt::ScopedCycles probe { "matmul classifier" };
    return m_screen.argmax(m_x.data(), m_logits.data());
}

rt::ErrorOr<void> Transformer::screen_classifier()
{
    // The screen bounds the classifier's products; capping or scaling them can make two
    // equal (rounding), and the first of equal logits is the pick, so it would need every
    // logit within that rounding of the largest: not worth it for the rare such model.
    if (m_config.final_softcap != 0.0f)
        return rt::Error::format("the model caps its logits");
    if (m_config.logit_scale != 1.0f)
        return rt::Error::format("the model scales its logits");
    m_screen = TRY(ScreenedArgmax::create(m_weights->classifier));
    return {};
}

void Transformer::add_qkv_biases(Layer const& l, float* q, float* k, float* v) const
{
    if (l.q_bias.data)
        ops::add_bias(q, l.q_bias.floats(), m_config.q_dim());
    if (l.k_bias.data)
        ops::add_bias(k, l.k_bias.floats(), m_config.kv_dim());
    if (l.v_bias.data)
        ops::add_bias(v, l.v_bias.floats(), m_config.kv_dim());
}

void Transformer::embed(i32 token, float* x) const
{
    dequantize_row(m_weights->embedding, size_t(token), x);
    if (float scale = m_config.embedding_scale; scale != 1.0f)
        for (i32 i = 0; i < m_config.dim; ++i)
            x[i] *= scale;
}

void Transformer::rope_tables(float* cosines, float* sines, i32 position) const
{
    rt::ScopedCycles probe { "rope" };
    i32 half = m_config.head_size() / 2;
    for (i32 set = 0; set < m_config.rope_sets(); ++set)
        ops::rope_angles(cosines + set * half, sines + set * half, m_rope_frequencies.data() + set * half, m_config.rotary_width(), position);
    // LongRoPE's and YaRN's factor, for the layers that see the whole context (the first set).
    if (float factor = m_config.rope_attention_factor; factor != 1.0f)
        for (i32 i = 0; i < m_config.rotary_width() / 2; ++i) {
            cosines[i] *= factor;
            sines[i] *= factor;
        }
}

void Transformer::gate(float* hb, const float* hb2) const
{
    rt::ScopedCycles probe { m_config.gelu_gate ? "geglu" : "swiglu" };
    if (m_config.gelu_gate)
        ops::geglu(hb, hb2, m_config.hidden_dim);
    else
        kernels::active().swiglu(hb, hb2, m_config.hidden_dim);
}

void Transformer::join_residual(Tensor const& post_norm, float* out, float* x) const
{
    if (post_norm.data) {
        rt::ScopedCycles probe { "rmsnorm" };
        kernels::active().rmsnorm(out, out, post_norm.floats(), m_config.dim, m_config.norm_epsilon);
    }
    if (float scale = m_config.residual_scale; scale != 1.0f)
        for (i32 i = 0; i < m_config.dim; ++i)
            out[i] *= scale;
    ops::accumulate(x, out, m_config.dim);
}

void Transformer::sublayer_input(Tensor const& norm, float* out, const float* x) const
{
    if (!norm.data) {
        __builtin_memcpy(out, x, size_t(m_config.dim) * sizeof(float));
        return;
    }
    rt::ScopedCycles probe { "rmsnorm" };
    kernels::active().rmsnorm(out, x, norm.floats(), m_config.dim, m_config.norm_epsilon);
}

void Transformer::normalize_heads(Layer const& l, float* q, float* k) const
{
    if (!l.q_norm.data)
        return;
    rt::ScopedCycles probe { "rmsnorm" };
    auto const& kernels = kernels::active();
    Config const& c = m_config;
    if (l.q_norm.cols != c.head_size()) { // OLMo 2's: all the queries as one vector, all the keys as one
        kernels.rmsnorm(q, q, l.q_norm.floats(), c.q_dim(), c.norm_epsilon);
        kernels.rmsnorm(k, k, l.k_norm.floats(), c.kv_dim(), c.norm_epsilon);
        return;
    }
    size_t head_size = size_t(c.head_size());
    for (size_t h = 0; h < size_t(c.n_heads); ++h)
        kernels.rmsnorm(q + h * head_size, q + h * head_size, l.q_norm.floats(), c.head_size(), c.norm_epsilon);
    for (size_t h = 0; h < size_t(c.n_kv_heads); ++h)
        kernels.rmsnorm(k + h * head_size, k + h * head_size, l.k_norm.floats(), c.head_size(), c.norm_epsilon);
}

void Transformer::run_layers(i32 token, i32 position)
{
    Config const& c = m_config;
    Weights const& w = *m_weights;
    float* x = m_x.data();

    rope_tables(m_rope_cos.data(), m_rope_sin.data(), position);
    embed(token, x);
    make_room(position, 1);

    for (i32 layer = 0; layer < c.n_layers; ++layer) {
        Layer const& l = w.layers[size_t(layer)];
        // The new key and value go straight into this position's cache slot.
        float* k = m_key_cache.data() + cache_index(layer, position);
        float* v = m_value_cache.data() + cache_index(layer, position);
        sublayer_input(l.attention_norm, m_xb.data(), x);
        {
            MatmulInput in = prepare(m_xb.data(), c.dim);
            rt::ScopedCycles probe { "matmul qkv" };
            Product qkv[] = { { m_q.data(), &l.wq }, { k, &l.wk }, { v, &l.wv } };
            matmul(qkv, in);
        }
        add_qkv_biases(l, m_q.data(), k, v);
        normalize_heads(l, m_q.data(), k);
        if (c.rotary(layer)) {
            rt::ScopedCycles probe { "rope" };
            (c.rope_halves ? ops::rope_apply_halves : ops::rope_apply)(m_q.data(), k, c.q_dim(), c.kv_dim(), c.head_size(), c.rotary_width(), rope_table(m_rope_cos.data(), layer),
                rope_table(m_rope_sin.data(), layer));
        }
        {
            rt::ScopedCycles probe { "attention" };
            attention(layer, position);
        }
        {
            MatmulInput in = prepare(m_xb.data(), c.q_dim());
            rt::ScopedCycles probe { "matmul wo" };
            matmul(m_xb2.data(), in, l.wo);
        }
        join_residual(l.post_attention_norm, m_xb2.data(), x);
        sublayer_input(l.ffn_norm, m_xb.data(), x);
        {
            MatmulInput in = prepare(m_xb.data(), c.dim);
            rt::ScopedCycles probe { "matmul ffn" };
            Product gate_and_up[] = { { m_hb.data(), &l.w1 }, { m_hb2.data(), &l.w3 } };
            matmul(gate_and_up, in);
        }
        gate(m_hb.data(), m_hb2.data());
        {
            MatmulInput in = prepare(m_hb.data(), c.hidden_dim);
            rt::ScopedCycles probe { "matmul ffn" };
            matmul(m_xb.data(), in, l.w2);
        }
        join_residual(l.post_ffn_norm, m_xb.data(), x);
    }
}

void Transformer::final_norm()
{
    rt::ScopedCycles probe { "rmsnorm" };
    kernels::active().rmsnorm(m_x.data(), m_x.data(), m_weights->final_norm.floats(), m_config.dim, m_config.norm_epsilon);
}

float* Transformer::classify()
{
    final_norm();
    {
        MatmulInput in = prepare(m_x.data(), m_config.dim);
        rt::ScopedCycles probe { "matmul classifier" };
        matmul(m_logits.data(), in, m_weights->classifier);
    }
    if (float scale = m_config.logit_scale; scale != 1.0f)
        for (i32 i = 0; i < m_config.vocab_size; ++i)
            m_logits[size_t(i)] /= scale;
    if (m_config.final_softcap != 0.0f)
        ops::soft_cap(m_logits.data(), m_config.vocab_size, m_config.final_softcap);
    return m_logits.data();
}

}
