#include "checkpoint.h"

namespace llm {

namespace {

// Limits far above any llama2.c-format model, low enough that products stay in 64 bits.
constexpr i32 max_dim = 1 << 16;
constexpr i32 max_hidden = 1 << 18;
constexpr i32 max_layers = 1024;
constexpr i32 max_vocab = 1 << 20;
constexpr i32 max_seq_len = 1 << 20;

u64 float_count(Config const& c)
{
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), layers = u64(c.n_layers);
    u64 kv_dim = u64(c.kv_dim()), vocab = u64(c.vocab_size);
    u64 per_layer = dim                 // rms_attention
        + dim * dim + 2 * kv_dim * dim  // wq, wk, wv
        + dim * dim                     // wo
        + dim                           // rms_ffn
        + 3 * hidden * dim;             // w1, w2, w3
    u64 count = vocab * dim + layers * per_layer + dim;
    // llama2.c files still carry the old RoPE tables (freq_cis_real/imag): skipped.
    count += u64(c.seq_len) * u64(c.head_size());
    if (!c.shared_classifier)
        count += vocab * dim;
    return count;
}

}

u64 Config::parameter_count() const
{
    return float_count(*this) - u64(seq_len) * u64(head_size()); // minus the unused RoPE tables
}

rt::ErrorOr<Config> validate_config(i32 const (&h)[7])
{
    Config c { h[0], h[1], h[2], h[3], h[4], h[5] < 0 ? -h[5] : h[5], h[6], h[5] > 0 };
    auto out_of_range = [](const char* name, i32 value, i32 max) {
        return rt::Error::format("model: header field {} = {} is outside 1..{} (not a llama2.c checkpoint?)", name, value, max);
    };
    if (c.dim < 1 || c.dim > max_dim)
        return out_of_range("dim", c.dim, max_dim);
    if (c.hidden_dim < 1 || c.hidden_dim > max_hidden)
        return out_of_range("hidden_dim", c.hidden_dim, max_hidden);
    if (c.n_layers < 1 || c.n_layers > max_layers)
        return out_of_range("n_layers", c.n_layers, max_layers);
    if (c.n_heads < 1 || c.n_heads > c.dim)
        return out_of_range("n_heads", c.n_heads, c.dim);
    if (c.n_kv_heads < 1 || c.n_kv_heads > c.n_heads)
        return out_of_range("n_kv_heads", c.n_kv_heads, c.n_heads);
    if (h[5] == 0 || c.vocab_size > max_vocab || h[5] == INT32_MIN)
        return out_of_range("vocab_size", h[5], max_vocab);
    if (c.seq_len < 1 || c.seq_len > max_seq_len)
        return out_of_range("seq_len", c.seq_len, max_seq_len);
    if (c.dim % c.n_heads)
        return rt::Error::format("model: dim {} is not divisible by n_heads {}", c.dim, c.n_heads);
    if (c.n_heads % c.n_kv_heads)
        return rt::Error::format("model: n_heads {} is not a multiple of n_kv_heads {}", c.n_heads, c.n_kv_heads);
    if (c.head_size() % 2)
        return rt::Error::format("model: head size {} is odd; rotary embeddings need pairs", c.head_size());
    return c;
}

rt::ErrorOr<Checkpoint> load_checkpoint(rt::Bytes module)
{
    if (module.size() < checkpoint_header_bytes)
        return rt::Error::format("model: the module is {} bytes, too small for a checkpoint header", module.size());
    i32 header[7];
    __builtin_memcpy(header, module.data(), sizeof header);
    if (u32(header[0]) == 0x616b3432) // "ak42": llama2.c's quantised export
        return rt::Error::format("model: this is a llama2.c version-{} int8 checkpoint; this build reads fp32 (version 0) checkpoints", header[1]);
    Config config = TRY(validate_config(header));

    u64 expected = checkpoint_header_bytes + float_count(config) * sizeof(float);
    if (module.size() < expected)
        return rt::Error::format("model: the checkpoint is truncated: {} bytes, the header describes {} bytes", module.size(), expected);
    if (module.size() > expected)
        return rt::Error::format("model: the checkpoint has {} bytes more than its header describes (wrong file or wrong format?)", module.size() - expected);

    auto const* p = reinterpret_cast<const float*>(module.data() + checkpoint_header_bytes);
    u64 dim = u64(config.dim), hidden = u64(config.hidden_dim), layers = u64(config.n_layers), kv_dim = u64(config.kv_dim());
    auto take = [&p](u64 count) {
        const float* tensor = p;
        p += count;
        return tensor;
    };
    Weights w {};
    w.token_embedding = take(u64(config.vocab_size) * dim);
    w.rms_attention = take(layers * dim);
    w.wq = take(layers * dim * dim);
    w.wk = take(layers * kv_dim * dim);
    w.wv = take(layers * kv_dim * dim);
    w.wo = take(layers * dim * dim);
    w.rms_ffn = take(layers * dim);
    w.w1 = take(layers * hidden * dim);
    w.w2 = take(layers * dim * hidden);
    w.w3 = take(layers * hidden * dim);
    w.rms_final = take(dim);
    take(u64(config.seq_len) * u64(config.head_size())); // freq_cis_real and freq_cis_imag
    w.classifier = config.shared_classifier ? w.token_embedding : take(u64(config.vocab_size) * dim);
    return Checkpoint { config, w, expected - checkpoint_header_bytes };
}

}
