// Converts a llama2.c checkpoint and its tokenizer into a GGUF file (architecture llama),
// the layout llama.cpp uses, with its matrices in one type or in one of llama-quantize's
// mixes (quant_mix.h); norms stay F32. Also the GGUF tests' source of files.
//   bareflow-convert-gguf MODEL.bin TOKENIZER.bin OUT.gguf [--type TYPE]
// TYPE: f32 (default), f16, bf16, q8_0, q4_0, q4_1, iq4_nl, iq4_xs, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, q3_k_m, q4_k_m, q5_k_m.
// With --random, writes random weights at the TinyLlama-1.1B shape (22 layers, dim 2048,
// 32 heads, 4 kv heads, hidden 5632, vocab 32000, context 2048) for speed work, or at a
// mini shape with the same layout for boot tests; the 32000-token tokenizer.bin supplies
// the vocabulary, and the metadata is TinyLlama-1.1B-Chat's (token types, chat template).
// The _m types mix types as llama.cpp's files of those names do (Q4_K_M: Q4_K and Q6_K):
//   bareflow-convert-gguf --random tinyllama|mini TOKENIZER.bin OUT.gguf --type TYPE (any but f32)
// With the word byte-level for TOKENIZER.bin the file is SmolLM's instead: a byte-level BPE
// vocabulary learned here (byte_level_vocabulary.h, 512 tokens, pre-tokenizer smollm), no
// classifier of its own (the embedding is shared), a ChatML chat template; qwen2-mini and
// qwen3-mini take it with the mini shape in those architectures' layouts.
#include "read_file.h"
#include "../llm/checkpoint.h"
#include "../llm/gguf.h"
#include "../llm/ops.h"
#include "block_quantize.h"
#include "byte_level_vocabulary.h"
#include "gguf_writer.h"
#include "quant_mix.h"
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <sys/mman.h>
#include <vector>

namespace {

using tools::read_file;

// llama2.c's tokenizer.bin stores SentencePiece's U+2581 as a plain space; GGUF keeps it.
bool read_vocabulary(std::vector<u8> const& file, u64 count, std::vector<std::string>& pieces, std::vector<float>& scores)
{
    size_t at = 4;
    for (u64 i = 0; i < count; ++i) {
        if (at + 8 > file.size())
            return false;
        float score;
        i32 length;
        memcpy(&score, file.data() + at, 4);
        memcpy(&length, file.data() + at + 4, 4);
        if (length < 0 || at + 8 + size_t(length) > file.size())
            return false;
        std::string escaped;
        for (i32 k = 0; k < length; ++k) {
            char ch = char(file[at + 8 + size_t(k)]);
            escaped += ch == ' ' ? std::string("\xE2\x96\x81") : std::string(1, ch);
        }
        at += 8 + size_t(length);
        pieces.push_back(escaped);
        scores.push_back(score);
    }
    return true;
}

// tokenizer.ggml.*: the pieces, their scores and llama.cpp's token types (<unk> unknown,
// <s> and </s> control, <0xXX> byte tokens, the rest normal), BOS 1, EOS 2, UNK 0.
void put_vocabulary(tools::GgufWriter& out, std::vector<std::string> const& pieces, std::vector<float> const& scores)
{
    using ValueType = tools::GgufWriter::ValueType;
    out.kv_string("tokenizer.ggml.model", "llama");
    out.kv_strings("tokenizer.ggml.tokens", pieces);
    out.kv_numbers("tokenizer.ggml.scores", ValueType::Float32, scores);
    std::vector<i32> types;
    for (u64 i = 0; i < pieces.size(); ++i)
        types.push_back(i == 0 ? 2 : i < 3 ? 3 : (pieces[i].size() == 6 && pieces[i].rfind("<0x", 0) == 0) ? 6 : 1);
    out.kv_numbers("tokenizer.ggml.token_type", ValueType::Int32, types);
    out.kv_u32("tokenizer.ggml.bos_token_id", 1);
    out.kv_u32("tokenizer.ggml.eos_token_id", 2);
    out.kv_u32("tokenizer.ggml.unknown_token_id", 0);
}

struct Tensor {
    std::string name;
    std::vector<u64> dims; // dims[0]: row length
    const float* data;
    std::string kind; // what quant_mix.h calls it ("attn_v", ...); empty for norms
    u64 layer;
};

}

// Random quantised blocks with a small, fixed scale: the bytes a real model would stream.
std::vector<u8> random_blocks(u64 count, u32 type, u64& state)
{
    u64 block_elements = 1, block_bytes = 4;
    llm::gguf::block_layout(type, block_elements, block_bytes);
    std::vector<u8> blob(size_t(count / block_elements * block_bytes));
    for (auto& byte : blob) {
        state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
        byte = u8((state * 0x2545F4914F6CDD1Dull) >> 56);
    }
    for (size_t at = 0; at < blob.size(); at += size_t(block_bytes)) {
        u8* b = blob.data() + at;
        switch (llm::gguf::TensorType(type)) {
        case llm::gguf::TensorType::Q4_0: b[0] = 0x19, b[1] = 0x18; break;                        // d ~ 0.002
        case llm::gguf::TensorType::IQ4_NL: b[0] = 0x19, b[1] = 0x08; break;                      // d ~ 1.2e-4 (values up to 127)
        case llm::gguf::TensorType::IQ4_XS: b[0] = 0x19, b[1] = 0x00; break;                      // d ~ 1.5e-6 (times scales up to 32)
        case llm::gguf::TensorType::Q8_0: b[0] = 0x19, b[1] = 0x10; break;                        // d ~ 0.0005
        case llm::gguf::TensorType::Q4_K: b[0] = 0x8E, b[1] = 0x06, b[2] = 0x8E, b[3] = 0x06; break; // d, dmin ~ 1e-4
        case llm::gguf::TensorType::Q6_K: b[208] = 0x8E, b[209] = 0x06; break;                      // d ~ 1e-4
        case llm::gguf::TensorType::Q5_0: b[0] = 0x19, b[1] = 0x18; break;                        // d ~ 0.002
        case llm::gguf::TensorType::Q5_1: b[0] = 0x19, b[1] = 0x18, b[2] = 0xAE, b[3] = 0xA7; break; // d ~ 0.002, m ~ -0.03
        case llm::gguf::TensorType::Q4_1: b[0] = 0x19, b[1] = 0x1C, b[2] = 0xAE, b[3] = 0xA7; break; // d ~ 0.004, m ~ -0.03
        case llm::gguf::TensorType::Q5_K: b[0] = 0x8E, b[1] = 0x06, b[2] = 0x8E, b[3] = 0x06; break; // d, dmin ~ 1e-4
        case llm::gguf::TensorType::Q3_K: b[108] = 0xBC, b[109] = 0x11; break;                      // d ~ 7e-4
        case llm::gguf::TensorType::Q2_K: b[80] = 0x19, b[81] = 0x18, b[82] = 0x19, b[83] = 0x10; break; // d ~ 0.002, dmin ~ 0.0005
        case llm::gguf::TensorType::F16: b[1] = u8((b[1] & 0x83) | 0x20); break;                   // 2^-7 to 2^-6, either sign
        case llm::gguf::TensorType::BF16: b[1] = u8((b[1] & 0x80) | 0x3C); break;                  // 2^-7 to 2^-5, either sign
        default: break;
        }
    }
    return blob;
}

int write_random(std::string const& shape_name, const char* tokenizer_path, const char* output, std::string const& type_name,
    const char* chat_template_path);

int main(int argc, char** argv)
{
    // --random ... --chat-template FILE: that template in place of the shape's usual one.
    if ((argc == 7 || (argc == 9 && std::string(argv[7]) == "--chat-template")) && std::string(argv[1]) == "--random"
        && std::string(argv[5]) == "--type")
        return write_random(argv[2], argv[3], argv[4], argv[6], argc == 9 ? argv[8] : nullptr);
    // For the tests, after the rest: --qwen2, the same model as a qwen2 GGUF (its query and
    // key rows ordered for RoPE over each head's halves, zero biases); --rope-factors F, a
    // rope_freqs.weight of F everywhere (Llama 3.1's RoPE scaling: 1 changes nothing).
    bool as_qwen2 = false;
    float rope_factor = 0.0f; // 0: no rope_freqs.weight
    while (argc >= 5) {
        std::string last = argv[argc - 1];
        if (last == "--qwen2") {
            as_qwen2 = true;
            argc -= 1;
        } else if (argc >= 6 && std::string(argv[argc - 2]) == "--rope-factors") {
            rope_factor = strtof(argv[argc - 1], nullptr);
            argc -= 2;
        } else {
            break;
        }
    }
    if (argc != 4 && !(argc == 6 && std::string(argv[4]) == "--type")) {
        fprintf(stderr, "usage: bareflow-convert-gguf MODEL.bin TOKENIZER.bin OUT.gguf [--type TYPE] [--qwen2] [--rope-factors F]\n"
                        "       bareflow-convert-gguf --random tinyllama|mini|qwen2-mini|qwen3-mini|qwen3-0.6b|gemma3-mini|gemma3-270m|gemma3-1b|gemma2-mini|gemma2-2b|phi3-mini|phi3.5-mini|phi4-mini|phi4-mini-3.8b|granite-mini|granite-3.3-2b|smollm3-mini|smollm3-3b|ernie4_5-mini|ernie4_5-0.3b|olmo2-mini|olmo2-1b TOKENIZER.bin|byte-level OUT.gguf --type TYPE [--chat-template FILE]\n"
                        "TYPE: f32 f16 bf16 q8_0 q4_0 q4_1 iq4_nl iq4_xs q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k q3_k_m q4_k_m q5_k_m (--random: all but f32)\n");
        return 2;
    }
    auto const* mix = tools::find_quant_mix(argc == 6 ? argv[5] : "f32");
    if (!mix) {
        fprintf(stderr, "--type %s is not one of f32 f16 bf16 q8_0 q4_0 q4_1 iq4_nl iq4_xs q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k q3_k_m q4_k_m q5_k_m\n", argv[5]);
        return 2;
    }
    auto model = read_file(argv[1]);
    auto tokenizer = read_file(argv[2]);
    if (model.empty() || tokenizer.empty()) {
        fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    size_t arena_bytes = size_t(64) << 20;
    void* arena = mmap(nullptr, arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    rt::MemoryRange usable[] = { { uptr(arena), arena_bytes } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    auto loaded = llm::load_checkpoint({ model.data(), model.size() });
    if (loaded.is_error() || loaded.value().format != llm::WeightFormat::Float32) {
        fprintf(stderr, "%s: not an fp32 llama2.c checkpoint\n", argv[1]);
        return 1;
    }
    auto const& c = loaded.value().config;
    auto const& w = loaded.value().weights;

    std::vector<Tensor> tensors;
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), kv = u64(c.kv_dim()), vocab = u64(c.vocab_size);
    // Rows 2i and 2i + 1 of each head, which llama's RoPE turns together, become rows i and
    // i + head_size / 2, which qwen2's does: the same model.
    std::vector<std::vector<float>> reordered; // kept alive for the tensors that point at them
    reordered.reserve(3 * size_t(c.n_layers));
    auto for_halves = [&](const float* rows, u64 count) {
        u64 hs = u64(c.head_size());
        std::vector<float> out(size_t(count * dim));
        for (u64 r = 0; r < count; ++r) {
            u64 head = r / hs, i = r % hs;
            u64 to = head * hs + (i % 2 ? hs / 2 : 0) + i / 2;
            memcpy(out.data() + to * dim, rows + r * dim, size_t(dim) * 4);
        }
        reordered.push_back(std::move(out));
        return reordered.back().data();
    };
    std::vector<float> zeros(size_t(dim), 0.0f);
    // A tied embedding is also the classifier: llama-quantize gives it the classifier's type.
    tensors.push_back({ "token_embd.weight", { dim, vocab }, w.embedding.floats(), c.shared_classifier ? "output" : "token_embd", 0 });
    for (u64 l = 0; l < u64(c.n_layers); ++l) {
        std::string p = "blk." + std::to_string(l) + ".";
        auto const& layer = w.layers[size_t(l)];
        tensors.push_back({ p + "attn_norm.weight", { dim }, layer.attention_norm.floats(), "", l });
        tensors.push_back({ p + "attn_q.weight", { dim, dim }, as_qwen2 ? for_halves(layer.wq.floats(), dim) : layer.wq.floats(), "attn_q", l });
        tensors.push_back({ p + "attn_k.weight", { dim, kv }, as_qwen2 ? for_halves(layer.wk.floats(), kv) : layer.wk.floats(), "attn_k", l });
        if (as_qwen2) {
            tensors.push_back({ p + "attn_q.bias", { dim }, zeros.data(), "", l });
            tensors.push_back({ p + "attn_k.bias", { kv }, zeros.data(), "", l });
            tensors.push_back({ p + "attn_v.bias", { kv }, zeros.data(), "", l });
        }
        tensors.push_back({ p + "attn_v.weight", { dim, kv }, layer.wv.floats(), "attn_v", l });
        tensors.push_back({ p + "attn_output.weight", { dim, dim }, layer.wo.floats(), "attn_output", l });
        tensors.push_back({ p + "ffn_norm.weight", { dim }, layer.ffn_norm.floats(), "", l });
        tensors.push_back({ p + "ffn_gate.weight", { dim, hidden }, layer.w1.floats(), "ffn_gate", l });
        tensors.push_back({ p + "ffn_down.weight", { hidden, dim }, layer.w2.floats(), "ffn_down", l });
        tensors.push_back({ p + "ffn_up.weight", { dim, hidden }, layer.w3.floats(), "ffn_up", l });
    }
    tensors.push_back({ "output_norm.weight", { dim }, w.final_norm.floats(), "", 0 });
    if (!c.shared_classifier)
        tensors.push_back({ "output.weight", { dim, vocab }, w.classifier.floats(), "output", 0 });
    std::vector<float> rope_factors(size_t(c.head_size() / 2), rope_factor);
    if (rope_factor != 0.0f)
        tensors.push_back({ "rope_freqs.weight", { u64(c.head_size() / 2) }, rope_factors.data(), "", 0 });

    std::vector<std::string> pieces;
    std::vector<float> scores;
    if (!read_vocabulary(tokenizer, vocab, pieces, scores)) {
        fprintf(stderr, "%s does not hold the model's %llu tokens\n", argv[2], (unsigned long long)vocab);
        return 1;
    }
    tools::GgufWriter out;
    std::string arch = as_qwen2 ? "qwen2" : "llama";
    out.kv_string("general.architecture", arch);
    out.kv_string("general.name", "converted by bareflow-convert-gguf");
    out.kv_u32("general.alignment", 32);
    if (mix->base != tools::f32)
        out.kv_u32("general.file_type", mix->file_type);
    out.kv_u32(arch + ".context_length", u32(c.seq_len));
    out.kv_u32(arch + ".embedding_length", u32(c.dim));
    out.kv_u32(arch + ".block_count", u32(c.n_layers));
    out.kv_u32(arch + ".feed_forward_length", u32(c.hidden_dim));
    out.kv_u32(arch + ".attention.head_count", u32(c.n_heads));
    out.kv_u32(arch + ".attention.head_count_kv", u32(c.n_kv_heads));
    out.kv_u32(arch + ".rope.dimension_count", u32(c.head_size()));
    out.kv_f32(arch + ".rope.freq_base", 10000.0f);
    out.kv_f32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
    put_vocabulary(out, pieces, scores);

    // Tensor infos, then the data, each tensor aligned to 32 bytes. Norms stay F32.
    std::vector<std::vector<u8>> blobs;
    u64 offset = 0;
    std::map<std::string, int> type_counts;
    for (auto const& t : tensors) {
        u64 count = 1;
        for (u64 d : t.dims)
            count *= d;
        u32 type = t.kind.empty() ? u32(tools::f32) : tools::tensor_type(*mix, t.kind, t.layer, u64(c.n_layers), t.dims[0]);
        auto blob = tools::quantize_blocks(type, t.data, count);
        out.tensor_info(t.name, t.dims, type, offset);
        offset += tools::GgufWriter::padded(blob.size());
        blobs.push_back(std::move(blob));
        ++type_counts[llm::gguf::tensor_type_name(type)];
    }
    FILE* f = fopen(argv[3], "wb");
    if (!f || !out.write(f, blobs) || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", argv[3]);
        return 1;
    }
    std::string counts;
    for (auto const& [name, number] : type_counts)
        counts += (counts.empty() ? "" : ", ") + std::to_string(number) + " " + name;
    printf("wrote %s: GGUF v3, %zu tensors (%s)\n", argv[3], tensors.size(), counts.c_str());
    return 0;
}

namespace {

// TinyLlama-1.1B-Chat-v1.0's tokenizer.chat_template, as its GGUF files carry it.
const char* const tinyllama_chat_template =
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

// ChatML, as SmolLM's and Qwen's files carry it (theirs also put in a default system message).
const char* const chatml_chat_template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
                                         "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// The shapes --random writes. `head` 0: dim / heads; `vocab` 0: the tokenizer's (32000, or
// the byte-level vocabulary's 400), else that vocabulary padded with unused tokens to the
// real model's size (its embedding and classifier cost what the real ones cost).
struct Shape {
    const char* name;
    const char* architecture;
    u64 dim, hidden, layers, heads, kv_heads, head, context, vocab;
    u32 window; // Gemma's sliding window (0: none)
    float attention_cap { 0.0f }, final_cap { 0.0f }; // Gemma 2's soft caps
    u32 original_context { 0 }; // Phi-3's LongRoPE: the context its short factors serve (0: none)
    u64 rotary { 0 };           // RoPE on this many of each head's dimensions (0: all)
    bool tied { false };        // the classifier is the embedding (Phi-4-mini's, among Phi-3-layout files)
    const char* word_cutting { nullptr }; // tokenizer.ggml.pre (null: smollm for llama, qwen2 for the others)
};
constexpr Shape shapes[] = {
    { "tinyllama", "llama", 2048, 5632, 22, 32, 4, 0, 2048, 0, 0 }, // TinyLlama-1.1B
    { "mini", "llama", 256, 768, 2, 8, 2, 0, 128, 0, 0 },           // the same file layout, small enough for a boot test
    // Qwen2's file (biases on the query, key and value projections, RoPE over halves,
    // Qwen2's word cutting) at the mini shape.
    { "qwen2-mini", "qwen2", 256, 768, 2, 8, 2, 0, 128, 0, 0 },
    // Qwen3's (no biases; each query and key head RMS-normalised, by weights that are not
    // all one; heads twice as wide as dim / heads, as Qwen3-0.6B's are, so the queries are
    // wider than the residual stream).
    { "qwen3-mini", "qwen3", 256, 768, 2, 8, 2, 64, 128, 0, 0 },
    { "qwen3-0.6b", "qwen3", 1024, 3072, 28, 16, 8, 128, 40960, 151936, 0 },
    // Gemma 3's (head norms; norms after the attention and the feed-forward; GELU gate; a
    // scaled embedding; five local layers of a 16-position window, then a global one; two
    // heads of 96 over a stream of 256: queries narrower than the stream, as Gemma 3 1B's
    // 4 x 256 over 1152). Seven layers: local ones on both sides of a global one.
    { "gemma3-mini", "gemma3", 256, 768, 7, 2, 1, 96, 128, 0, 16 },
    { "gemma3-270m", "gemma3", 640, 2048, 18, 4, 1, 256, 32768, 262144, 512 },
    { "gemma3-1b", "gemma3", 1152, 6912, 26, 4, 1, 256, 32768, 262144, 512 },
    // Gemma 2's (Gemma 3's without the head norms; local and global layers in turn, one
    // RoPE base; soft caps on the attention scores and the logits). The mini shape's caps
    // are low enough to change its random weights' scores and logits.
    { "gemma2-mini", "gemma2", 256, 768, 4, 4, 2, 64, 128, 0, 16, 2.0f, 3.0f },
    { "gemma2-2b", "gemma2", 2304, 9216, 26, 8, 4, 256, 8192, 256000, 4096, 50.0f, 30.0f },
    // Phi-3's (llama's layer with RoPE over halves; the query, key and value matrices fused
    // in one, and the gate and up; LongRoPE's two sets of factors, the long ones past the
    // original context of 64 here). Phi-3.5-mini's shape (3.8B, vocabulary 32064).
    { "phi3-mini", "phi3", 256, 768, 2, 4, 4, 64, 128, 0, 0, 0.0f, 0.0f, 64 },
    { "phi3.5-mini", "phi3", 3072, 8192, 32, 32, 32, 96, 131072, 32064, 0, 0.0f, 0.0f, 4096 },
    // Phi-4-mini's (Phi-3's layout with RoPE on three quarters of each head, grouped-query
    // attention, the classifier tied to the embedding, GPT-4o's word cutting). Phi-4-mini's
    // shape (3.8B, vocabulary 200064).
    { "phi4-mini", "phi3", 256, 768, 2, 4, 2, 64, 128, 0, 0, 0.0f, 0.0f, 64, 48, true, "gpt-4o" },
    { "phi4-mini-3.8b", "phi3", 3072, 8192, 32, 24, 8, 128, 131072, 200064, 0, 0.0f, 0.0f, 4096, 96, true, "gpt-4o" },
    // Granite 3's (llama's layer and RoPE; multipliers on the embedding, the scores, the
    // sublayers' outputs and the logits). Granite 3.3 2B's shape (vocabulary 49159).
    { "granite-mini", "granite", 256, 768, 2, 4, 2, 0, 128, 0, 0 },
    { "granite-3.3-2b", "granite", 2048, 8192, 40, 32, 8, 0, 131072, 49159, 0 },
    // SmolLM3's (llama's layer; every 4th layer without RoPE). SmolLM3-3B's shape.
    { "smollm3-mini", "smollm3", 256, 768, 4, 4, 2, 0, 128, 0, 0 },
    { "smollm3-3b", "smollm3", 2048, 11008, 36, 16, 4, 0, 65536, 128256, 0 },
    // ERNIE 4.5's dense layout (llama's layer and RoPE; heads wider than dim / heads, as
    // ERNIE-4.5-0.3B's 16 x 128 over 1024). ERNIE-4.5-0.3B's shape.
    { "ernie4_5-mini", "ernie4_5", 256, 768, 2, 4, 2, 128, 128, 0, 0 },
    { "ernie4_5-0.3b", "ernie4_5", 1024, 3072, 18, 16, 2, 128, 131072, 103424, 0 },
    // OLMo 2's (no norms before the sublayers, norms after them; the queries and the keys
    // RMS-normalised as whole vectors, by weights that are not all one). OLMo 2 1B's shape.
    { "olmo2-mini", "olmo2", 256, 768, 2, 4, 4, 0, 128, 0, 0 },
    { "olmo2-1b", "olmo2", 2048, 8192, 16, 16, 16, 0, 4096, 100352, 0 },
};

}

int write_random(std::string const& shape_name, const char* tokenizer_path, const char* output, std::string const& type_name,
    const char* chat_template_path)
{
    std::string chat_template;
    if (chat_template_path) {
        auto bytes = read_file(chat_template_path);
        if (bytes.empty()) {
            fprintf(stderr, "cannot read %s\n", chat_template_path);
            return 1;
        }
        chat_template.assign(bytes.begin(), bytes.end());
    }
    auto const* mix = tools::find_quant_mix(type_name);
    if (!mix || mix->base == tools::f32) {
        fprintf(stderr, "--type must be one of f16 bf16 q8_0 q4_0 q4_1 iq4_nl iq4_xs q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k q3_k_m q4_k_m q5_k_m\n");
        return 2;
    }
    Shape const* shape = nullptr;
    for (auto const& candidate : shapes)
        if (shape_name == candidate.name)
            shape = &candidate;
    std::string arch = shape ? shape->architecture : "";
    bool qwen2 = arch == "qwen2", qwen3 = arch == "qwen3", gemma3 = arch == "gemma3", gemma2 = arch == "gemma2", phi3 = arch == "phi3", granite = arch == "granite", olmo2 = arch == "olmo2",
         other = arch != "llama";
    bool byte_level = std::string(tokenizer_path) == "byte-level";
    if (!shape || (other && !byte_level)) {
        fprintf(stderr, "--random takes tinyllama, mini, qwen2-mini, qwen3-mini, qwen3-0.6b, gemma3-mini, gemma3-270m, gemma3-1b, gemma2-mini, gemma2-2b, phi3-mini, phi3.5-mini, phi4-mini, phi4-mini-3.8b, granite-mini, granite-3.3-2b, smollm3-mini, smollm3-3b, ernie4_5-mini, ernie4_5-0.3b, olmo2-mini or olmo2-1b"
                        " (all but the first two with byte-level)\n");
        return 2;
    }
    std::vector<u8> tokenizer;
    auto bpe = tools::learn_byte_level_vocabulary(byte_level ? 512 - 259 : 0);
    if (!byte_level) {
        tokenizer = read_file(tokenizer_path);
        if (tokenizer.empty()) {
            fprintf(stderr, "cannot read %s\n", tokenizer_path);
            return 1;
        }
    }
    // Padding to the real vocabulary's size: control tokens no text encodes to. Phi-3's
    // has SentencePiece's three too (llama.cpp looks them up by name in Phi-3 files), and
    // its chat markers, user-defined as in its files; Granite's its role markers.
    const size_t learned = bpe.tokens.size();
    const std::vector<std::string> phi3_markers = { "<|assistant|>", "<|end|>", "<|user|>", "<|system|>" };
    if (phi3) {
        bpe.tokens.insert(bpe.tokens.end(), { "<unk>", "<s>", "</s>" });
        bpe.tokens.insert(bpe.tokens.end(), phi3_markers.begin(), phi3_markers.end());
    }
    if (granite) // its role markers, control tokens as in its files
        bpe.tokens.insert(bpe.tokens.end(), { "<|start_of_role|>", "<|end_of_role|>", "<|end_of_text|>" });
    for (u64 extra = 0; byte_level && bpe.tokens.size() < shape->vocab; ++extra)
        bpe.tokens.push_back("<|unused_" + std::to_string(extra) + "|>");
    const u64 dim = shape->dim, hidden = shape->hidden, layers = shape->layers, vocab = byte_level ? bpe.tokens.size() : 32000;
    u64 head = shape->head ? shape->head : dim / shape->heads;
    u64 kv = head * shape->kv_heads, q = head * shape->heads;
    enum class Vector { Ones, Bias, Scale, Factors }; // an F32 vector's values: 1, or random in [-0.5, 0.5), [0.5, 1.5) or [1, 4)
    struct Entry {
        std::string name;
        u64 columns, rows;
        u32 type; // 0: an F32 vector
        Vector vector { Vector::Ones };
    };
    auto type_of = [&](const char* kind, u64 layer, u64 columns) { return tools::tensor_type(*mix, kind, layer, layers, columns); };
    std::vector<Entry> tensors { { "token_embd.weight", dim, vocab, type_of("token_embd", 0, dim) } };
    for (u64 l = 0; l < layers; ++l) {
        std::string p = "blk." + std::to_string(l) + ".";
        if (!olmo2)
            tensors.push_back({ p + "attn_norm.weight", dim, 0, 0 });
        if (phi3) {
            tensors.push_back({ p + "attn_qkv.weight", dim, q + 2 * kv, type_of("attn_qkv", l, dim) });
        } else {
            tensors.push_back({ p + "attn_q.weight", dim, q, type_of("attn_q", l, dim) });
            tensors.push_back({ p + "attn_k.weight", dim, kv, type_of("attn_k", l, dim) });
            tensors.push_back({ p + "attn_v.weight", dim, kv, type_of("attn_v", l, dim) });
        }
        if (qwen2) {
            tensors.push_back({ p + "attn_q.bias", q, 0, 0, Vector::Bias });
            tensors.push_back({ p + "attn_k.bias", kv, 0, 0, Vector::Bias });
            tensors.push_back({ p + "attn_v.bias", kv, 0, 0, Vector::Bias });
        }
        if (qwen3 || gemma3) {
            tensors.push_back({ p + "attn_q_norm.weight", head, 0, 0, Vector::Scale });
            tensors.push_back({ p + "attn_k_norm.weight", head, 0, 0, Vector::Scale });
        }
        if (olmo2) {
            tensors.push_back({ p + "attn_q_norm.weight", q, 0, 0, Vector::Scale });
            tensors.push_back({ p + "attn_k_norm.weight", kv, 0, 0, Vector::Scale });
        }
        if (gemma3 || gemma2 || olmo2) {
            tensors.push_back({ p + "post_attention_norm.weight", dim, 0, 0, Vector::Scale });
            tensors.push_back({ p + "post_ffw_norm.weight", dim, 0, 0, Vector::Scale });
        }
        tensors.push_back({ p + "attn_output.weight", q, dim, type_of("attn_output", l, q) });
        if (!olmo2)
            tensors.push_back({ p + "ffn_norm.weight", dim, 0, 0 });
        if (!phi3)
            tensors.push_back({ p + "ffn_gate.weight", dim, hidden, type_of("ffn_gate", l, dim) });
        tensors.push_back({ p + "ffn_down.weight", hidden, dim, type_of("ffn_down", l, hidden) });
        tensors.push_back({ p + "ffn_up.weight", dim, phi3 ? 2 * hidden : hidden, type_of("ffn_up", l, dim) });
    }
    tensors.push_back({ "output_norm.weight", dim, 0, 0 });
    const u64 rotary = shape->rotary ? shape->rotary : head;
    if (shape->original_context) {
        tensors.push_back({ "rope_factors_short.weight", rotary / 2, 0, 0, Vector::Scale });
        tensors.push_back({ "rope_factors_long.weight", rotary / 2, 0, 0, Vector::Factors });
    }
    if ((!byte_level || phi3 || olmo2) && !shape->tied) // TinyLlama's, Phi-3's and OLMo 2's classifier is its own; SmolLM's is its embedding
        tensors.push_back({ "output.weight", dim, vocab, type_of("output", 0, dim) });
    std::vector<std::string> pieces;
    std::vector<float> scores;
    if (!byte_level && !read_vocabulary(tokenizer, vocab, pieces, scores)) {
        fprintf(stderr, "%s does not hold 32000 tokens\n", tokenizer_path);
        return 1;
    }
    tools::GgufWriter out;
    out.kv_string("general.architecture", arch);
    out.kv_string("general.name", std::string("random weights at the ") + shape_name + " shape (bareflow-convert-gguf)");
    out.kv_u32("general.alignment", 32);
    out.kv_u32("general.file_type", mix->file_type); // llama.cpp's ftype numbers
    out.kv_u32(arch + ".context_length", u32(shape->context));
    out.kv_u32(arch + ".embedding_length", u32(dim));
    out.kv_u32(arch + ".block_count", u32(layers));
    out.kv_u32(arch + ".feed_forward_length", u32(hidden));
    out.kv_u32(arch + ".attention.head_count", u32(shape->heads));
    out.kv_u32(arch + ".attention.head_count_kv", u32(shape->kv_heads));
    out.kv_u32(arch + ".rope.dimension_count", u32(rotary));
    if (shape->head) { // heads of another width than dim / heads
        out.kv_u32(arch + ".attention.key_length", u32(head));
        out.kv_u32(arch + ".attention.value_length", u32(head));
    }
    if (shape->window)
        out.kv_u32(arch + ".attention.sliding_window", shape->window); // Gemma 3's local RoPE base left at the default 10000
    if (shape->original_context) { // and the attention factor Phi-3's converter derives from the two contexts
        out.kv_u32(arch + ".rope.scaling.original_context_length", shape->original_context);
        double scale = double(shape->context) / double(shape->original_context);
        out.kv_f32(arch + ".rope.scaling.attn_factor", float(std::sqrt(1.0 + std::log(scale) / std::log(double(shape->original_context)))));
    }
    if (granite) { // Granite 3.3 2B's multipliers (its scores' is 1/64, its heads' width)
        out.kv_f32(arch + ".embedding_scale", 12.0f);
        out.kv_f32(arch + ".residual_scale", 0.22f);
        out.kv_f32(arch + ".attention.scale", 1.0f / float(head));
        out.kv_f32(arch + ".logit_scale", 8.0f);
    }
    if (gemma2) {
        out.kv_f32(arch + ".attn_logit_softcapping", shape->attention_cap);
        out.kv_f32(arch + ".final_logit_softcapping", shape->final_cap);
    }
    out.kv_f32(arch + ".rope.freq_base", other && !gemma2 && !phi3 ? 1000000.0f : 10000.0f);
    out.kv_f32(arch + ".attention.layer_norm_rms_epsilon", other ? 1e-6f : 1e-5f);
    if (byte_level) {
        out.kv_string("tokenizer.ggml.model", "gpt2");
        out.kv_string("tokenizer.ggml.pre", shape->word_cutting ? shape->word_cutting : other ? "qwen2" : "smollm");
        out.kv_strings("tokenizer.ggml.tokens", bpe.tokens);
        std::vector<i32> types(bpe.tokens.size(), 1);
        types[0] = types[1] = types[2] = 3; // control
        for (size_t id = learned; id < types.size(); ++id) // the padding
            types[id] = 3;
        for (size_t id = learned + 3; phi3 && id < learned + 3 + phi3_markers.size(); ++id)
            types[id] = 4; // user-defined
        out.kv_numbers("tokenizer.ggml.token_type", tools::GgufWriter::ValueType::Int32, types);
        out.kv_strings("tokenizer.ggml.merges", bpe.merges);
        out.kv_u32("tokenizer.ggml.bos_token_id", 1);
        out.kv_u32("tokenizer.ggml.eos_token_id", 2);
        out.kv_bool("tokenizer.ggml.add_bos_token", false);
        out.kv_string("tokenizer.chat_template", chat_template_path ? chat_template.c_str() : chatml_chat_template);
    } else {
        put_vocabulary(out, pieces, scores);
        out.kv_u32("tokenizer.ggml.padding_token_id", 2);
        out.kv_string("tokenizer.chat_template", chat_template_path ? chat_template.c_str() : tinyllama_chat_template);
    }

    u64 state = 0x9E3779B97F4A7C15ull;
    std::vector<std::vector<u8>> blobs;
    u64 offset = 0;
    for (auto const& t : tensors) {
        std::vector<u8> blob;
        bool norm = t.type == 0;
        if (norm) {
            std::vector<float> values(size_t(t.columns), 1.0f);
            for (float& value : values) {
                if (t.vector == Vector::Ones)
                    break;
                state ^= state << 13, state ^= state >> 7, state ^= state << 17;
                float unit = float(state >> 40) / float(1 << 24);
                value = t.vector == Vector::Factors ? 1.0f + 3.0f * unit : unit + (t.vector == Vector::Bias ? -0.5f : 0.5f);
            }
            blob.assign(reinterpret_cast<u8*>(values.data()), reinterpret_cast<u8*>(values.data() + values.size()));
        } else {
            blob = random_blocks(t.columns * t.rows, t.type, state);
        }
        out.tensor_info(t.name, norm ? std::vector<u64> { t.columns } : std::vector<u64> { t.columns, t.rows }, t.type, offset);
        offset += tools::GgufWriter::padded(blob.size());
        blobs.push_back(std::move(blob));
    }
    FILE* f = fopen(output, "wb");
    if (!f) {
        perror(output);
        return 1;
    }
    bool ok = out.write(f, blobs);
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "cannot write %s\n", output);
        return 1;
    }
    printf("wrote %s: random weights at the %s shape, %s\n", output, shape_name.c_str(), type_name.c_str());
    return 0;
}
