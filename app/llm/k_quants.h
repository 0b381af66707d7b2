#pragma once
// Dequantisation of ggml's k-quant super-blocks (256 values). The functions have internal
// linkage on purpose: each kernel file includes this inside its own target pragma, so every
// instruction set gets its own (auto-vectorised) copy and none can replace another's.
#include "ops.h"

namespace llm::k_quants {
namespace {

inline u16 read_half(const u8* p) { return u16(p[0] | p[1] << 8); }

// Sub-block j's 6-bit scale and min from Q4_K's 12 packed bytes.
inline void scale_and_min(i32 j, const u8* packed, u8& scale, u8& min)
{
    if (j < 4) {
        scale = packed[j] & 63;
        min = packed[j + 4] & 63;
    } else {
        scale = u8((packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4));
        min = u8((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
    }
}

inline void dequantize_q4_k(const u8* block, float* out)
{
    float d = ops::half_to_float(read_half(block));
    float dmin = ops::half_to_float(read_half(block + 2));
    const u8* packed = block + 4;
    const u8* q = block + 16;
    for (i32 chunk = 0; chunk < 4; ++chunk, q += 32) {
        u8 scale, min;
        scale_and_min(2 * chunk, packed, scale, min);
        float d1 = d * float(scale), m1 = dmin * float(min);
        scale_and_min(2 * chunk + 1, packed, scale, min);
        float d2 = d * float(scale), m2 = dmin * float(min);
        for (i32 l = 0; l < 32; ++l)
            *out++ = d1 * float(q[l] & 0xF) - m1;
        for (i32 l = 0; l < 32; ++l)
            *out++ = d2 * float(q[l] >> 4) - m2;
    }
}

inline void dequantize_q6_k(const u8* block, float* out)
{
    const u8* low = block;
    const u8* high = block + 128;
    auto const* scales = reinterpret_cast<const i8*>(block + 192);
    float d = ops::half_to_float(read_half(block + 208));
    for (i32 half = 0; half < 2; ++half, low += 64, high += 32, scales += 8, out += 128) {
        for (i32 l = 0; l < 32; ++l) {
            i32 s = l / 16;
            i32 q1 = i32((low[l] & 0xF) | (((high[l] >> 0) & 3) << 4)) - 32;
            i32 q2 = i32((low[l + 32] & 0xF) | (((high[l] >> 2) & 3) << 4)) - 32;
            i32 q3 = i32((low[l] >> 4) | (((high[l] >> 4) & 3) << 4)) - 32;
            i32 q4 = i32((low[l + 32] >> 4) | (((high[l] >> 6) & 3) << 4)) - 32;
            out[l] = d * float(scales[s]) * float(q1);
            out[l + 32] = d * float(scales[s + 2]) * float(q2);
            out[l + 64] = d * float(scales[s + 4]) * float(q3);
            out[l + 96] = d * float(scales[s + 6]) * float(q4);
        }
    }
}

}
}
