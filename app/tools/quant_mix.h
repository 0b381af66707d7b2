#pragma once
// Which ggml type each tensor of a llama model gets under a --type name, as llama.cpp's
// llama-quantize chooses them for its named files (Q4_K_M, Q5_K_M, Q3_K_M ...): the files
// people download mix types, and BareFlow must read the mixes, not only pure files.
// Host code only.
#include <rt/types.h>
#include <string>

namespace tools {

// ggml type numbers.
enum GgmlType : u32 { f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, iq4_nl = 20, iq4_xs = 23, bf16 = 30 };

struct QuantMix {
    const char* name; // as --type takes it
    u32 base;         // most matrices
    u32 file_type;    // llama.cpp's general.file_type number for such a file
    bool k_mix;       // the _M recipes below
};

constexpr QuantMix quant_mixes[] = {
    { "f32", f32, 0, false },
    { "f16", f16, 1, false },
    { "bf16", bf16, 32, false },
    { "q8_0", q8_0, 7, false },
    { "q4_0", q4_0, 2, false },
    { "q4_1", q4_1, 3, false },
    { "iq4_nl", iq4_nl, 25, false },
    { "iq4_xs", iq4_xs, 30, false },
    { "q5_0", q5_0, 8, false },
    { "q5_1", q5_1, 9, false },
    { "q2_k", q2_k, 10, false }, // all Q2_K (llama-quantize's Q2_K gives some matrices Q3_K to Q6_K)
    { "q3_k", q3_k, 11, false }, // all Q3_K, as Q3_K_S mostly is
    { "q4_k", q4_k, 14, false },
    { "q5_k", q5_k, 16, false },
    { "q6_k", q6_k, 18, false },
    { "q3_k_m", q3_k, 12, true },
    { "q4_k_m", q4_k, 15, true },
    { "q5_k_m", q5_k, 17, true },
};

inline QuantMix const* find_quant_mix(std::string const& name)
{
    for (auto const& mix : quant_mixes)
        if (name == mix.name)
            return &mix;
    return nullptr;
}

// llama.cpp gives attn_v and ffn_down more bits in the first and last eighth of the
// layers and in every third layer between.
inline bool uses_more_bits(u64 layer, u64 layers)
{
    return layer < layers / 8 || layer >= 7 * layers / 8 || (layer >= layers / 8 && (layer - layers / 8) % 3 == 2);
}

// The type of tensor `kind` ("token_embd", "output", "attn_q", ..., "ffn_down") in `layer`
// of `layers`, whose rows are `columns` long. k-quants need rows of whole 256-value
// super-blocks; narrower rows fall back as llama-quantize's do (Q2_K and Q3_K to Q4_0, Q4_K to
// Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, IQ4_XS to IQ4_NL). Rows that are not even whole 32-value blocks stay F32
// (llama-quantize makes them F16). A classifier tied to the embedding is "output".
inline u32 tensor_type(QuantMix const& mix, std::string const& kind, u64 layer, u64 layers, u64 columns)
{
    u32 type = mix.base;
    if (mix.k_mix) {
        bool more = uses_more_bits(layer, layers);
        if (kind == "output")
            type = q6_k;
        else if (mix.base == q3_k && kind == "attn_v")
            type = layer < 2 ? q5_k : q4_k;
        else if (mix.base == q3_k && kind == "attn_output")
            type = q4_k;
        else if (mix.base == q3_k && kind == "ffn_down")
            type = layer < layers / 16 ? q5_k : q4_k;
        else if ((kind == "attn_v" || kind == "ffn_down") && more)
            type = q6_k;
        else if (kind == "attn_qkv") // a fused query, key and value matrix (Phi-3's): one step up
            type = mix.base == q3_k ? q4_k : mix.base == q4_k ? q5_k : q6_k;
    }
    if (columns % 256 != 0) {
        switch (type) {
        case q2_k:
        case q3_k: type = q4_0; break;
        case q4_k: type = q5_0; break;
        case q5_k: type = q5_1; break;
        case q6_k: type = q8_0; break;
        case iq4_xs: type = iq4_nl; break;
        default: break;
        }
    }
    if (type == f16 || type == bf16)
        return type; // rows of any length
    return columns % 32 == 0 ? type : f32; // rows that are not even whole 32-value blocks stay floats
}

}
