#pragma once
// Small random-weight models in memory, for tests that need every tensor type: a llama2.c
// fp32 checkpoint, and GGUF llamas whose matrices are all of one type. The same seed gives
// the same bytes.
#include "../../app/llm/tensor.h"
#include "../../app/tools/gguf_writer.h"
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace testing_support::random_models {

inline u64 next_random(u64& state)
{
    state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
}
inline float random_float(u64& state, float scale) { return (float(next_random(state) >> 40) / float(1 << 24) - 0.5f) * 2.0f * scale; }

// A model shape every type takes: rows of 256 (k-quant super-blocks), grouped-query
// attention, a classifier row count off the row granule.
inline constexpr i32 dim = 256, hidden = 256, layers = 2, heads = 8, kv_heads = 4, vocab = 72, context = 128;

// A llama2.c fp32 checkpoint (header and tensors in its order) with random weights.
inline std::vector<u8> llama2c_checkpoint(u64 seed)
{
    i32 header[7] = { dim, hidden, layers, heads, kv_heads, vocab, context };
    i32 kv = dim / heads * kv_heads;
    u64 floats = u64(vocab) * dim + u64(layers) * (2 * dim + 2 * u64(dim) * dim + 2 * u64(kv) * dim + 3 * u64(hidden) * dim) + dim
        + u64(context) * u64(dim / heads);
    std::vector<u8> bytes(sizeof header + floats * 4);
    std::memcpy(bytes.data(), header, sizeof header);
    float* f = reinterpret_cast<float*>(bytes.data() + sizeof header);
    for (u64 i = 0; i < floats; ++i)
        f[i] = random_float(seed, 0.08f);
    return bytes;
}

// Random blocks of a GGUF type whose scales are small normal halves (no NaN, no Inf).
inline std::vector<u8> random_tensor(llm::TensorType type, u64 rows, u64 cols, u64& state)
{
    u64 bytes = rows * llm::row_bytes(type, i32(cols));
    std::vector<u8> blob(bytes);
    for (auto& byte : blob)
        byte = u8(next_random(state) >> 56);
    u64 block = llm::block_bytes(type);
    for (u64 at = 0; at < bytes; at += block) {
        u8* b = blob.data() + at;
        auto small_half = [&](u8* h) { h[0] = u8(next_random(state) >> 56), h[1] = u8(0x14 + (next_random(state) >> 62)); }; // 2^-10..2^-7
        switch (type) {
        case llm::TensorType::F16: small_half(b); break;
        case llm::TensorType::Q8_0:
        case llm::TensorType::Q5_0:
        case llm::TensorType::Q4_0:
        case llm::TensorType::IQ4_NL: small_half(b); break;
        case llm::TensorType::IQ4_XS: // d a sixteenth as large: the groups' scales go up to 32
            small_half(b);
            b[1] = u8(b[1] - 0x10);
            break;
        case llm::TensorType::Q5_1:
        case llm::TensorType::Q4_1:
        case llm::TensorType::Q4_K:
        case llm::TensorType::Q5_K: small_half(b), small_half(b + 2); break;
        case llm::TensorType::Q2_K: small_half(b + 80), small_half(b + 82); break;
        case llm::TensorType::Q6_K: small_half(b + 208); break;
        case llm::TensorType::Q3_K: small_half(b + 108); break;
        case llm::TensorType::BF16: { // a small float's upper half: 2^-10 to 2^-6, either sign
            u16 value = u16(0x3A80 + (next_random(state) >> 55)) | u16((next_random(state) >> 63) << 15);
            b[0] = u8(value), b[1] = u8(value >> 8);
            break;
        }
        default: break;
        }
    }
    return blob;
}

// A GGUF llama of the same shape: matrices (and the embedding) of `type`, norms F32.
inline std::vector<u8> gguf_model(llm::TensorType type, u64 seed)
{
    tools::GgufWriter out;
    out.kv_string("general.architecture", "llama");
    for (auto [key, value] : std::vector<std::pair<std::string, u32>> { { "llama.embedding_length", dim }, { "llama.feed_forward_length", hidden },
             { "llama.block_count", layers }, { "llama.attention.head_count", heads }, { "llama.attention.head_count_kv", kv_heads },
             { "llama.context_length", context } })
        out.kv_u32(key, value);
    struct Entry {
        std::string name;
        u64 cols, rows;
        bool norm;
    };
    u64 kv = dim / heads * kv_heads;
    std::vector<Entry> entries = { { "token_embd.weight", dim, vocab, false }, { "output_norm.weight", dim, 1, true } };
    for (int l = 0; l < layers; ++l) {
        std::string p = "blk." + std::to_string(l) + ".";
        entries.insert(entries.end(), { { p + "attn_norm.weight", dim, 1, true }, { p + "ffn_norm.weight", dim, 1, true },
                                          { p + "attn_q.weight", dim, dim, false }, { p + "attn_k.weight", dim, kv, false },
                                          { p + "attn_v.weight", dim, kv, false }, { p + "attn_output.weight", dim, dim, false },
                                          { p + "ffn_gate.weight", dim, hidden, false }, { p + "ffn_down.weight", hidden, dim, false },
                                          { p + "ffn_up.weight", dim, hidden, false } });
    }
    std::vector<u8> data;
    for (auto const& e : entries) {
        std::vector<u8> blob;
        if (e.norm) {
            blob.resize(e.cols * 4);
            for (u64 i = 0; i < e.cols; ++i) {
                float v = 1.0f + random_float(seed, 0.2f);
                std::memcpy(blob.data() + i * 4, &v, 4);
            }
        } else {
            blob = random_tensor(type, e.rows, e.cols, seed);
        }
        std::vector<u64> dims = e.norm ? std::vector<u64> { e.cols } : std::vector<u64> { e.cols, e.rows };
        out.tensor_info(e.name, dims, u32(e.norm ? 0 : llm::traits(type).ggml_type), data.size());
        data.insert(data.end(), blob.begin(), blob.end());
        data.resize(size_t(tools::GgufWriter::padded(data.size())), 0);
    }
    auto bytes = out.file_start(out.tensor_count(), out.pair_count());
    bytes.insert(bytes.end(), data.begin(), data.end());
    return bytes;
}

}
