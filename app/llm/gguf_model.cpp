#include "gguf_model.h"
#include <rt/math.h>

namespace llm {

namespace {

using gguf::TensorType;

rt::ErrorOr<gguf::TensorInfo const*> find_tensor(gguf::File const& file, rt::StringView name, u64 columns, u64 rows)
{
    auto const* t = file.tensor(name);
    if (!t)
        return rt::Error::format("gguf: tensor {} is missing", name);
    u64 expected_rows = rows ? rows : 1;
    bool shape_ok = rows ? (t->dimension_count == 2 && t->dimensions[0] == columns && t->dimensions[1] == rows)
                         : (t->dimension_count == 1 && t->dimensions[0] == columns);
    if (!shape_ok)
        return rt::Error::format("gguf: tensor {} has shape [{}, {}], the model needs [{}, {}]", name, t->dimensions[0],
            t->dimension_count > 1 ? t->dimensions[1] : 1, columns, expected_rows);
    return t;
}

// The file's tensors as the model reads them, remembering which were read (a tensor the
// loader never asked for is a part of the model BareFlow leaves out: said, not hidden).
// F32 tensors are read in place when 4-byte aligned, else from an aligned copy. GGUF
// allows any power-of-two alignment, and reading a float from an unaligned address is
// undefined; copying the few such tensors once keeps the kernels' hot loops as they are.
// (Block formats are read byte by byte and need no copy.)
class TensorSource {
public:
    static rt::ErrorOr<TensorSource> prepare(gguf::File const& file, rt::HeapArray<float>& storage)
    {
        TensorSource source;
        source.m_file = &file;
        source.m_slots = TRY(rt::HeapArray<size_t>::allocate(file.tensors().size() + 1));
        source.m_used = TRY(rt::HeapArray<bool>::allocate_zeroed(file.tensors().size() + 1));
        size_t floats = 0;
        for (size_t i = 0; i < file.tensors().size(); ++i) {
            auto const& t = file.tensors()[i];
            source.m_slots[i] = SIZE_MAX;
            if (t.type == TensorType::F32 && uptr(t.data) % alignof(float)) {
                source.m_slots[i] = floats;
                floats += size_t(t.bytes / sizeof(float));
            }
        }
        if (floats == 0)
            return source;
        storage = TRY(rt::HeapArray<float>::allocate(floats));
        for (size_t i = 0; i < file.tensors().size(); ++i)
            if (source.m_slots[i] != SIZE_MAX)
                __builtin_memcpy(storage.data() + source.m_slots[i], file.tensors()[i].data, size_t(file.tensors()[i].bytes));
        source.m_storage = storage.data();
        return source;
    }
    // The bytes of `t` to compute with; `t` counts as read.
    const u8* data(gguf::TensorInfo const* t)
    {
        size_t index = size_t(t - m_file->tensors().data());
        m_used[index] = true;
        return m_slots[index] == SIZE_MAX ? t->data : reinterpret_cast<const u8*>(m_storage + m_slots[index]);
    }
    // How many tensors were never read, and the first of them.
    u32 unused(rt::StringView& first) const
    {
        u32 count = 0;
        for (size_t i = 0; i < m_file->tensors().size(); ++i)
            if (!m_used[i] && count++ == 0)
                first = m_file->tensors()[i].name;
        return count;
    }

private:
    gguf::File const* m_file { nullptr };
    rt::HeapArray<size_t> m_slots;
    rt::HeapArray<bool> m_used;
    float* m_storage { nullptr };
};

// A matrix of `rows` rows of `columns` values (GGUF lists the row length first).
rt::ErrorOr<Tensor> matrix(gguf::File const& file, TensorSource& source, rt::StringView name, u64 columns, u64 rows)
{
    auto const* t = TRY(find_tensor(file, name, columns, rows));
    llm::TensorType type;
    if (!gguf::tensor_type_of(t->type, type))
        return rt::Error::format("gguf: tensor {} is {}; this build computes with F32, F16, BF16, Q8_0, Q5_0, Q5_1, Q4_0, Q4_1, IQ4_NL, IQ4_XS, Q6_K, Q5_K, Q4_K, Q3_K and Q2_K", name,
            gguf::tensor_type_name(u32(t->type)));
    return Tensor { type, i32(rows), i32(columns), source.data(t) };
}

// Rows [first, first + count) of a matrix, in place: one part of a fused tensor.
Tensor rows_of(Tensor const& t, i32 first, i32 count) { return Tensor { t.type, count, t.cols, t.row(size_t(first)) }; }

rt::ErrorOr<Tensor> norm(gguf::File const& file, TensorSource& source, rt::StringView name, u64 size)
{
    auto const* t = TRY(find_tensor(file, name, size, 0));
    if (t->type != TensorType::F32)
        return rt::Error::format("gguf: norm tensor {} must be F32, it is {}", name, gguf::tensor_type_name(u32(t->type)));
    return Tensor { llm::TensorType::F32, 1, i32(size), source.data(t) };
}

i32 as_i32(u64 v) { return v > u64(INT32_MAX) ? -1 : i32(v); }

// The head width a file names (attention.key_length; the values' must be the same), or 0
// for dim / n_heads. Checked here, as validate_config checks dim / n_heads: even (RoPE
// turns pairs), and queries no wider than a residual stream may be.
rt::ErrorOr<i32> head_dim(gguf::File const& file, rt::StringView architecture, Config const& c)
{
    auto key_length = rt::FixedString<64>::formatted("{}.attention.key_length", architecture);
    auto value_length = rt::FixedString<64>::formatted("{}.attention.value_length", architecture);
    auto keys = file.get_integer(key_length.view());
    if (keys.is_error())
        return 0;
    auto values = file.get_integer(value_length.view());
    if (!values.is_error() && values.value() != keys.value())
        return rt::Error::format("gguf: {} {} differs from {} {}: not supported", key_length.view(), keys.value(), value_length.view(),
            values.value());
    u64 width = keys.value();
    if (width < 2 || width % 2 || width * u64(c.n_heads) > u64(max_dim))
        return rt::Error::format("gguf: {} {} is not a head width BareFlow runs (even, at most {} for {} heads)", key_length.view(), width,
            max_dim / c.n_heads, c.n_heads);
    return i32(width);
}

// A RoPE base as a file gives it, checked for sense.
rt::ErrorOr<float> rope_base(double base, rt::StringView key)
{
    if (!(base > 1.0 && base < 1e9))
        return rt::Error::format("gguf: {} {} is not plausible", key, base);
    return float(base);
}

double floor_of(double x)
{
    double whole = double(i64(x)); // |x| is small here: a few hundred at most
    return whole > x ? whole - 1 : whole;
}

// YaRN's settings as llama.cpp reads them (Config says what they do): the context the
// model was trained at (rope.scaling.original_context_length, else the file's), the pairs
// that turn beta_fast (32) and beta_slow (1) times in it bounding the blend, the blend's
// weight (yarn_ext_factor, 1), and a factor on RoPE's cosines and sines
// (rope.scaling.attn_factor, 1) besides YaRN's own. DeepSeek's yarn_log_multiplier is refused.
rt::ErrorOr<void> read_yarn(gguf::File const& file, rt::StringView architecture, double factor, Config& c)
{
    auto number = [&](const char* suffix, double default_value) -> rt::ErrorOr<double> {
        auto key = rt::FixedString<80>::formatted("{}.rope.scaling.{}", architecture, suffix);
        if (!file.find(key.view()))
            return default_value;
        return file.get_float(key.view());
    };
    double original = double(c.seq_len);
    auto original_key = rt::FixedString<80>::formatted("{}.rope.scaling.original_context_length", architecture);
    if (file.find(original_key.view()))
        original = double(TRY(file.get_integer(original_key.view())));
    double beta_fast = TRY(number("yarn_beta_fast", 32.0)), beta_slow = TRY(number("yarn_beta_slow", 1.0));
    double ext_factor = TRY(number("yarn_ext_factor", 1.0)), attention = TRY(number("attn_factor", 1.0));
    if (TRY(number("yarn_log_multiplier", 0.0)) != 0.0)
        return rt::Error::format("gguf: {}.rope.scaling.yarn_log_multiplier (DeepSeek's YaRN) is not supported", architecture);
    if (!(original >= 1 && original <= 1e8) || !(beta_fast > 0 && beta_fast < 1e4) || !(beta_slow > 0 && beta_slow < 1e4)
        || !(ext_factor >= 0 && ext_factor <= 1) || !(attention >= 0.1 && attention <= 10))
        return rt::Error::format("gguf: YaRN settings not plausible: original context {}, beta_fast {}, beta_slow {}, ext_factor {}, attn_factor {}",
            original, beta_fast, beta_slow, ext_factor, attention);
    // The pair that turns `turns` times in the original context: solving
    // original = turns * 2 pi * base^(2 pair / head) for the pair.
    double dims = double(c.rotary_width()), ln_base = rt::math::log(double(c.rope_theta));
    auto pair_turning = [&](double turns) { return dims * rt::math::log(original / (turns * 2 * 3.14159265358979323846)) / (2 * ln_base); };
    double low = floor_of(pair_turning(beta_fast)), high = -floor_of(-pair_turning(beta_slow));
    c.yarn_factor = float(factor);
    c.yarn_low = float(rt::max(0.0, low));
    c.yarn_high = float(rt::min(dims - 1, high));
    c.yarn_ext_factor = float(ext_factor);
    c.rope_attention_factor = float(attention * (ext_factor != 0.0 ? 1.0 + 0.1 * rt::math::log(factor) : 1.0));
    return {};
}

// RoPE scaling as llama.cpp reads it: linear unless the file names a type, by
// rope.scaling.factor (or the older rope.scale_linear). Linear is a factor on the positions,
// YaRN blends frequencies (read_yarn); another type with a factor is refused rather than
// run unscaled.
rt::ErrorOr<void> read_rope_scaling(gguf::File const& file, rt::StringView architecture, Config& c)
{
    auto type_key = rt::FixedString<64>::formatted("{}.rope.scaling.type", architecture);
    auto factor_key = rt::FixedString<64>::formatted("{}.rope.scaling.factor", architecture);
    auto old_factor_key = rt::FixedString<64>::formatted("{}.rope.scale_linear", architecture);
    rt::StringView type = "linear";
    if (file.find(type_key.view()))
        type = TRY(file.get_string(type_key.view()));
    double factor = 0.0;
    if (auto given = file.get_float(factor_key.view()); !given.is_error())
        factor = given.value();
    else if (auto old = file.get_float(old_factor_key.view()); !old.is_error())
        factor = old.value();
    if (type == "none" || factor == 0.0 || factor == 1.0)
        return {};
    // Linear scaling stretches the positions of a longer context: a factor above one.
    if (!(factor > 1.0 && factor <= 1e4))
        return rt::Error::format("gguf: rope scaling factor {} is not plausible", factor);
    if (type == "yarn")
        return read_yarn(file, architecture, factor, c);
    if (type != "linear")
        return rt::Error::format("gguf: {} \"{}\" (factor {}) is not supported; BareFlow scales RoPE linearly or by YaRN", type_key.view(), type,
            factor);
    c.rope_scale = float(factor);
    return {};
}

// A sliding window (Config says what it does) as llama.cpp reads it: the file's
// attention.sliding_window (else `default_window`; 0: no window unless the file has one),
// its period of layers (attention.sliding_window_pattern, else `period`) and the local
// layers' RoPE base (rope.freq_base_swa, else `local_base`).
rt::ErrorOr<void> read_sliding_window(gguf::File const& file, rt::StringView architecture, i32 period, u64 default_window, float local_base, Config& c)
{
    auto key = [&](const char* suffix) { return rt::FixedString<64>::formatted("{}.{}", architecture, suffix); };
    auto window = key("attention.sliding_window");
    u64 positions = default_window;
    if (file.find(window.view()))
        positions = TRY(file.get_integer(window.view()));
    else if (!default_window)
        return {}; // every layer sees the whole context
    if (positions < 1 || positions > u64(INT32_MAX))
        return rt::Error::format("gguf: {} {} is not a window of positions", window.view(), positions);
    c.sliding_window = i32(positions);
    c.sliding_period = period;
    auto pattern = key("attention.sliding_window_pattern");
    if (file.find(pattern.view())) {
        u64 given = TRY(file.get_integer(pattern.view())); // an array per layer is refused here, by its type
        if (given > u64(INT32_MAX))
            return rt::Error::format("gguf: {} {} is not a period of layers", pattern.view(), given);
        c.sliding_period = i32(given);
    }
    c.rope_theta_local = local_base;
    auto local_key = key("rope.freq_base_swa");
    if (auto base = file.get_float(local_key.view()); !base.is_error())
        c.rope_theta_local = TRY(rope_base(base.value(), local_key.view()));
    return {};
}

// A soft cap as a file gives it: 0 is none, others are checked for sense.
rt::ErrorOr<float> soft_cap(gguf::File const& file, rt::StringView key, double default_cap)
{
    double cap = default_cap;
    if (auto given = file.get_float(key); !given.is_error())
        cap = given.value();
    if (cap != 0.0 && !(cap >= 1e-3 && cap <= 1e6))
        return rt::Error::format("gguf: {} {} is not a plausible cap", key, cap);
    return float(cap);
}

// Gemma 2's and Gemma 3's settings (Config says what each does), as llama.cpp reads them:
// Gemma 2 always has a sliding window (4096 positions unless the file says), on every
// other layer, with the global layers' RoPE base, and caps its attention scores and logits
// (50 and 30 unless the file says); Gemma 3's window is the file's, on five of every six
// layers, with a base of its own (10000 unless the file says), and its logits are capped
// only when the file says. The 27B models (46 and 62 layers) divide their scores by
// sqrt(dim / heads) instead of sqrt(head width).
rt::ErrorOr<void> read_gemma(gguf::File const& file, rt::StringView architecture, Architecture design, Config& c)
{
    auto key = [&](const char* suffix) { return rt::FixedString<64>::formatted("{}.{}", architecture, suffix); };
    bool gemma2 = design == Architecture::Gemma2;
    c.embedding_scale = rt::math::sqrtf(float(c.dim));
    c.gelu_gate = true;
    if (c.n_layers == (gemma2 ? 46 : 62))
        c.query_scale_width = c.dim / c.n_heads;
    c.final_softcap = TRY(soft_cap(file, key("final_logit_softcapping").view(), gemma2 ? 30.0 : 0.0));
    if (gemma2)
        c.attention_softcap = TRY(soft_cap(file, key("attn_logit_softcapping").view(), 50.0));
    if (gemma2 && (c.rope_scale != 1.0f || c.yarn_factor != 0.0f))
        return rt::Error::format("gguf: gemma2 with RoPE scaling (factor {}) is not supported", double(c.yarn_factor != 0.0f ? c.yarn_factor : c.rope_scale));
    // Gemma 2's: local and global layers in turn; Gemma 3's: five local layers, then a global one.
    return read_sliding_window(file, architecture, gemma2 ? 2 : 6, gemma2 ? 4096 : 0, gemma2 ? c.rope_theta : 10000.0f, c);
}

// Granite's multipliers (Config says what each does), as llama.cpp reads them: the logit
// scale is required, the others are left out where the file has none.
rt::ErrorOr<void> read_granite(gguf::File const& file, rt::StringView architecture, Config& c)
{
    struct Multiplier {
        const char* suffix;
        float* value;
        bool required;
    };
    Multiplier multipliers[] = { { "logit_scale", &c.logit_scale, true }, { "embedding_scale", &c.embedding_scale, false },
        { "residual_scale", &c.residual_scale, false }, { "attention.scale", &c.attention_scale, false } };
    for (auto const& m : multipliers) {
        auto key = rt::FixedString<64>::formatted("{}.{}", architecture, m.suffix);
        auto given = file.get_float(key.view());
        if (given.is_error() && !m.required)
            continue;
        double value = TRY(rt::move(given));
        if (!(value >= 1e-6 && value <= 1e6))
            return rt::Error::format("gguf: {} {} is not a plausible multiplier", key.view(), value);
        *m.value = float(value);
    }
    return {};
}

// The RoPE factors a file carries (each frequency divided by its factor): Llama 3's one
// set (rope_freqs), or Phi-3's LongRoPE pair (rope_factors_short and _long) with the
// context they switch at and the factor on RoPE's cosines and sines.
rt::ErrorOr<void> read_rope_factors(gguf::File const& file, rt::StringView architecture, TensorSource& source, Config& c, Weights& w)
{
    auto factors = [&](rt::StringView name) -> rt::ErrorOr<Tensor> {
        Tensor t = TRY(norm(file, source, name, u64(c.rotary_width() / 2)));
        for (i32 pair = 0; pair < c.rotary_width() / 2; ++pair)
            if (!(t.floats()[pair] > 0.0f && t.floats()[pair] < 1e6f))
                return rt::Error::format("gguf: {} holds {} at {}: not a frequency factor", name, double(t.floats()[pair]), pair);
        return t;
    };
    bool llama3 = file.tensor("rope_freqs.weight"), short_factors = file.tensor("rope_factors_short.weight"),
         long_factors = file.tensor("rope_factors_long.weight");
    if (llama3 && (short_factors || long_factors))
        return rt::Error::format("gguf: both rope_freqs.weight and LongRoPE factors: which apply is not clear");
    if (llama3)
        w.rope_factors = TRY(factors("rope_freqs.weight"));
    if (!short_factors && !long_factors)
        return {};
    if (!short_factors || !long_factors)
        return rt::Error::format("gguf: LongRoPE needs rope_factors_short.weight and rope_factors_long.weight, the file has one");
    if (c.yarn_factor != 0.0f)
        return rt::Error::format("gguf: both YaRN and LongRoPE factors: which apply is not clear");
    w.rope_factors = TRY(factors("rope_factors_short.weight"));
    w.rope_factors_long = TRY(factors("rope_factors_long.weight"));
    auto original_key = rt::FixedString<80>::formatted("{}.rope.scaling.original_context_length", architecture);
    u64 original = TRY(file.get_integer(original_key.view()));
    if (original < 1 || original > u64(c.seq_len))
        return rt::Error::format("gguf: {} {} is not a context up to the model's {}", original_key.view(), original, c.seq_len);
    c.rope_original_context = i32(original);
    auto attention_key = rt::FixedString<80>::formatted("{}.rope.scaling.attn_factor", architecture);
    if (auto given = file.get_float(attention_key.view()); !given.is_error()) {
        if (!(given.value() >= 0.1 && given.value() <= 10.0))
            return rt::Error::format("gguf: {} {} is not plausible", attention_key.view(), given.value());
        c.rope_attention_factor = float(given.value());
    }
    return {};
}

// Tensors of layers beyond llama.block_count would be ignored, and the model would run
// with fewer layers than it was trained with: garbled text, no error. Refuse instead.
rt::ErrorOr<void> check_layer_tensors(gguf::File const& file, i32 block_count)
{
    for (auto const& t : file.tensors()) {
        if (!t.name.starts_with("blk."))
            continue;
        u64 layer = 0;
        size_t at = 4;
        for (; at < t.name.length() && t.name[at] >= '0' && t.name[at] <= '9'; ++at)
            layer = rt::min(layer * 10 + u64(t.name[at] - '0'), u64(INT32_MAX) + 1); // saturates: no overflow
        if (at == 4 || at == t.name.length() || t.name[at] != '.')
            continue; // not a layer's tensor: unused, like any other extra tensor
        if (layer >= u64(block_count))
            return rt::Error::format("gguf: tensor {} belongs to layer {}, but llama.block_count is {}", t.name, layer, block_count);
    }
    return {};
}

}

rt::ErrorOr<Checkpoint> load_gguf_checkpoint(gguf::File const& file)
{
    // Each layer design is named in the file; its keys are named after it (`qwen3.*`).
    auto architecture = TRY(file.get_string("general.architecture"));
    Architecture design = Architecture::Llama;
    bool known = false;
    for (auto const& entry : architecture_names)
        if (architecture == entry.name()) {
            design = entry.design;
            known = true;
        }
    if (!known) {
        char names[160];
        rt::BufferSink sink(names, sizeof names);
        for (auto const& entry : architecture_names)
            rt::format_to(sink, "{}{}", entry.design == Architecture::Llama ? "" : ", ", entry.name());
        return rt::Error::format("gguf: unsupported architecture \"{}\" (BareFlow runs {})", architecture, sink.view());
    }
    rt::FixedString<64> key_text;
    auto key = [&](rt::StringView suffix) {
        key_text = rt::FixedString<64>::formatted("{}.{}", architecture, suffix);
        return key_text.view();
    };
    Checkpoint checkpoint;
    Config& c = checkpoint.config;
    c.dim = as_i32(TRY(file.get_integer(key("embedding_length"))));
    c.hidden_dim = as_i32(TRY(file.get_integer(key("feed_forward_length"))));
    c.n_layers = as_i32(TRY(file.get_integer(key("block_count"))));
    c.n_heads = as_i32(TRY(file.get_integer(key("attention.head_count"))));
    auto kv_heads = file.get_integer(key("attention.head_count_kv"));
    c.n_kv_heads = kv_heads.is_error() ? c.n_heads : as_i32(kv_heads.value());
    c.seq_len = as_i32(TRY(file.get_integer(key("context_length"))));
    auto const* embedding = file.tensor("token_embd.weight");
    if (!embedding || embedding->dimension_count != 2)
        return rt::Error::format("gguf: tensor token_embd.weight is missing or not a matrix");
    c.vocab_size = as_i32(embedding->dimensions[1]);
    c.shared_classifier = file.tensor("output.weight") == nullptr;
    i32 header[7] = { c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len };
    bool shared = c.shared_classifier;
    c = TRY(validate_config(header));
    c.shared_classifier = shared;
    // Llama's, Granite's, SmolLM3's and ERNIE's files order their rows for llama's pairs.
    c.rope_halves = design != Architecture::Llama && design != Architecture::Granite && design != Architecture::SmolLM3
        && design != Architecture::Ernie45;
    if (design == Architecture::SmolLM3)
        c.no_rope_period = 4; // as llama.cpp has it: the files do not say
    c.head_dim = TRY(head_dim(file, architecture, c));
    if (auto rope = file.get_integer(key("rope.dimension_count")); !rope.is_error() && i64(rope.value()) != c.head_size()) {
        // Fewer: the rest of each head is not turned (partial rotary, Phi-4-mini's).
        if (!(rope.value() > 0 && rope.value() < u64(c.head_size()) && rope.value() % 2 == 0))
            return rt::Error::format("gguf: rope dimension count {} is not an even count up to the head size {}", rope.value(), c.head_size());
        c.rope_dim = i32(rope.value());
    }
    if (auto base = file.get_float(key("rope.freq_base")); !base.is_error())
        c.rope_theta = TRY(rope_base(base.value(), "rope.freq_base"));
    TRY(read_rope_scaling(file, architecture, c));
    bool gemma = design == Architecture::Gemma2 || design == Architecture::Gemma3;
    if (gemma)
        TRY(read_gemma(file, architecture, design, c));
    if (design == Architecture::Granite)
        TRY(read_granite(file, architecture, c));
    if (design == Architecture::Olmo2) // OLMo 3's window: three local layers, then a global one
        TRY(read_sliding_window(file, architecture, 4, 0, c.rope_theta, c));
    if (auto eps = file.get_float(key("attention.layer_norm_rms_epsilon")); !eps.is_error()) {
        if (!(eps.value() > 0.0 && eps.value() < 0.1))
            return rt::Error::format("gguf: layer_norm_rms_epsilon {} is not plausible", eps.value());
        c.norm_epsilon = float(eps.value());
    }

    TRY(check_layer_tensors(file, c.n_layers));

    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), kv = u64(c.kv_dim()), q = u64(c.q_dim()), vocab = u64(c.vocab_size);
    Weights& w = checkpoint.weights;
    auto source = TRY(TensorSource::prepare(file, w.realigned));
    w.embedding = TRY(matrix(file, source, "token_embd.weight", dim, vocab));
    w.classifier = c.shared_classifier ? w.embedding : TRY(matrix(file, source, "output.weight", dim, vocab));
    w.final_norm = TRY(norm(file, source, "output_norm.weight", dim));
    TRY(read_rope_factors(file, architecture, source, c, w));
    // GGUF's quantised blocks hold 32 values each: inputs are quantised to match (for
    // every matrix), and Q4_K's mins need each group's sum.
    w.input_group = 32;
    w.input_sums = true;
    auto layers = size_t(c.n_layers);
    w.layers = TRY(rt::HeapArray<Layer>::allocate_zeroed(layers)); // zero: tensors absent (biases) stay empty
    char name[64];
    auto tensor_name = [&](size_t layer, const char* suffix) {
        rt::BufferSink sink(name, sizeof name);
        rt::format_to(sink, "blk.{}.{}", layer, suffix);
        return sink.view();
    };
    u64 bytes = 0;
    for (size_t l = 0; l < layers; ++l) {
        Layer& layer = w.layers[l];
        bool olmo2 = design == Architecture::Olmo2; // no norms before the sublayers
        if (!olmo2) {
            layer.attention_norm = TRY(norm(file, source, tensor_name(l, "attn_norm.weight"), dim));
            layer.ffn_norm = TRY(norm(file, source, tensor_name(l, "ffn_norm.weight"), dim));
        }
        // The query, key and value matrices may come fused in one (their rows in that
        // order: Phi-3's attn_qkv), and so may the gate and up (Phi-3's ffn_up, twice as
        // tall, the gate's rows first); the parts are read in place, as views of its rows.
        if (file.tensor(tensor_name(l, "attn_qkv.weight"))) {
            Tensor fused = TRY(matrix(file, source, tensor_name(l, "attn_qkv.weight"), dim, q + 2 * kv));
            layer.wq = rows_of(fused, 0, i32(q));
            layer.wk = rows_of(fused, i32(q), i32(kv));
            layer.wv = rows_of(fused, i32(q + kv), i32(kv));
        } else {
            layer.wq = TRY(matrix(file, source, tensor_name(l, "attn_q.weight"), dim, q));
            layer.wk = TRY(matrix(file, source, tensor_name(l, "attn_k.weight"), dim, kv));
            layer.wv = TRY(matrix(file, source, tensor_name(l, "attn_v.weight"), dim, kv));
        }
        layer.wo = TRY(matrix(file, source, tensor_name(l, "attn_output.weight"), q, dim));
        if (design == Architecture::Phi3 && !file.tensor(tensor_name(l, "ffn_gate.weight"))) {
            Tensor fused = TRY(matrix(file, source, tensor_name(l, "ffn_up.weight"), dim, 2 * hidden));
            layer.w1 = rows_of(fused, 0, i32(hidden));
            layer.w3 = rows_of(fused, i32(hidden), i32(hidden));
        } else {
            layer.w1 = TRY(matrix(file, source, tensor_name(l, "ffn_gate.weight"), dim, hidden));
            layer.w3 = TRY(matrix(file, source, tensor_name(l, "ffn_up.weight"), dim, hidden));
        }
        layer.w2 = TRY(matrix(file, source, tensor_name(l, "ffn_down.weight"), hidden, dim));
        struct Bias {
            Tensor* tensor;
            const char* name;
            u64 size;
        };
        Bias biases[] = { { &layer.q_bias, "attn_q.bias", q }, { &layer.k_bias, "attn_k.bias", kv }, { &layer.v_bias, "attn_v.bias", kv } };
        for (Bias bias : biases)
            if (file.tensor(tensor_name(l, bias.name)))
                *bias.tensor = TRY(norm(file, source, tensor_name(l, bias.name), bias.size));
        // A fused matrix's biases may come fused too, in the same order.
        if (file.tensor(tensor_name(l, "attn_qkv.bias"))) {
            if (layer.q_bias.data || layer.k_bias.data || layer.v_bias.data)
                return rt::Error::format("gguf: layer {} has both fused and separate query, key and value biases", l);
            Tensor fused = TRY(norm(file, source, tensor_name(l, "attn_qkv.bias"), q + 2 * kv));
            layer.q_bias = { fused.type, 1, i32(q), fused.data };
            layer.k_bias = { fused.type, 1, i32(kv), fused.data + q * sizeof(float) };
            layer.v_bias = { fused.type, 1, i32(kv), fused.data + (q + kv) * sizeof(float) };
        }
        // Without their norms Qwen3's and Gemmas' text is nonsense: not optional.
        if (design == Architecture::Qwen3 || design == Architecture::Gemma3) {
            layer.q_norm = TRY(norm(file, source, tensor_name(l, "attn_q_norm.weight"), u64(c.head_size())));
            layer.k_norm = TRY(norm(file, source, tensor_name(l, "attn_k_norm.weight"), u64(c.head_size())));
        }
        if (olmo2) { // over all the queries, all the keys
            layer.q_norm = TRY(norm(file, source, tensor_name(l, "attn_q_norm.weight"), q));
            layer.k_norm = TRY(norm(file, source, tensor_name(l, "attn_k_norm.weight"), kv));
        }
        if (gemma || olmo2) {
            layer.post_attention_norm = TRY(norm(file, source, tensor_name(l, "post_attention_norm.weight"), dim));
            layer.post_ffn_norm = TRY(norm(file, source, tensor_name(l, "post_ffw_norm.weight"), dim));
        }
    }
    for (auto const& t : file.tensors())
        bytes += t.bytes;
    checkpoint.weight_bytes = bytes;
    checkpoint.unused_tensors = source.unused(checkpoint.first_unused_tensor);
    checkpoint.format = WeightFormat::Gguf;
    checkpoint.architecture = design;
    return checkpoint;
}

}
