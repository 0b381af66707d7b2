// The layer designs beyond llama's, each in a tiny F32 GGUF with random weights, run through
// the transformer token by token and in a batch, and compared with the same layer written
// out plainly here, in double precision:
//  - Qwen3: each query and key head RMS-normalised with shared weights before RoPE over
//    the head's halves, heads wider than dim / heads (queries wider than the stream);
//  - Gemma 3: the same head norms, norms after the attention and the feed-forward, a GELU
//    gate, the embedding scaled by sqrt(dim), heads narrower than dim / heads, and
//    sliding-window attention (five local layers with their own RoPE base, then a global
//    one) over more positions than the window;
//  - Gemma 2: Gemma 3's layer without the head norms, local and global layers in turn with
//    one RoPE base, and soft caps on the attention scores and the logits, low enough here
//    that the random weights' scores and logits reach them;
//  - Phi-3: llama's layer with RoPE over halves, read from a file whose query, key and
//    value matrices are fused in one, and its gate and up, with LongRoPE's factors: the
//    long ones where the run holds more positions than the original context, the short
//    ones where it does not, and RoPE's cosines and sines scaled by the attention factor;
//  - Granite: llama's layer and RoPE (dimensions 2i and 2i + 1 together) with multipliers
//    on the embedding, the scores, the sublayers' outputs and the logits;
//  - SmolLM3: llama's layer and RoPE, every 4th layer without RoPE;
//  - ERNIE 4.5: llama's layer and RoPE, heads wider than dim / heads;
//  - OLMo 2: no norms before the sublayers, norms after them, the queries and the keys
//    RMS-normalised as whole vectors (OLMo 3's sliding window on 3 of every 4 layers);
//  - YaRN's RoPE scaling (on Qwen3's layer): each pair's frequency blended with the
//    interpolated one by how often it turns in the original context, RoPE scaled.
// Also the loader's refusals for such files, and the settings it reads or defaults.
#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_model.h"
#include "../../app/llm/transformer.h"
#include "../../app/tools/gguf_writer.h"
#include "models.h"
#include "random_data.h"
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace {

using tools::GgufWriter;

struct Design {
    std::string architecture;
    u64 dim, hidden, layers, heads, kv_heads, head;
    bool head_norms, post_norms, gelu, scaled_embedding;
    u32 window; // 0: no sliding window
    u32 period; // of local and global layers: all but the last of each period are local
    bool local_base; // local layers turn with local_theta rather than theta
    float attention_cap, final_cap; // 0: none
    bool fused { false }; // the file fuses q, k, v into attn_qkv and gate, up into ffn_up (Phi-3's)
    u32 original_context { 0 }; // LongRoPE's (0: none)
    bool rope_pairs { false }; // llama's RoPE (2i, 2i + 1) rather than over halves
    // Granite's multipliers (the file says them when the design is granite)
    float embedding_scale { 1.0f }, residual_scale { 1.0f }, attention_scale { 0.0f }, logit_scale { 1.0f };
    u64 positions { 16 }; // the file's context
    u32 no_rope_period { 0 }; // every this-many-th layer is not turned (0: none)
    float yarn_factor { 0.0f }; // YaRN's (0: none), with its original context
    u32 yarn_original { 0 };
    bool pre_norms { true }; // norms before the sublayers (OLMo 2 has none)
    bool whole_qk_norms { false }; // OLMo 2's: all the queries, all the keys normalised as one vector
    u64 rotary { 0 }; // RoPE turns the first this-many dimensions of a head (0: all; Phi-4-mini's 96 of 128)
    u64 q_dim() const { return heads * head; }
    u64 turned() const { return rotary ? rotary : head; }
    u64 kv_dim() const { return kv_heads * head; }
};
constexpr u64 vocab = 24;
constexpr float theta = 1000000.0f, local_theta = 10000.0f, epsilon = 1e-6f;

// dim 32, but 4 query heads of 16 (queries 64 wide) over 2 key/value heads.
const Design qwen3 { "qwen3", 32, 48, 2, 4, 2, 16, true, false, false, false, 0, 0, false, 0, 0 };
// Seven layers (the sixth global), 2 query heads of 12 over one key/value head, a window of 3.
const Design gemma3 { "gemma3", 32, 48, 7, 2, 1, 12, true, true, true, true, 3, 6, true, 0, 0 };
// Five layers (local, global, ...), 4 heads of 8 over 2 key/value heads, a window of 3.
const Design gemma2 { "gemma2", 32, 48, 5, 4, 2, 8, false, true, true, true, 3, 2, false, 0.5f, 1.0f };
// Two layers, 4 heads of 8 over 4 key/value heads; the file's 16 positions are more than
// the original context of 8 (long factors), or not (the original 16: short factors).
const Design phi3_long { "phi3", 32, 48, 2, 4, 4, 8, false, false, false, false, 0, 0, false, 0, 0, true, 8 };
const Design phi3_short { "phi3", 32, 48, 2, 4, 4, 8, false, false, false, false, 0, 0, false, 0, 0, true, 16 };
constexpr float attention_factor = 1.25f;
// Five layers (the 4th without RoPE), 4 heads of 8 over 2 key/value heads.
// Qwen3's layer with YaRN: factor 4 over an original context of 2000, so that pairs 1 to 4
// of the 8 blend (the others kept or interpolated).
const Design qwen3_yarn { "qwen3", 32, 48, 2, 4, 2, 16, true, false, false, false, 0, 0, false, 0, 0, false, 0, false, 1.0f, 1.0f, 0.0f, 1.0f, 16, 0, 4.0f, 2000 };
// 4 heads of 16 over a stream of 32 (queries twice as wide), 2 key/value heads.
const Design ernie { "ernie4_5", 32, 48, 2, 4, 2, 16, false, false, false, false, 0, 0, false, 0, 0, false, 0, true };
// Five layers (the 4th global, the others local with a window of 3), 4 heads of 8 over 4.
const Design olmo2 { "olmo2", 32, 48, 5, 4, 4, 8, false, true, false, false, 3, 4, false, 0, 0, false, 0, false, 1.0f, 1.0f, 0.0f, 1.0f, 16, 0, 0.0f, 0,
    false, true };
const Design smollm3 { "smollm3", 32, 48, 5, 4, 2, 8, false, false, false, false, 0, 0, false, 0, 0, false, 0, true, 1.0f, 1.0f, 0.0f, 1.0f, 16, 4 };
// Partial rotary: Phi-4-mini's layout (LongRoPE over halves, 12 of each head's 16
// dimensions turned; long factors) and llama's pairs (SmolLM3's, 6 of 8).
const Design phi4_partial { "phi3", 32, 48, 2, 2, 2, 16, false, false, false, false, 0, 0, false, 0, 0, true, 8, false, 1.0f, 1.0f, 0.0f, 1.0f, 16,
    0, 0.0f, 0, true, false, 12 };
const Design pairs_partial { "smollm3", 32, 48, 2, 4, 2, 8, false, false, false, false, 0, 0, false, 0, 0, false, 0, true, 1.0f, 1.0f, 0.0f, 1.0f, 16,
    0, 0.0f, 0, true, false, 6 };
// Two layers, 4 heads of 8 over 2 key/value heads, multipliers far from one.
const Design granite { "granite", 32, 48, 2, 4, 2, 8, false, false, false, false, 0, 0, false, 0, 0, false, 0, true, 3.0f, 0.25f, 0.5f, 4.0f };

struct Tensor {
    std::vector<u64> dims; // columns first, as GGUF lists them
    std::vector<float> values;
};
using Tensors = std::map<std::string, Tensor>;

Tensors random_tensors(Design const& d)
{
    Tensors t;
    u32 seed = 1;
    auto matrix = [&](std::string const& name, u64 columns, u64 rows) { t[name] = { { columns, rows }, random_floats(columns * rows, ++seed, 0.5f) }; };
    auto scales = [&](std::string const& name, u64 size) { // norm weights in [0.5, 1.5)
        auto values = random_floats(size, ++seed, 0.5f);
        for (float& v : values)
            v += 1.0f;
        t[name] = { { size }, values };
    };
    matrix("token_embd.weight", d.dim, vocab);
    matrix("output.weight", d.dim, vocab);
    scales("output_norm.weight", d.dim);
    if (d.original_context) {
        scales("rope_factors_short.weight", d.turned() / 2);
        scales("rope_factors_long.weight", d.turned() / 2);
        for (float& factor : t["rope_factors_long.weight"].values)
            factor *= 3.0f; // [1.5, 4.5)
    }
    for (u64 l = 0; l < d.layers; ++l) {
        std::string p = "blk." + std::to_string(l) + ".";
        if (d.pre_norms) {
            scales(p + "attn_norm.weight", d.dim);
            scales(p + "ffn_norm.weight", d.dim);
        }
        if (d.head_norms) {
            scales(p + "attn_q_norm.weight", d.head);
            scales(p + "attn_k_norm.weight", d.head);
        }
        if (d.whole_qk_norms) {
            scales(p + "attn_q_norm.weight", d.q_dim());
            scales(p + "attn_k_norm.weight", d.kv_dim());
        }
        if (d.post_norms) {
            scales(p + "post_attention_norm.weight", d.dim);
            scales(p + "post_ffw_norm.weight", d.dim);
        }
        matrix(p + "attn_q.weight", d.dim, d.q_dim());
        matrix(p + "attn_k.weight", d.dim, d.kv_dim());
        matrix(p + "attn_v.weight", d.dim, d.kv_dim());
        matrix(p + "attn_output.weight", d.q_dim(), d.dim);
        matrix(p + "ffn_gate.weight", d.dim, d.hidden);
        matrix(p + "ffn_up.weight", d.dim, d.hidden);
        matrix(p + "ffn_down.weight", d.hidden, d.dim);
    }
    return t;
}

// The file, with `key_length`/`value_length` as metadata (0: left out), without the tensor
// named `skip`, and with `extra` integer and float metadata.
struct FileChanges {
    u32 key_length, value_length;
    std::string skip;
    std::vector<std::pair<std::string, u32>> integers;
    std::vector<std::pair<std::string, float>> floats;
    std::vector<std::pair<std::string, std::string>> strings;
};

// The design's tensors as its file holds them: Phi-3's fused matrices, the rows of each
// part after the other's.
Tensors as_filed(Design const& d, Tensors tensors)
{
    if (!d.fused)
        return tensors;
    auto fuse = [&](std::string const& fused, std::vector<std::string> const& parts) {
        Tensor whole { { tensors.at(parts[0]).dims[0], 0 }, {} };
        for (auto const& part : parts) {
            Tensor& t = tensors.at(part);
            whole.dims[1] += t.dims[1];
            whole.values.insert(whole.values.end(), t.values.begin(), t.values.end());
            tensors.erase(part);
        }
        tensors[fused] = whole;
    };
    for (u64 l = 0; l < d.layers; ++l) {
        std::string p = "blk." + std::to_string(l) + ".";
        fuse(p + "attn_qkv.weight", { p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight" });
        fuse(p + "ffn_up.weight", { p + "ffn_gate.weight", p + "ffn_up.weight" });
    }
    return tensors;
}

std::vector<u8> gguf(Design const& d, Tensors const& plain_tensors, FileChanges const& changes)
{
    Tensors tensors = as_filed(d, plain_tensors);
    GgufWriter b;
    std::string a = d.architecture + ".";
    b.kv_string("general.architecture", d.architecture);
    u64 pairs = 1;
    auto integers = changes.integers;
    integers.insert(integers.end(), { { "embedding_length", u32(d.dim) }, { "feed_forward_length", u32(d.hidden) },
                                        { "block_count", u32(d.layers) }, { "attention.head_count", u32(d.heads) },
                                        { "attention.head_count_kv", u32(d.kv_heads) }, { "context_length", u32(d.positions) },
                                        { "attention.key_length", changes.key_length }, { "attention.value_length", changes.value_length } });
    if (d.window)
        integers.push_back({ "attention.sliding_window", d.window });
    bool rotary_given = false;
    for (auto const& change : changes.integers)
        rotary_given = rotary_given || change.first == "rope.dimension_count";
    if (d.rotary && !rotary_given)
        integers.push_back({ "rope.dimension_count", u32(d.rotary) });
    if (d.original_context)
        integers.push_back({ "rope.scaling.original_context_length", d.original_context });
    if (d.yarn_factor != 0.0f)
        integers.push_back({ "rope.scaling.original_context_length", d.yarn_original });
    for (auto const& [key, value] : integers)
        if (value)
            b.kv_u32(a + key, value), ++pairs;
    auto floats = changes.floats;
    floats.insert(floats.end(), { { "rope.freq_base", theta }, { "attention.layer_norm_rms_epsilon", epsilon } });
    auto given = [&](std::string const& key) {
        for (auto const& change : changes.floats)
            if (change.first == key)
                return true;
        return false;
    };
    if (d.attention_cap != 0.0f && !given("attn_logit_softcapping"))
        floats.push_back({ "attn_logit_softcapping", d.attention_cap });
    if (d.final_cap != 0.0f && !given("final_logit_softcapping"))
        floats.push_back({ "final_logit_softcapping", d.final_cap });
    if (d.original_context && !given("rope.scaling.attn_factor"))
        floats.push_back({ "rope.scaling.attn_factor", attention_factor });
    if (d.yarn_factor != 0.0f && !given("rope.scaling.factor"))
        floats.push_back({ "rope.scaling.factor", d.yarn_factor });
    if (d.architecture == "granite")
        for (auto const& [key, value] : std::vector<std::pair<std::string, float>> { { "embedding_scale", d.embedding_scale },
                 { "residual_scale", d.residual_scale }, { "attention.scale", d.attention_scale }, { "logit_scale", d.logit_scale } })
            if (!given(key))
                floats.push_back({ key, value });
    for (auto const& [key, value] : floats)
        b.kv_f32(a + key, value), ++pairs;
    auto strings = changes.strings;
    if (d.yarn_factor != 0.0f)
        strings.push_back({ "rope.scaling.type", "yarn" });
    for (auto const& [key, value] : strings)
        b.kv_string(a + key, value), ++pairs;
    std::vector<u8> data;
    u64 count = 0;
    for (auto const& [name, t] : tensors) {
        if (name == changes.skip)
            continue;
        b.tensor_info(name, t.dims, 0, data.size());
        auto const* bytes = reinterpret_cast<const u8*>(t.values.data());
        data.insert(data.end(), bytes, bytes + t.values.size() * sizeof(float));
        data.resize(size_t(GgufWriter::padded(data.size())));
        ++count;
    }
    auto file = b.file_start(count, pairs);
    file.insert(file.end(), data.begin(), data.end());
    return file;
}

std::vector<u8> gguf(Design const& d, Tensors const& tensors) { return gguf(d, tensors, { u32(d.head), u32(d.head), "", {}, {}, {} }); }

// The same layers, plainly, in double precision.
class PlainModel {
public:
    PlainModel(Design const& d, Tensors const& t) : m_d(d), m_t(t), m_keys(d.layers), m_values(d.layers) {}

    std::vector<double> forward(i32 token, i32 position)
    {
        auto const& embedding = m_t.at("token_embd.weight").values;
        std::vector<double> x(embedding.begin() + token * i64(m_d.dim), embedding.begin() + (token + 1) * i64(m_d.dim));
        bool long_rope = m_d.original_context && m_d.positions > m_d.original_context;
        m_factors = m_d.original_context ? &weights(long_rope ? "rope_factors_long.weight" : "rope_factors_short.weight") : nullptr;
        for (double& v : x)
            v *= (m_d.scaled_embedding ? std::sqrt(double(m_d.dim)) : 1.0) * m_d.embedding_scale;
        for (u64 l = 0; l < m_d.layers; ++l) {
            std::string p = "blk." + std::to_string(l) + ".";
            bool local = m_d.window && l % m_d.period < m_d.period - 1;
            double base = local && m_d.local_base ? local_theta : theta;
            auto xb = m_d.pre_norms ? rms_norm(x, 0, m_d.dim, weights(p + "attn_norm.weight")) : x;
            auto q = product(p + "attn_q.weight", xb), k = product(p + "attn_k.weight", xb), v = product(p + "attn_v.weight", xb);
            if (m_d.whole_qk_norms) {
                q = rms_norm(q, 0, m_d.q_dim(), weights(p + "attn_q_norm.weight"));
                k = rms_norm(k, 0, m_d.kv_dim(), weights(p + "attn_k_norm.weight"));
            }
            i32 turned = m_d.no_rope_period && (l + 1) % m_d.no_rope_period == 0 ? 0 : position; // position 0 turns nothing
            for (u64 h = 0; h < m_d.heads; ++h)
                normalize_and_turn(q, h * m_d.head, p + "attn_q_norm.weight", turned, base);
            for (u64 h = 0; h < m_d.kv_heads; ++h)
                normalize_and_turn(k, h * m_d.head, p + "attn_k_norm.weight", turned, base);
            m_keys[l].push_back(k);
            m_values[l].push_back(v);
            size_t first = local && size_t(position) + 1 > m_d.window ? size_t(position) + 1 - m_d.window : 0;
            std::vector<double> attended(m_d.q_dim(), 0.0);
            for (u64 h = 0; h < m_d.heads; ++h) {
                u64 kv = h / (m_d.heads / m_d.kv_heads) * m_d.head;
                std::vector<double> scores;
                double largest = -1e300, sum = 0;
                for (size_t t = first; t < m_keys[l].size(); ++t) {
                    double s = 0;
                    for (u64 i = 0; i < m_d.head; ++i)
                        s += q[h * m_d.head + i] * m_keys[l][t][kv + i];
                    s = m_d.attention_scale != 0.0f ? s * m_d.attention_scale : s / std::sqrt(double(m_d.head));
                    scores.push_back(capped(s, m_d.attention_cap));
                    largest = std::max(largest, scores.back());
                }
                for (double& s : scores)
                    sum += s = std::exp(s - largest);
                for (size_t t = 0; t < scores.size(); ++t)
                    for (u64 i = 0; i < m_d.head; ++i)
                        attended[h * m_d.head + i] += scores[t] / sum * m_values[l][first + t][kv + i];
            }
            auto out = product(p + "attn_output.weight", attended);
            if (m_d.post_norms)
                out = rms_norm(out, 0, m_d.dim, weights(p + "post_attention_norm.weight"));
            add(x, out, m_d.residual_scale);
            xb = m_d.pre_norms ? rms_norm(x, 0, m_d.dim, weights(p + "ffn_norm.weight")) : x;
            auto gate = product(p + "ffn_gate.weight", xb), up = product(p + "ffn_up.weight", xb);
            for (u64 i = 0; i < m_d.hidden; ++i) {
                double g = gate[i];
                gate[i] = (m_d.gelu ? 0.5 * g * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (g + 0.044715 * g * g * g))) : g / (1.0 + std::exp(-g))) * up[i];
            }
            out = product(p + "ffn_down.weight", gate);
            if (m_d.post_norms)
                out = rms_norm(out, 0, m_d.dim, weights(p + "post_ffw_norm.weight"));
            add(x, out, m_d.residual_scale);
        }
        auto logits = product("output.weight", rms_norm(x, 0, m_d.dim, weights("output_norm.weight")));
        for (double& logit : logits)
            logit = capped(logit / m_d.logit_scale, m_d.final_cap);
        return logits;
    }

private:
    std::vector<float> const& weights(std::string const& name) const { return m_t.at(name).values; }
    static std::vector<double> rms_norm(std::vector<double> const& x, u64 first, u64 size, std::vector<float> const& weights)
    {
        double squares = 0;
        for (u64 i = 0; i < size; ++i)
            squares += x[first + i] * x[first + i];
        double scale = 1.0 / std::sqrt(squares / double(size) + epsilon);
        std::vector<double> out(size);
        for (u64 i = 0; i < size; ++i)
            out[i] = x[first + i] * scale * weights[i];
        return out;
    }
    static double capped(double value, float cap) { return cap != 0.0f ? cap * std::tanh(value / cap) : value; }
    // One head: its RMS norm (where the design has head norms), then RoPE turning dimensions
    // i and i + head / 2 together (2i and 2i + 1 for llama's pairs).
    void normalize_and_turn(std::vector<double>& vector, u64 first, std::string const& norm, i32 position, double base) const
    {
        auto normalised = m_d.head_norms ? rms_norm(vector, first, m_d.head, weights(norm))
                                         : std::vector<double>(vector.begin() + i64(first), vector.begin() + i64(first + m_d.head));
        u64 half = m_d.turned() / 2; // the dimensions from turned() on are left as they are
        for (u64 i = m_d.turned(); i < m_d.head; ++i)
            vector[first + i] = normalised[i];
        // LongRoPE: each frequency divided by its factor, and the turn scaled. YaRN: each
        // frequency blended with the interpolated one by where its pair lies between the
        // pairs that turn 32 times and once in the original context, the turn scaled.
        double scale = m_factors ? attention_factor : m_d.yarn_factor != 0.0f ? 1.0 + 0.1 * std::log(m_d.yarn_factor) : 1.0;
        auto pair_turning = [&](double turns) { return double(m_d.turned()) * std::log(m_d.yarn_original / (turns * 2 * M_PI)) / (2 * std::log(base)); };
        double low = std::max(0.0, std::floor(pair_turning(32))), high = std::min(double(m_d.turned()) - 1, std::ceil(pair_turning(1)));
        for (u64 i = 0; i < half; ++i) {
            double angle = position * std::pow(base, -2.0 * double(i) / double(m_d.turned())) / (m_factors ? (*m_factors)[i] : 1.0);
            if (m_d.yarn_factor != 0.0f) {
                double ramp = 1.0 - std::min(1.0, std::max(0.0, (double(i) - low) / std::max(0.001, high - low)));
                angle *= ramp + (1.0 - ramp) / m_d.yarn_factor;
            }
            u64 one = m_d.rope_pairs ? 2 * i : i, other = m_d.rope_pairs ? 2 * i + 1 : i + half; // the dimensions turned together
            double a = normalised[one], b = normalised[other], c = scale * std::cos(angle), s = scale * std::sin(angle);
            vector[first + one] = a * c - b * s;
            vector[first + other] = a * s + b * c;
        }
    }
    std::vector<double> product(std::string const& name, std::vector<double> const& x) const
    {
        auto const& t = m_t.at(name);
        u64 columns = t.dims[0], rows = t.dims[1];
        std::vector<double> out(rows, 0.0);
        for (u64 r = 0; r < rows; ++r)
            for (u64 c = 0; c < columns; ++c)
                out[r] += double(t.values[r * columns + c]) * x[c];
        return out;
    }
    static void add(std::vector<double>& x, std::vector<double> const& y, double scale)
    {
        for (size_t i = 0; i < x.size(); ++i)
            x[i] += scale * y[i];
    }

    Design const& m_d;
    Tensors const& m_t;
    std::vector<float> const* m_factors { nullptr }; // LongRoPE's set in use
    std::vector<std::vector<std::vector<double>>> m_keys, m_values; // [layer][position][kv_dim]
};

std::string message(rt::Error const& error) { return std::string(error.message().data(), error.message().length()); }

std::string load_error(std::vector<u8> const& bytes)
{
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    if (file.is_error())
        return "parse: " + message(file.error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    return checkpoint.is_error() ? message(checkpoint.error()) : "";
}

// The loader's message for the design's file with `changes`, its key and value lengths
// the design's head width ("" when it loads).
std::string changed_file_error(Design const& d, Tensors const& tensors, FileChanges changes)
{
    changes.key_length = changes.value_length = u32(d.head);
    return load_error(gguf(d, tensors, changes));
}

// Largest |a - b| over the logits, relative to the largest |b|.
double relative_difference(const float* a, std::vector<double> const& b)
{
    double worst = 0, size = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
        size = std::max(size, std::fabs(b[i]));
    }
    return worst / size;
}

// The design's file through the transformer, token by token against the plain layers, then
// in one batch against the last token's logits: `count` tokens (the first 12 of a fixed
// list, and random ones after).
void compare_with_plain_layers(Design const& d, size_t count = 12)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(d);
    auto bytes = gguf(d, tensors);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error()) << message(file.error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    auto const& c = checkpoint.value().config;
    EXPECT_EQ(c.head_size(), i32(d.head));
    EXPECT_EQ(c.q_dim(), i32(d.q_dim()));
    EXPECT_EQ(c.kv_dim(), i32(d.kv_dim()));
    EXPECT_EQ(std::string(llm::format_name(checkpoint.value())), "GGUF " + d.architecture);
    EXPECT_EQ(checkpoint.value().unused_tensors, 0u) << std::string(checkpoint.value().first_unused_tensor.data(), checkpoint.value().first_unused_tensor.length());

    std::vector<i32> tokens = { 3, 17, 5, 5, 22, 0, 9, 11, 14, 2, 7, 19 };
    for (u32 state = 12345; tokens.size() < count;) {
        state = state * 1103515245u + 12345u;
        tokens.push_back(i32((state >> 16) % vocab));
    }
    tokens.resize(count);
    auto one_by_one = llm::Transformer::create(checkpoint.value());
    ASSERT_FALSE(one_by_one.is_error()) << message(one_by_one.error());
    PlainModel plain(d, tensors);
    std::vector<float> last(vocab);
    for (i32 position = 0; position < i32(tokens.size()); ++position) {
        auto expected = plain.forward(tokens[position], position);
        const float* logits = one_by_one.value().forward(tokens[position], position);
        EXPECT_LT(relative_difference(logits, expected), 1e-5) << d.architecture << " position " << position;
        last.assign(logits, logits + vocab);
    }
    auto batched = llm::Transformer::create(checkpoint.value(), 16);
    ASSERT_FALSE(batched.is_error()) << message(batched.error());
    ASSERT_GT(batched.value().batch_capacity(), 1);
    const float* batch_logits = batched.value().forward_batch({ tokens.data(), tokens.size() }, 0);
    EXPECT_EQ(std::memcmp(batch_logits, last.data(), vocab * sizeof(float)), 0) << d.architecture;
}

TEST(Qwen3, WideHeadsAndHeadNormsComputeTheLayer) { compare_with_plain_layers(qwen3); }

TEST(Gemma3, SlidingWindowPostNormsAndGeluComputeTheLayer) { compare_with_plain_layers(gemma3); }

// 100 positions through a window of 3: the local layers' caches keep 2 x 3 + 64 positions,
// and their keys and values move to the start twice, token by token and in the batches.
TEST(Gemma3, WindowedCachesKeepTheWindow)
{
    Design long_run = gemma3;
    long_run.positions = 128;
    llm::Config c {};
    c.seq_len = 128;
    c.sliding_window = 3;
    EXPECT_EQ(llm::Transformer::window_cache_positions(c), 70);
    c.seq_len = 70;
    EXPECT_EQ(llm::Transformer::window_cache_positions(c), 70);
    c.sliding_window = 0;
    EXPECT_EQ(llm::Transformer::window_cache_positions(c), 70);
    compare_with_plain_layers(long_run, 100);
}

TEST(Gemma2, SoftCapsAndAlternatingWindowsComputeTheLayer) { compare_with_plain_layers(gemma2); }

TEST(Granite, MultipliersComputeTheLayer) { compare_with_plain_layers(granite); }

TEST(SmolLM3, LayersWithoutRopeComputeTheLayer) { compare_with_plain_layers(smollm3); }

TEST(Ernie45, WideHeadsComputeTheLayer) { compare_with_plain_layers(ernie); }

TEST(Olmo2, NormsAfterAndWholeVectorNormsComputeTheLayer) { compare_with_plain_layers(olmo2); }

TEST(Yarn, BlendedFrequenciesComputeTheLayer)
{
    compare_with_plain_layers(qwen3_yarn);
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(qwen3_yarn);
    auto bytes = gguf(qwen3_yarn, tensors);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    auto const& c = checkpoint.value().config;
    EXPECT_EQ(c.yarn_low, 1.0f);
    EXPECT_EQ(c.yarn_high, 4.0f);
    EXPECT_NEAR(c.rope_attention_factor, 1.0 + 0.1 * std::log(4.0), 1e-6);
    auto changed = [&](FileChanges changes) { return changed_file_error(qwen3_yarn, tensors, changes); };
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.yarn_log_multiplier", 0.1f } }, {} }),
        "gguf: qwen3.rope.scaling.yarn_log_multiplier (DeepSeek's YaRN) is not supported");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.yarn_ext_factor", 2.0f } }, {} }),
        "gguf: YaRN settings not plausible: original context 2000.000, beta_fast 32.000, beta_slow 1.000, ext_factor 2.000, attn_factor 1.000");
}

TEST(Granite, RefusedWithClearMessages)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(granite);
    auto changed = [&](FileChanges changes) { return changed_file_error(granite, tensors, changes); };
    EXPECT_EQ(changed({}), "");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "residual_scale", -1.0f } }, {} }), "gguf: granite.residual_scale -1.000 is not a plausible multiplier");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "logit_scale", 0.0f } }, {} }), "gguf: granite.logit_scale 0.000 is not a plausible multiplier");
}

TEST(Phi3, FusedMatricesAndLongRopeComputeTheLayer)
{
    compare_with_plain_layers(phi3_long);
    compare_with_plain_layers(phi3_short);
}

// Phi-4-mini's partial rotary, and the same on llama's pairs: only the first dimensions of
// each head turn, at frequencies of that width.
TEST(Phi3, PartialRotaryComputesTheLayer)
{
    compare_with_plain_layers(phi4_partial);
    compare_with_plain_layers(pairs_partial);
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(phi4_partial);
    auto changed = [&](FileChanges changes) { return changed_file_error(phi4_partial, tensors, changes); };
    EXPECT_EQ(changed({}), "");
    for (u32 count : { 13u, 18u })
        EXPECT_EQ(changed({ 0, 0, "", { { "rope.dimension_count", count } }, {}, {} }),
            "gguf: rope dimension count " + std::to_string(count) + " is not an even count up to the head size 16");
    // The factors are as long as the turned dimensions' pairs: a file with 12 turned and
    // LongRoPE factors for 16 is refused.
    EXPECT_EQ(changed({ 0, 0, "", { { "rope.dimension_count", 16 } }, {}, {} }),
        "gguf: tensor rope_factors_short.weight has shape [6, 1], the model needs [8, 1]");
}

TEST(Qwen3, RefusedWithClearMessages)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(qwen3);
    auto file = [&](u32 key_length, u32 value_length, std::string const& skip = "") {
        return gguf(qwen3, tensors, { key_length, value_length, skip, {}, {}, {} });
    };
    EXPECT_EQ(load_error(file(16, 16)), "");
    EXPECT_EQ(load_error(file(16, 16, "blk.1.attn_k_norm.weight")), "gguf: tensor blk.1.attn_k_norm.weight is missing");
    EXPECT_EQ(load_error(file(16, 8)), "gguf: qwen3.attention.key_length 16 differs from qwen3.attention.value_length 8: not supported");
    EXPECT_EQ(load_error(file(15, 15)), "gguf: qwen3.attention.key_length 15 is not a head width BareFlow runs (even, at most 16384 for 4 heads)");
    // Without key_length the heads are dim / heads = 8 wide, and the query matrix is too wide.
    EXPECT_EQ(load_error(file(0, 0)), "gguf: tensor blk.0.attn_q.weight has shape [32, 64], the model needs [32, 32]");
}

TEST(Gemma3, RefusedWithClearMessages)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(gemma3);
    auto changed = [&](FileChanges changes) { return changed_file_error(gemma3, tensors, changes); };
    EXPECT_EQ(changed({}), "");
    EXPECT_EQ(changed({ 0, 0, "blk.6.post_ffw_norm.weight", {}, {}, {} }), "gguf: tensor blk.6.post_ffw_norm.weight is missing");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "final_logit_softcapping", -30.0f } }, {} }),
        "gguf: gemma3.final_logit_softcapping -30.000 is not a plausible cap");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.freq_base_swa", 0.5f } }, {} }), "gguf: gemma3.rope.freq_base_swa 0.500 is not plausible");
    // RoPE scaling: linear is read; another kind with a factor is refused, not run unscaled.
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.factor", 8.0f } }, {} }), "");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.factor", 4.0f } }, { { "rope.scaling.type", "longrope" } } }),
        "gguf: gemma3.rope.scaling.type \"longrope\" (factor 4.000) is not supported; BareFlow scales RoPE linearly or by YaRN");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.factor", -2.0f } }, {} }), "gguf: rope scaling factor -2.000 is not plausible");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.factor", 0.001f } }, {} }), "gguf: rope scaling factor 0.001 is not plausible");
}

// A window of 3 with a period of 2 (written in the file): every other layer is local.
TEST(Gemma3, SlidingWindowPeriodFromTheFile)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(gemma3);
    auto bytes = gguf(gemma3, tensors, { 12, 12, "", { { "attention.sliding_window_pattern", 2 } }, {}, {} });
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    auto const& c = checkpoint.value().config;
    EXPECT_EQ(c.sliding_window, 3);
    for (i32 layer = 0; layer < 7; ++layer)
        EXPECT_EQ(c.sliding(layer), layer % 2 == 0) << layer;
    EXPECT_EQ(c.first_visible(0, 10), 8);
    EXPECT_EQ(c.first_visible(1, 10), 0);
    EXPECT_EQ(c.first_visible(0, 1), 0);
}

// What the loader reads for Gemma 2, and what it takes when the file does not say: a
// window of 4096 on every other layer, the global RoPE base for the local layers, caps of
// 50 on the scores and 30 on the logits; the 27B shape's scores divisor.
TEST(Gemma2, SettingsFromTheFileOrLlamaCppsDefaults)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto config = [&](Design const& d, FileChanges changes) {
        changes.key_length = changes.value_length = u32(d.head);
        auto bytes = gguf(d, random_tensors(d), changes);
        auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
        EXPECT_FALSE(file.is_error());
        auto checkpoint = llm::load_gguf_checkpoint(file.value());
        EXPECT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
        return checkpoint.is_error() ? llm::Config {} : checkpoint.value().config;
    };
    auto c = config(gemma2, {});
    EXPECT_EQ(c.sliding_window, 3);
    EXPECT_FLOAT_EQ(c.attention_softcap, 0.5f);
    EXPECT_FLOAT_EQ(c.final_softcap, 1.0f);
    EXPECT_FLOAT_EQ(c.rope_theta_local, theta);
    EXPECT_EQ(c.scores_scale_width(), 8);
    for (i32 layer = 0; layer < 5; ++layer)
        EXPECT_EQ(c.sliding(layer), layer % 2 == 0) << layer;

    Design unsaid = gemma2;
    unsaid.window = 0;
    unsaid.attention_cap = unsaid.final_cap = 0.0f;
    c = config(unsaid, { 0, 0, "", {}, { { "rope.freq_base_swa", 5000.0f } }, {} });
    EXPECT_EQ(c.sliding_window, 4096);
    EXPECT_EQ(c.sliding_period, 2);
    EXPECT_FLOAT_EQ(c.attention_softcap, 50.0f);
    EXPECT_FLOAT_EQ(c.final_softcap, 30.0f);
    EXPECT_FLOAT_EQ(c.rope_theta_local, 5000.0f);
    // A cap of zero in the file is none.
    c = config(unsaid, { 0, 0, "", {}, { { "attn_logit_softcapping", 0.0f }, { "final_logit_softcapping", 0.0f } }, {} });
    EXPECT_EQ(c.attention_softcap, 0.0f);
    EXPECT_EQ(c.final_softcap, 0.0f);

    // 46 layers (Gemma 2 27B's count): scores divided by sqrt(dim / heads), not sqrt(head width).
    Design deep = gemma2;
    deep.layers = 46;
    deep.head = 16; // heads of 16 over a stream of 32: dim / heads is 8
    c = config(deep, {});
    EXPECT_EQ(c.head_size(), 16);
    EXPECT_EQ(c.scores_scale_width(), 8);
    deep.layers = 45;
    EXPECT_EQ(config(deep, {}).scores_scale_width(), 16);
}

TEST(Gemma2, RefusedWithClearMessages)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(gemma2);
    auto changed = [&](FileChanges changes) { return changed_file_error(gemma2, tensors, changes); };
    EXPECT_EQ(changed({}), "");
    EXPECT_EQ(changed({ 0, 0, "blk.3.post_attention_norm.weight", {}, {}, {} }), "gguf: tensor blk.3.post_attention_norm.weight is missing");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "attn_logit_softcapping", 1e9f } }, {} }), "gguf: gemma2.attn_logit_softcapping 1000000000.000 is not a plausible cap");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.factor", 4.0f } }, {} }), "gguf: gemma2 with RoPE scaling (factor 4.000) is not supported");
}

TEST(Phi3, RefusedWithClearMessages)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(phi3_long);
    auto changed = [&](FileChanges changes, Tensors const& t) { return changed_file_error(phi3_long, t, changes); };
    EXPECT_EQ(changed({}, tensors), "");
    EXPECT_EQ(changed({ 0, 0, "rope_factors_long.weight", {}, {}, {} }, tensors),
        "gguf: LongRoPE needs rope_factors_short.weight and rope_factors_long.weight, the file has one");
    EXPECT_EQ(changed({ 0, 0, "blk.1.ffn_up.weight", {}, {}, {} }, tensors), "gguf: tensor blk.1.ffn_up.weight is missing");
    EXPECT_EQ(changed({ 0, 0, "", {}, { { "rope.scaling.attn_factor", 50.0f } }, {} }, tensors),
        "gguf: phi3.rope.scaling.attn_factor 50.000 is not plausible");
    auto with = [&](std::string const& name, float value) {
        Tensors t = tensors;
        t[name] = { { 4 }, std::vector<float>(4, value) };
        return t;
    };
    EXPECT_EQ(changed({}, with("rope_factors_long.weight", -1.0f)), "gguf: rope_factors_long.weight holds -1.000 at 0: not a frequency factor");
    EXPECT_EQ(changed({}, with("rope_freqs.weight", 1.0f)), "gguf: both rope_freqs.weight and LongRoPE factors: which apply is not clear");
    // A fused matrix of the wrong height is named as such.
    Tensors short_qkv = tensors;
    short_qkv["blk.0.attn_v.weight"].dims[1] = 4;
    short_qkv["blk.0.attn_v.weight"].values.resize(32 * 4);
    EXPECT_EQ(changed({}, short_qkv), "gguf: tensor blk.0.attn_qkv.weight has shape [32, 68], the model needs [32, 96]");
    // The original context must lie within the model's.
    Design wide = phi3_long;
    wide.original_context = 32;
    EXPECT_EQ(load_error(gguf(wide, tensors, { 8, 8, "", {}, {}, {} })),
        "gguf: phi3.rope.scaling.original_context_length 32 is not a context up to the model's 16");
}

// A fused attn_qkv.bias is split as the fused matrix is: the query's values, then the
// key's, then the value's; separate biases besides it are refused.
TEST(Phi3, FusedBiasesAreSplitLikeTheMatrix)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(phi3_long);
    std::vector<float> bias(32 + 2 * 32);
    for (size_t i = 0; i < bias.size(); ++i)
        bias[i] = float(i) + 0.5f;
    tensors["blk.1.attn_qkv.bias"] = { { bias.size() }, bias };
    auto bytes = gguf(phi3_long, tensors);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    auto const& layer = checkpoint.value().weights.layers[1];
    ASSERT_TRUE(layer.q_bias.data && layer.k_bias.data && layer.v_bias.data);
    EXPECT_EQ(layer.q_bias.cols, 32);
    EXPECT_EQ(layer.k_bias.floats()[0], 32.5f);
    EXPECT_EQ(layer.v_bias.floats()[31], 95.5f);
    EXPECT_EQ(checkpoint.value().weights.layers[0].q_bias.data, nullptr);

    tensors["blk.1.attn_k.bias"] = { { 32 }, std::vector<float>(32, 1.0f) };
    EXPECT_EQ(load_error(gguf(phi3_long, tensors)), "gguf: layer 1 has both fused and separate query, key and value biases");
}

// A tensor the layer has no place for (here a bias on the attention's output, which
// Qwen3 has not) is counted and named, not silently left out.
TEST(Qwen3, UnusedTensorsAreCounted)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors(qwen3);
    tensors["blk.1.attn_output.bias"] = { { 32 }, std::vector<float>(32, 0.5f) };
    tensors["blk.0.ffn_gate_inp.weight"] = { { 32, 4 }, std::vector<float>(128, 0.5f) };
    auto bytes = gguf(qwen3, tensors);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    EXPECT_EQ(checkpoint.value().unused_tensors, 2u);
    auto first = checkpoint.value().first_unused_tensor;
    std::string name(first.data(), first.length());
    EXPECT_TRUE(name == "blk.1.attn_output.bias" || name == "blk.0.ffn_gate_inp.weight") << name;
}

}
