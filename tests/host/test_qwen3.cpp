// Qwen3's layer (architecture qwen3): each query and key head RMS-normalised with shared
// weights before RoPE over the head's halves, and heads wider than dim / heads, so the
// queries and the attention's output are wider than the residual stream. A tiny F32 model
// with random weights runs through the transformer, token by token and in a batch, and its
// logits are compared with the same layer written out plainly here, in double precision.
// Also the loader's refusals for such files.
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

// dim 32, but 4 query heads of 16 (queries 64 wide) over 2 key/value heads.
constexpr u64 dim = 32, hidden = 48, layers = 2, heads = 4, kv_heads = 2, head = 16, vocab = 24, context = 16;
constexpr u64 q_dim = heads * head, kv_dim = kv_heads * head;
constexpr float theta = 1000000.0f, epsilon = 1e-6f;

struct Tensor {
    std::vector<u64> dims; // columns first, as GGUF lists them
    std::vector<float> values;
};
using Tensors = std::map<std::string, Tensor>;

Tensors random_tensors()
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
    matrix("token_embd.weight", dim, vocab);
    matrix("output.weight", dim, vocab);
    scales("output_norm.weight", dim);
    for (u64 l = 0; l < layers; ++l) {
        std::string p = "blk." + std::to_string(l) + ".";
        scales(p + "attn_norm.weight", dim);
        scales(p + "ffn_norm.weight", dim);
        scales(p + "attn_q_norm.weight", head);
        scales(p + "attn_k_norm.weight", head);
        matrix(p + "attn_q.weight", dim, q_dim);
        matrix(p + "attn_k.weight", dim, kv_dim);
        matrix(p + "attn_v.weight", dim, kv_dim);
        matrix(p + "attn_output.weight", q_dim, dim);
        matrix(p + "ffn_gate.weight", dim, hidden);
        matrix(p + "ffn_up.weight", dim, hidden);
        matrix(p + "ffn_down.weight", hidden, dim);
    }
    return t;
}

// The file, with `key_length`/`value_length` as metadata (0: left out) and without the
// tensor named `skip`.
std::vector<u8> qwen3_file(Tensors const& tensors, u32 key_length = head, u32 value_length = head, std::string const& skip = "")
{
    GgufWriter b;
    b.kv_string("general.architecture", "qwen3");
    u64 pairs = 1;
    for (auto [key, value] : std::vector<std::pair<std::string, u32>> { { "embedding_length", dim }, { "feed_forward_length", hidden },
             { "block_count", layers }, { "attention.head_count", heads }, { "attention.head_count_kv", kv_heads },
             { "context_length", context }, { "attention.key_length", key_length }, { "attention.value_length", value_length } })
        if (value)
            b.kv_u32("qwen3." + key, value), ++pairs;
    b.kv_f32("qwen3.rope.freq_base", theta);
    b.kv_f32("qwen3.attention.layer_norm_rms_epsilon", epsilon);
    pairs += 2;
    std::vector<u8> data;
    u64 count = 0;
    for (auto const& [name, t] : tensors) {
        if (name == skip)
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

// The same layer, plainly, in double precision.
class PlainQwen3 {
public:
    explicit PlainQwen3(Tensors const& t) : m_t(t) {}

    std::vector<double> forward(i32 token, i32 position)
    {
        auto const& embedding = m_t.at("token_embd.weight").values;
        std::vector<double> x(embedding.begin() + token * i64(dim), embedding.begin() + (token + 1) * i64(dim));
        for (u64 l = 0; l < layers; ++l) {
            std::string p = "blk." + std::to_string(l) + ".";
            auto xb = rms_norm(x, 0, dim, m_t.at(p + "attn_norm.weight").values);
            auto q = product(p + "attn_q.weight", xb), k = product(p + "attn_k.weight", xb), v = product(p + "attn_v.weight", xb);
            for (u64 h = 0; h < heads; ++h)
                normalize_and_turn(q, h * head, m_t.at(p + "attn_q_norm.weight").values, position);
            for (u64 h = 0; h < kv_heads; ++h)
                normalize_and_turn(k, h * head, m_t.at(p + "attn_k_norm.weight").values, position);
            m_keys[l].push_back(k);
            m_values[l].push_back(v);
            std::vector<double> attended(q_dim, 0.0);
            for (u64 h = 0; h < heads; ++h) {
                u64 kv = h / (heads / kv_heads) * head;
                std::vector<double> scores;
                double largest = -1e300, sum = 0;
                for (auto const& key : m_keys[l]) {
                    double s = 0;
                    for (u64 i = 0; i < head; ++i)
                        s += q[h * head + i] * key[kv + i];
                    scores.push_back(s / std::sqrt(double(head)));
                    largest = std::max(largest, scores.back());
                }
                for (double& s : scores)
                    sum += s = std::exp(s - largest);
                for (size_t t = 0; t < scores.size(); ++t)
                    for (u64 i = 0; i < head; ++i)
                        attended[h * head + i] += scores[t] / sum * m_values[l][t][kv + i];
            }
            add(x, product(p + "attn_output.weight", attended));
            xb = rms_norm(x, 0, dim, m_t.at(p + "ffn_norm.weight").values);
            auto gate = product(p + "ffn_gate.weight", xb), up = product(p + "ffn_up.weight", xb);
            for (u64 i = 0; i < hidden; ++i)
                gate[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
            add(x, product(p + "ffn_down.weight", gate));
        }
        return product("output.weight", rms_norm(x, 0, dim, m_t.at("output_norm.weight").values));
    }

private:
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
    // One head: its RMS norm, then RoPE turning dimensions i and i + head / 2 together.
    static void normalize_and_turn(std::vector<double>& vector, u64 first, std::vector<float> const& weights, i32 position)
    {
        auto normalised = rms_norm(vector, first, head, weights);
        for (u64 i = 0; i < head / 2; ++i) {
            double angle = position * std::pow(double(theta), -2.0 * double(i) / double(head));
            double a = normalised[i], b = normalised[i + head / 2];
            vector[first + i] = a * std::cos(angle) - b * std::sin(angle);
            vector[first + i + head / 2] = a * std::sin(angle) + b * std::cos(angle);
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
    static void add(std::vector<double>& x, std::vector<double> const& y)
    {
        for (size_t i = 0; i < x.size(); ++i)
            x[i] += y[i];
    }

    Tensors const& m_t;
    std::vector<std::vector<double>> m_keys[layers], m_values[layers];
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

TEST(Qwen3, WideHeadsAndHeadNormsComputeTheLayer)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors();
    auto bytes = qwen3_file(tensors);
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    ASSERT_FALSE(file.is_error()) << message(file.error());
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    ASSERT_FALSE(checkpoint.is_error()) << message(checkpoint.error());
    auto const& c = checkpoint.value().config;
    EXPECT_EQ(c.head_size(), i32(head));
    EXPECT_EQ(c.q_dim(), i32(q_dim));
    EXPECT_EQ(c.kv_dim(), i32(kv_dim));
    EXPECT_STREQ(llm::format_name(checkpoint.value()), "GGUF qwen3");

    const i32 tokens[] = { 3, 17, 5, 5, 22, 0, 9, 11, 14, 2 };
    auto one_by_one = llm::Transformer::create(checkpoint.value());
    ASSERT_FALSE(one_by_one.is_error()) << message(one_by_one.error());
    PlainQwen3 plain(tensors);
    std::vector<float> last(vocab);
    for (i32 position = 0; position < i32(std::size(tokens)); ++position) {
        auto expected = plain.forward(tokens[position], position);
        const float* logits = one_by_one.value().forward(tokens[position], position);
        EXPECT_LT(relative_difference(logits, expected), 1e-5) << "position " << position;
        last.assign(logits, logits + vocab);
    }
    // The whole prompt in one batch: the last token's logits, the same bits.
    auto batched = llm::Transformer::create(checkpoint.value(), 16);
    ASSERT_FALSE(batched.is_error()) << message(batched.error());
    ASSERT_GT(batched.value().batch_capacity(), 1);
    const float* batch_logits = batched.value().forward_batch({ tokens, std::size(tokens) }, 0);
    EXPECT_EQ(std::memcmp(batch_logits, last.data(), vocab * sizeof(float)), 0);
}

TEST(Qwen3, RefusedWithClearMessages)
{
    testing_support::ScopedHeap heap(16 << 20);
    auto tensors = random_tensors();
    EXPECT_EQ(load_error(qwen3_file(tensors)), "");
    EXPECT_EQ(load_error(qwen3_file(tensors, head, head, "blk.1.attn_k_norm.weight")), "gguf: tensor blk.1.attn_k_norm.weight is missing");
    EXPECT_EQ(load_error(qwen3_file(tensors, head, 8)), "gguf: qwen3.attention.key_length 16 differs from qwen3.attention.value_length 8: not supported");
    EXPECT_EQ(load_error(qwen3_file(tensors, 15, 15)),
        "gguf: qwen3.attention.key_length 15 is not a head width BareFlow runs (even, at most 16384 for 4 heads)");
    // Without key_length the heads are dim / heads = 8 wide, and the query matrix is too wide.
    EXPECT_EQ(load_error(qwen3_file(tensors, 0, 0)), "gguf: tensor blk.0.attn_q.weight has shape [32, 64], the model needs [32, 32]");
}

}
