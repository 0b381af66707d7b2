#include "checkpoint.h"
#include "ops.h"
#include <rt/math.h>

namespace llm {

namespace {

// Limits far above any llama2.c-format model, low enough that products stay in 64 bits.
constexpr i32 max_hidden = 1 << 18;
constexpr i32 max_layers = 1024;
constexpr i32 max_vocab = 1 << 20;
constexpr i32 max_seq_len = 1 << 20;

u64 float_count(Config const& c)
{
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), layers = u64(c.n_layers);
    u64 kv_dim = u64(c.kv_dim()), q_dim = u64(c.q_dim()), vocab = u64(c.vocab_size);
    u64 per_layer = dim                   // rms_attention
        + q_dim * dim + 2 * kv_dim * dim  // wq, wk, wv
        + dim * q_dim                     // wo
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

namespace {

// llama2.c's programs feed BOS (1) and stop at EOS (2) whatever the vocabulary: both ids
// must be rows of the embedding and the classifier.
rt::ErrorOr<void> check_special_ids(Config const& c)
{
    constexpr i32 eos = 2;
    if (c.vocab_size <= eos)
        return rt::Error::format("model: vocab_size {} leaves no room for llama2.c's BOS (1) and EOS (2) tokens", c.vocab_size);
    return {};
}

// Bytes one token reads: every matrix once (the embedding contributes a single row).
u64 streamed_float_bytes(Config const& c)
{
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), layers = u64(c.n_layers), kv_dim = u64(c.kv_dim());
    u64 floats = layers * (2 * dim * dim + 2 * kv_dim * dim + 3 * hidden * dim + 2 * dim) + u64(c.vocab_size) * dim + dim;
    return floats * sizeof(float);
}

u64 streamed_int8_bytes(Config const& c, i32 group)
{
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), layers = u64(c.n_layers), kv_dim = u64(c.kv_dim());
    u64 values = layers * (2 * dim * dim + 2 * kv_dim * dim + 3 * hidden * dim) + u64(c.vocab_size) * dim;
    return values + values / u64(group) * sizeof(float) + (layers * 2 * dim + dim) * sizeof(float);
}

struct Shape {
    u64 rows, cols;
};

// A layer matrix's [rows][columns].
Shape matrix_shape(Config const& c, Tensor Layer::*kind)
{
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), kv_dim = u64(c.kv_dim());
    if (kind == &Layer::wk || kind == &Layer::wv)
        return { kv_dim, dim };
    if (kind == &Layer::w1 || kind == &Layer::w3)
        return { hidden, dim };
    if (kind == &Layer::w2)
        return { dim, hidden };
    return { dim, dim }; // wq, wo
}

// The layer matrices in the order llama2.c's files store them (each for every layer).
constexpr Tensor Layer::* matrix_kinds[] = { &Layer::wq, &Layer::wk, &Layer::wv, &Layer::wo, &Layer::w1, &Layer::w2, &Layer::w3 };

rt::ErrorOr<Checkpoint> load_int8_checkpoint(rt::Bytes module)
{
    if (module.size() < int8_header_bytes)
        return rt::Error::format("model: int8 checkpoint of {} bytes is shorter than its 256-byte header", module.size());
    i32 version;
    i32 header[7];
    i32 group;
    __builtin_memcpy(&version, module.data() + 4, 4);
    __builtin_memcpy(header, module.data() + 8, sizeof header);
    bool shared = module.data()[36] != 0;
    __builtin_memcpy(&group, module.data() + 37, 4);
    if (version != 2)
        return rt::Error::format("model: llama2.c checkpoint version {} is not supported (fp32 version 0 and int8 version 2 are)", version);
    if (header[5] < 0)
        return rt::Error::format("model: int8 header has a negative vocab_size; version 2 uses the shared-classifier flag");
    Config config = TRY(validate_config(header));
    TRY(check_special_ids(config));
    config.shared_classifier = shared;
    if (group < 1 || group > 4096 || config.dim % group)
        return rt::Error::format("model: int8 group size {} does not divide dim {}", group, config.dim);

    u64 dim = u64(config.dim), hidden = u64(config.hidden_dim), layers = u64(config.n_layers), kv_dim = u64(config.kv_dim());
    u64 vocab = u64(config.vocab_size), g = u64(group);
    auto quantized_bytes = [g](u64 count) { return count + count / g * sizeof(float); };
    u64 const tensor_sizes[] = { dim * dim, kv_dim * dim, hidden * dim, vocab * dim };
    for (u64 count : tensor_sizes)
        if (count % g)
            return rt::Error::format("model: a tensor of {} values is not a whole number of {}-value groups", count, group);
    // Each tensor's scales follow its int8 values: they are floats read in place, so they
    // must land on 4-byte boundaries (true for every group size that is a multiple of 4).
    for (u64 count : tensor_sizes)
        if (count % sizeof(float))
            return rt::Error::format("model: a tensor of {} int8 values leaves its scales unaligned (group size {}); not supported", count, group);
    u64 expected = int8_header_bytes + (2 * layers * dim + dim) * sizeof(float) + quantized_bytes(vocab * dim) * (shared ? 1 : 2)
        + layers * (2 * quantized_bytes(dim * dim) + 2 * quantized_bytes(kv_dim * dim) + 3 * quantized_bytes(hidden * dim));
    if (module.size() < expected)
        return rt::Error::format("model: the int8 checkpoint is truncated: {} bytes, the header describes {} bytes", module.size(), expected);
    if (module.size() > expected)
        return rt::Error::format("model: the int8 checkpoint has {} bytes more than its header describes", module.size() - expected);

    Checkpoint checkpoint;
    checkpoint.config = config;
    checkpoint.format = WeightFormat::Int8;
    Weights& w = checkpoint.weights;
    w.layers = TRY(rt::HeapArray<Layer>::allocate_zeroed(size_t(layers))); // zero: no biases unless a loader sets them
    w.input_group = group;
    const u8* p = module.data() + int8_header_bytes;
    auto floats = [&p](u64 count) {
        Tensor t { TensorType::F32, 1, i32(count), p };
        p += count * sizeof(float);
        return t;
    };
    auto matrix = [&p, group](u64 rows, u64 cols) {
        u64 count = rows * cols;
        Tensor t { TensorType::Q8, i32(rows), i32(cols), p, reinterpret_cast<const float*>(p + count), group };
        p += count + count / u64(group) * sizeof(float);
        return t;
    };
    for (u64 l = 0; l < layers; ++l)
        w.layers[size_t(l)].attention_norm = floats(dim);
    for (u64 l = 0; l < layers; ++l)
        w.layers[size_t(l)].ffn_norm = floats(dim);
    w.final_norm = floats(dim);
    w.embedding = matrix(vocab, dim);
    for (Tensor Layer::*kind : matrix_kinds)
        for (u64 l = 0; l < layers; ++l) {
            auto [rows, cols] = matrix_shape(config, kind);
            w.layers[size_t(l)].*kind = matrix(rows, cols);
        }
    w.classifier = shared ? w.embedding : matrix(vocab, dim);
    checkpoint.weight_bytes = streamed_int8_bytes(config, group);
    return checkpoint;
}

}

const char* format_name(Checkpoint const& checkpoint)
{
    switch (checkpoint.format) {
    case WeightFormat::Int8: return "llama2.c int8";
    case WeightFormat::Gguf:
        for (auto const& entry : architecture_names)
            if (entry.design == checkpoint.architecture)
                return entry.format_name;
        break;
    case WeightFormat::Float32: break;
    }
    return "llama2.c fp32";
}

float Config::scores_divisor() const
{
    return attention_scale != 0.0f ? 1.0f / attention_scale : rt::math::sqrtf(float(scores_scale_width()));
}

u64 Config::parameter_count() const
{
    return float_count(*this) - u64(seq_len) * u64(head_size()); // minus the unused RoPE tables
}

rt::ErrorOr<Config> validate_config(i32 const (&h)[7])
{
    auto out_of_range = [](const char* name, i32 value, i32 max) {
        return rt::Error::format("model: header field {} = {} is outside 1..{} (not a llama2.c checkpoint?)", name, value, max);
    };
    // A negative vocab_size means an unshared classifier; INT32_MIN has no positive twin.
    if (h[5] == INT32_MIN)
        return out_of_range("vocab_size", h[5], max_vocab);
    Config c { h[0], h[1], h[2], h[3], h[4], h[5] < 0 ? -h[5] : h[5], h[6], h[5] > 0 };
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
    if (h[5] == 0 || c.vocab_size > max_vocab)
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
    if (u32(header[0]) == int8_magic)
        return load_int8_checkpoint(module);
    Config config = TRY(validate_config(header));
    TRY(check_special_ids(config));

    u64 expected = checkpoint_header_bytes + float_count(config) * sizeof(float);
    if (module.size() < expected)
        return rt::Error::format("model: the checkpoint is truncated: {} bytes, the header describes {} bytes", module.size(), expected);
    if (module.size() > expected)
        return rt::Error::format("model: the checkpoint has {} bytes more than its header describes (wrong file or wrong format?)", module.size() - expected);

    auto const* p = reinterpret_cast<const float*>(module.data() + checkpoint_header_bytes);
    u64 dim = u64(config.dim), layers = u64(config.n_layers);
    auto take = [&p](u64 count) {
        const float* tensor = p;
        p += count;
        return tensor;
    };
    Checkpoint checkpoint;
    checkpoint.config = config;
    Weights& w = checkpoint.weights;
    w.layers = TRY(rt::HeapArray<Layer>::allocate_zeroed(size_t(layers))); // zero: no biases unless a loader sets them
    auto tensor = [&](u64 rows, u64 cols) { return Tensor { TensorType::F32, i32(rows), i32(cols), reinterpret_cast<const u8*>(take(rows * cols)) }; };
    auto per_layer = [&](Tensor Layer::*kind, u64 rows, u64 cols) {
        for (u64 l = 0; l < layers; ++l)
            w.layers[size_t(l)].*kind = tensor(rows, cols);
    };
    w.embedding = tensor(u64(config.vocab_size), dim);
    per_layer(&Layer::attention_norm, 1, dim);
    for (Tensor Layer::*kind : matrix_kinds) {
        if (kind == &Layer::w1) // the FFN norm sits between the attention and FFN matrices
            per_layer(&Layer::ffn_norm, 1, dim);
        auto [rows, cols] = matrix_shape(config, kind);
        per_layer(kind, rows, cols);
    }
    w.final_norm = tensor(1, dim);
    take(u64(config.seq_len) * u64(config.head_size())); // freq_cis_real and freq_cis_imag
    w.classifier = config.shared_classifier ? w.embedding : tensor(u64(config.vocab_size), dim);
    checkpoint.weight_bytes = streamed_float_bytes(config);
    return checkpoint;
}

rt::ErrorOr<void> quantize_checkpoint(Checkpoint& checkpoint, i32 group)
{
    if (checkpoint.format == WeightFormat::Int8)
        return {};
    Config const& c = checkpoint.config;
    if (c.dim % group)
        return rt::Error::format("quant: dim {} is not a multiple of the group size {}", c.dim, group);
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), layers = u64(c.n_layers), kv_dim = u64(c.kv_dim()), vocab = u64(c.vocab_size);
    u64 values = vocab * dim * (c.shared_classifier ? 1 : 2) + layers * (2 * dim * dim + 2 * kv_dim * dim + 3 * hidden * dim);
    Weights& w = checkpoint.weights;
    w.owned_values = TRY(rt::HeapArray<i8>::allocate(size_t(values)));
    w.owned_scales = TRY(rt::HeapArray<float>::allocate(size_t(values / u64(group))));
    i8* next_value = w.owned_values.data();
    float* next_scale = w.owned_scales.data();
    auto quantize = [&](Tensor const& source) {
        u64 count = u64(source.rows) * u64(source.cols);
        Tensor t { TensorType::Q8, source.rows, source.cols, reinterpret_cast<const u8*>(next_value), next_scale, group };
        ops::quantize(next_value, next_scale, source.floats(), i32(count), group);
        next_value += count;
        next_scale += count / u64(group);
        return t;
    };
    // Like llama2.c's int8 runtime, the embedding rows come from the quantised table.
    w.embedding = quantize(w.embedding);
    for (Tensor Layer::*kind : matrix_kinds)
        for (u64 l = 0; l < layers; ++l)
            w.layers[size_t(l)].*kind = quantize(w.layers[size_t(l)].*kind);
    w.classifier = c.shared_classifier ? w.embedding : quantize(w.classifier);
    w.input_group = group;
    checkpoint.format = WeightFormat::Int8;
    checkpoint.weight_bytes = streamed_int8_bytes(c, group);
    return {};
}

}
