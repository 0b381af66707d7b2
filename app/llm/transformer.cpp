#include "transformer.h"
#include "gguf_model.h"
#include "kernels/kernels.h"
#include "ops.h"
#include <rt/math.h>
#include <rt/profile.h>
#include <rt/work_pool.h>

namespace llm {

namespace {
// Matrix rows are handed out in multiples of this, so every int8 chunk starts a scale group.
}

u64 Transformer::state_bytes(Config const& c)
{
    u64 cache = u64(c.n_layers) * u64(c.seq_len) * u64(c.kv_dim());
    u64 widest = u64(rt::max(c.dim, c.hidden_dim));
    u64 floats = 4 * u64(c.dim) + 2 * u64(c.hidden_dim) + 2 * cache + u64(c.n_heads) * u64(c.seq_len) + u64(c.vocab_size);
    floats += u64(c.head_size()); // RoPE cosines and sines
    // plus the int8 input, its scales and group sums
    return floats * sizeof(float) + widest * (1 + sizeof(float)) + (widest / 32 + 1) * sizeof(i32);
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
    Transformer t(checkpoint);
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
    t.m_rope_cos = TRY(rt::HeapArray<float>::allocate(size_t(c.head_size() / 2)));
    t.m_rope_sin = TRY(rt::HeapArray<float>::allocate(size_t(c.head_size() / 2)));
    size_t widest = size_t(rt::max(c.dim, c.hidden_dim));
    t.m_input_q = TRY(rt::HeapArray<i8>::allocate(widest));
    t.m_input_s = TRY(rt::HeapArray<float>::allocate(widest));
    t.m_input_sums = TRY(rt::HeapArray<i32>::allocate(widest / 32 + 1));
    return t;
}

Transformer::Input Transformer::prepare(const float* x, i32 n)
{
    if (m_checkpoint->format == WeightFormat::Float32)
        return { x, nullptr, nullptr, nullptr };
    rt::ScopedCycles probe { "quantize" };
    i8* q = m_input_q.data();
    float* s = m_input_s.data();
    if (m_checkpoint->format == WeightFormat::Int8) {
        ops::quantize(q, s, x, n, m_checkpoint->quantized.group);
        return { x, q, s, nullptr };
    }
    // GGUF's quantised blocks hold 32 values each: the input is quantised to match, and
    // Q4_K's mins need each group's sum.
    i32* sums = m_input_sums.data();
    ops::quantize(q, s, x, n, 32);
    ops::group_sums(sums, q, n, 32);
    return { x, q, s, sums };
}

void Transformer::project_blocks(float* out, Input const& in, BlockMatrix const& m, i32 n, i32 d)
{
    auto const& kernels = kernels::active();
    kernels::Op op = kernels::Op::Matmul;
    switch (gguf::TensorType(m.type)) {
    case gguf::TensorType::Q8_0: op = kernels::Op::GgufQ8_0; break;
    case gguf::TensorType::Q4_0: op = kernels::Op::GgufQ4_0; break;
    case gguf::TensorType::Q4_K: op = kernels::Op::GgufQ4K; break;
    case gguf::TensorType::Q6_K: op = kernels::Op::GgufQ6K; break;
    default: break;
    }
    rt::WorkPool::the().parallel_for(size_t(d), kernels::row_granule, [&](size_t begin, size_t end) {
        i32 rows = i32(end - begin);
        switch (gguf::TensorType(m.type)) {
        case gguf::TensorType::F32:
            kernels.matmul(out + begin, in.x, reinterpret_cast<const float*>(m.data) + begin * size_t(n), n, rows);
            break;
        case gguf::TensorType::F16:
            ops::matmul_f16(out + begin, in.x, m.data + begin * size_t(n) * 2, n, rows);
            break;
        case gguf::TensorType::Q8_0:
            kernels.gguf_q8_0(out + begin, in.q, in.s, m.data + begin * size_t(n / 32) * 34, n, rows);
            break;
        case gguf::TensorType::Q4_0:
            kernels.gguf_q4_0(out + begin, in.q, in.s, m.data + begin * size_t(n / 32) * 18, n, rows);
            break;
        case gguf::TensorType::Q4_K:
            kernels.gguf_q4_k(out + begin, in.q, in.s, in.sums, m.data + begin * size_t(n / 256) * 144, n, rows);
            break;
        case gguf::TensorType::Q6_K:
            kernels.gguf_q6_k(out + begin, in.q, in.s, in.sums, m.data + begin * size_t(n / 256) * 210, n, rows);
            break;
        default:
            break; // refused when the model was loaded
        }
    }, kernels.workers_for(op));
}

void Transformer::project(float* out, Input const& in, Matrix matrix, size_t layer, i32 n, i32 d)
{
    auto const& kernels = kernels::active();
    if (m_checkpoint->format == WeightFormat::Gguf) {
        GgufWeights const& g = m_checkpoint->gguf;
        BlockMatrix m {};
        switch (matrix) {
        case Matrix::Q: m = g.wq[layer]; break;
        case Matrix::K: m = g.wk[layer]; break;
        case Matrix::V: m = g.wv[layer]; break;
        case Matrix::O: m = g.wo[layer]; break;
        case Matrix::Gate: m = g.w1[layer]; break;
        case Matrix::Down: m = g.w2[layer]; break;
        case Matrix::Up: m = g.w3[layer]; break;
        case Matrix::Classifier: m = g.classifier; break;
        }
        project_blocks(out, in, m, n, d);
        return;
    }
    if (m_checkpoint->format == WeightFormat::Float32) {
        Weights const& w = m_checkpoint->weights;
        size_t size = size_t(n) * size_t(d);
        const float* m = nullptr;
        switch (matrix) {
        case Matrix::Q: m = w.wq; break;
        case Matrix::K: m = w.wk; break;
        case Matrix::V: m = w.wv; break;
        case Matrix::O: m = w.wo; break;
        case Matrix::Gate: m = w.w1; break;
        case Matrix::Down: m = w.w2; break;
        case Matrix::Up: m = w.w3; break;
        case Matrix::Classifier: m = w.classifier; break;
        }
        const float* matrix_start = m + layer * size;
        auto matmul = kernels.matmul;
        // Rows are split between the cores; each row is computed whole by one core.
        rt::WorkPool::the().parallel_for(size_t(d), kernels::row_granule, [&](size_t begin, size_t end) {
            matmul(out + begin, in.x, matrix_start + begin * size_t(n), n, i32(end - begin));
        }, kernels.workers_for(kernels::Op::Matmul));
        return;
    }
    QuantizedWeights const& q = m_checkpoint->quantized;
    QuantizedMatrix m {};
    switch (matrix) {
    case Matrix::Q: m = q.wq[layer]; break;
    case Matrix::K: m = q.wk[layer]; break;
    case Matrix::V: m = q.wv[layer]; break;
    case Matrix::O: m = q.wo[layer]; break;
    case Matrix::Gate: m = q.w1[layer]; break;
    case Matrix::Down: m = q.w2[layer]; break;
    case Matrix::Up: m = q.w3[layer]; break;
    case Matrix::Classifier: m = q.classifier; break;
    }
    auto matmul_q8 = kernels.matmul_q8;
    size_t group = size_t(q.group);
    // Chunks start at multiples of the row granule (and of the group), so each begins a
    // scale group.
    size_t granule = rt::max(kernels::row_granule, group);
    rt::WorkPool::the().parallel_for(size_t(d), granule, [&](size_t begin, size_t end) {
        size_t first = begin * size_t(n);
        matmul_q8(out + begin, in.q, in.s, m.q + first, m.s + first / group, n, i32(end - begin), q.group);
    }, kernels.workers_for(kernels::Op::MatmulQ8));
}

void Transformer::attention(i32 layer, i32 position)
{
    Config const& c = m_config;
    i32 head_size = c.head_size();
    i32 kv_dim = c.kv_dim();
    i32 queries_per_kv_head = c.n_heads / c.n_kv_heads;
    size_t layer_offset = size_t(layer) * size_t(c.seq_len) * size_t(kv_dim);
    float head_scale = rt::math::sqrtf(float(head_size));
    auto const& kernels = kernels::active();

    // Heads are independent: split them between the cores.
    rt::WorkPool::the().parallel_for(size_t(c.n_heads), 1, [&](size_t first_head, size_t end_head) {
    for (i32 h = i32(first_head); h < i32(end_head); ++h) {
        const float* q = m_q.data() + h * head_size;
        float* scores = m_attention.data() + size_t(h) * size_t(c.seq_len);
        size_t kv_head_offset = size_t(h / queries_per_kv_head) * size_t(head_size);
        for (i32 t = 0; t <= position; ++t) {
            const float* k = m_key_cache.data() + layer_offset + size_t(t) * size_t(kv_dim) + kv_head_offset;
            scores[t] = kernels.attention.dot(q, k, head_size) / head_scale;
        }
        kernels.softmax(scores, position + 1);
        float* out = m_xb.data() + h * head_size;
        for (i32 i = 0; i < head_size; ++i)
            out[i] = 0.0f;
        for (i32 t = 0; t <= position; ++t) {
            const float* v = m_value_cache.data() + layer_offset + size_t(t) * size_t(kv_dim) + kv_head_offset;
            kernels.attention.axpy(out, scores[t], v, head_size);
        }
    }
    }, kernels.workers_for(kernels::Op::Attention));
}

float* Transformer::forward(i32 token, i32 position)
{
    Config const& c = m_config;
    Weights const& w = m_checkpoint->weights;
    auto const& kernels = kernels::active();
    size_t dim = size_t(c.dim), kv_dim = size_t(c.kv_dim());
    float* x = m_x.data();

    {
        rt::ScopedCycles probe { "rope" };
        ops::rope_angles(m_rope_cos.data(), m_rope_sin.data(), c.head_size(), position, c.rope_theta);
    }
    if (m_checkpoint->format == WeightFormat::Gguf) {
        dequantize_row(m_checkpoint->gguf.embedding, size_t(token), c.dim, x);
    } else {
        const float* embedding = w.token_embedding + size_t(token) * dim;
        for (size_t i = 0; i < dim; ++i)
            x[i] = embedding[i];
    }
    bool gguf_norms = m_checkpoint->format == WeightFormat::Gguf;

    for (i32 layer = 0; layer < c.n_layers; ++layer) {
        size_t l = size_t(layer);
        // The new key and value go straight into this position's cache slot.
        size_t cache_slot = (l * size_t(c.seq_len) + size_t(position)) * kv_dim;
        float* k = m_key_cache.data() + cache_slot;
        float* v = m_value_cache.data() + cache_slot;
        {
            rt::ScopedCycles probe { "rmsnorm" };
            kernels.rmsnorm(m_xb.data(), x, gguf_norms ? m_checkpoint->gguf.attention_norms[l] : w.rms_attention + l * dim, c.dim, c.norm_epsilon);
        }
        {
            Input in = prepare(m_xb.data(), c.dim);
            rt::ScopedCycles probe { "matmul qkv" };
            project(m_q.data(), in, Matrix::Q, l, c.dim, c.dim);
            project(k, in, Matrix::K, l, c.dim, c.kv_dim());
            project(v, in, Matrix::V, l, c.dim, c.kv_dim());
        }
        {
            rt::ScopedCycles probe { "rope" };
            ops::rope_apply(m_q.data(), k, c.dim, c.kv_dim(), c.head_size(), m_rope_cos.data(), m_rope_sin.data());
        }
        {
            rt::ScopedCycles probe { "attention" };
            attention(layer, position);
        }
        {
            Input in = prepare(m_xb.data(), c.dim);
            rt::ScopedCycles probe { "matmul wo" };
            project(m_xb2.data(), in, Matrix::O, l, c.dim, c.dim);
        }
        ops::accumulate(x, m_xb2.data(), c.dim);
        {
            rt::ScopedCycles probe { "rmsnorm" };
            kernels.rmsnorm(m_xb.data(), x, gguf_norms ? m_checkpoint->gguf.ffn_norms[l] : w.rms_ffn + l * dim, c.dim, c.norm_epsilon);
        }
        {
            Input in = prepare(m_xb.data(), c.dim);
            rt::ScopedCycles probe { "matmul ffn" };
            project(m_hb.data(), in, Matrix::Gate, l, c.dim, c.hidden_dim);
            project(m_hb2.data(), in, Matrix::Up, l, c.dim, c.hidden_dim);
        }
        {
            rt::ScopedCycles probe { "swiglu" };
            kernels.swiglu(m_hb.data(), m_hb2.data(), c.hidden_dim);
        }
        {
            Input in = prepare(m_hb.data(), c.hidden_dim);
            rt::ScopedCycles probe { "matmul ffn" };
            project(m_xb.data(), in, Matrix::Down, l, c.hidden_dim, c.dim);
        }
        ops::accumulate(x, m_xb.data(), c.dim);
    }
    {
        rt::ScopedCycles probe { "rmsnorm" };
        kernels.rmsnorm(x, x, w.rms_final, c.dim, c.norm_epsilon);
    }
    {
        Input in = prepare(x, c.dim);
        rt::ScopedCycles probe { "matmul classifier" };
        project(m_logits.data(), in, Matrix::Classifier, 0, c.dim, c.vocab_size);
    }
    return m_logits.data();
}

}
