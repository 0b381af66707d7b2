#pragma once
// Floats into ggml's block formats, for the GGUF writer's users (bareflow-convert-gguf and
// the host tests): Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K. Plain round-to-nearest
// with each block's scale taken from its extreme value, not llama.cpp's searched scales:
// the files are for tests and conversions, and every format's reader is what matters.
// The layouts are described where they are read (block_quants.h, k_quants.h,
// q5_quants.h, q3_k.h, q2_k.h). Host code only (std::vector, <cmath>).
#include "../llm/block_quants.h"
#include "../llm/gguf.h"
#include "../llm/ops.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace tools {

// IEEE half precision from float, round to nearest even.
inline u16 to_half(float value)
{
    u32 bits;
    std::memcpy(&bits, &value, 4);
    u32 sign = (bits >> 16) & 0x8000;
    i32 exponent = i32((bits >> 23) & 0xFF) - 127 + 15;
    u32 mantissa = bits & 0x7FFFFF;
    if (exponent >= 31)
        return u16(sign | 0x7C00);
    if (exponent <= 0) {
        if (exponent < -10)
            return u16(sign);
        mantissa |= 0x800000;
        u32 shift = u32(14 - exponent);
        u32 half = mantissa >> shift;
        u32 rest = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1)))
            ++half;
        return u16(sign | half);
    }
    u32 half = sign | u32(exponent) << 10 | mantissa >> 13;
    u32 rest = mantissa & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
        ++half;
    return u16(half);
}

// bfloat16 from float: the upper half, rounded to nearest even; a NaN stays a (quiet) NaN.
inline u16 to_bfloat16(float value)
{
    u32 bits = __builtin_bit_cast(u32, value);
    if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu))
        return u16((bits >> 16) | 0x40);
    u32 rest = bits & 0xFFFF, upper = bits >> 16;
    if (rest > 0x8000 || (rest == 0x8000 && (upper & 1)))
        ++upper; // may carry into the exponent: the next binade, or infinity past the largest
    return u16(upper);
}

namespace block_quantize {

inline void put_half(u8* at, float value)
{
    u16 half = to_half(value);
    at[0] = u8(half), at[1] = u8(half >> 8);
}
// The float a stored half stands for: later steps quantise against what the reader sees.
inline float stored(float value) { return llm::ops::half_to_float(to_half(value)); }

inline i32 nearest(float value, i32 low, i32 high) { return std::clamp(i32(std::lround(value)), low, high); }

// The value of largest magnitude, with its sign.
inline float extreme(const float* x, i32 n)
{
    float best = 0.0f;
    for (i32 i = 0; i < n; ++i)
        if (std::fabs(x[i]) > std::fabs(best))
            best = x[i];
    return best;
}

// q = round(x / d) + offset in [0, top], d chosen so that the extreme value maps to -offset
// (symmetric types: Q4_0, Q5_0, and the sub-blocks of Q3_K and Q6_K).
inline void symmetric(const float* x, i32 n, float d, i32 offset, i32 top, u8* q)
{
    float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    for (i32 i = 0; i < n; ++i)
        q[i] = u8(nearest(x[i] * inverse + float(offset), 0, top));
}

// 32 five-bit values into 4 bytes of fifth bits and 16 bytes of nibbles (Q5_0/Q5_1).
inline void pack_five_bits(u8 const (&q)[32], u8* high_bits, u8* nibbles)
{
    u32 high = 0;
    for (i32 k = 0; k < 16; ++k) {
        nibbles[k] = u8((q[k] & 0xF) | (q[k + 16] & 0xF) << 4);
        high |= u32(q[k] >> 4) << k | u32(q[k + 16] >> 4) << (k + 16);
    }
    std::memcpy(high_bits, &high, 4);
}

inline void q8_0(const float* x, u8* block)
{
    i8 q[32];
    float scale;
    llm::ops::quantize(q, &scale, x, 32, 32);
    put_half(block, scale);
    std::memcpy(block + 2, q, 32);
}

inline void q4_0(const float* x, u8* block)
{
    float d = stored(extreme(x, 32) / -8.0f);
    put_half(block, d);
    u8 q[32];
    symmetric(x, 32, d, 8, 15, q);
    for (i32 k = 0; k < 16; ++k)
        block[2 + k] = u8(q[k] | q[k + 16] << 4);
}

// 32 values as IQ4_NL's nibbles for the step d: each the nearest table value times d.
inline void iq4_nibbles(const float* x, float d, u8* nibbles)
{
    u8 q[32];
    for (i32 k = 0; k < 32; ++k) {
        u8 best = 0;
        for (u8 i = 1; i < 16; ++i)
            if (std::fabs(x[k] - d * float(llm::block_quants::iq4_values[i])) < std::fabs(x[k] - d * float(llm::block_quants::iq4_values[best])))
                best = i;
        q[k] = best;
    }
    for (i32 k = 0; k < 16; ++k)
        nibbles[k] = u8(q[k] | q[k + 16] << 4);
}

// IQ4_NL: the block's extreme value becomes the table's -127 (d = extreme / -127), each
// value the nearest table value (no search for a better scale, as llama.cpp's makes).
inline void iq4_nl(const float* x, u8* block)
{
    float d = stored(extreme(x, 32) / -127.0f);
    put_half(block, d);
    iq4_nibbles(x, d, block + 2);
}

// IQ4_XS: each group's step as IQ4_NL's (extreme / -127), the super-block's d the largest
// step over 32 (so that its group's 6-bit scale is -32), each group's scale the nearest
// multiple of d (-32..31), its values as IQ4_NL's for that step.
inline void iq4_xs(const float* x, u8* block)
{
    float steps[8], largest = 0.0f;
    for (i32 k = 0; k < 8; ++k) {
        steps[k] = extreme(x + 32 * k, 32) / -127.0f;
        largest = std::fabs(steps[k]) > std::fabs(largest) ? steps[k] : largest;
    }
    float d = stored(largest / -32.0f);
    put_half(block, d);
    u16 high = 0;
    std::memset(block + 4, 0, 4);
    for (i32 k = 0; k < 8; ++k) {
        i32 l = d != 0.0f ? nearest(steps[k] / d, -32, 31) : 0;
        u32 stored_l = u32(l + 32);
        block[4 + k / 2] = u8(block[4 + k / 2] | (stored_l & 0xF) << (4 * (k % 2)));
        high = u16(high | (stored_l >> 4) << (2 * k));
        iq4_nibbles(x + 32 * k, d * float(l), block + 8 + 16 * k);
    }
    block[2] = u8(high), block[3] = u8(high >> 8);
}

inline void q5_0(const float* x, u8* block)
{
    float d = stored(extreme(x, 32) / -16.0f);
    put_half(block, d);
    u8 q[32];
    symmetric(x, 32, d, 16, 31, q);
    pack_five_bits(q, block + 2, block + 6);
}

// Q5_1 and Q4_1: the block's range [low, high] over q's `top` steps, m = low.
inline void with_min(const float* x, i32 top, u8* block, u8 (&q)[32])
{
    float low = *std::min_element(x, x + 32), high = *std::max_element(x, x + 32);
    float d = stored((high - low) / float(top)), m = stored(low);
    put_half(block, d), put_half(block + 2, m);
    float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    for (i32 i = 0; i < 32; ++i)
        q[i] = u8(nearest((x[i] - m) * inverse, 0, top));
}

inline void q5_1(const float* x, u8* block)
{
    u8 q[32];
    with_min(x, 31, block, q);
    pack_five_bits(q, block + 4, block + 8);
}

inline void q4_1(const float* x, u8* block)
{
    u8 q[32];
    with_min(x, 15, block, q);
    for (i32 k = 0; k < 16; ++k)
        block[4 + k] = u8(q[k] | q[k + 16] << 4);
}

// Q4_K and Q5_K: eight sub-blocks of 32 with 6-bit scales and mins (value = d * scale * q
// - dmin * min), q in [0, top]. Writes d, dmin and the packed scales (bytes 0..15) and
// returns the 256 values' q for the caller to pack.
inline void scaled_sub_blocks(const float* x, i32 top, u8* block, u8 (&q)[256])
{
    float scales[8], mins[8];
    for (i32 j = 0; j < 8; ++j) {
        const float* v = x + 32 * j;
        float low = std::min(0.0f, *std::min_element(v, v + 32)), high = *std::max_element(v, v + 32);
        scales[j] = (high - low) / float(top);
        mins[j] = -low;
    }
    float d = stored(*std::max_element(scales, scales + 8) / 63.0f), dmin = stored(*std::max_element(mins, mins + 8) / 63.0f);
    put_half(block, d), put_half(block + 2, dmin);
    u8* packed = block + 4;
    std::memset(packed, 0, 12);
    for (i32 j = 0; j < 8; ++j) {
        u8 scale = u8(d != 0.0f ? nearest(scales[j] / d, 0, 63) : 0), min = u8(dmin != 0.0f ? nearest(mins[j] / dmin, 0, 63) : 0);
        if (j < 4) {
            packed[j] |= scale, packed[j + 4] |= min;
        } else {
            packed[j + 4] = u8((scale & 0xF) | (min & 0xF) << 4);
            packed[j - 4] |= u8((scale >> 4) << 6), packed[j] |= u8((min >> 4) << 6);
        }
        float step = d * float(scale), offset = dmin * float(min);
        float inverse = step != 0.0f ? 1.0f / step : 0.0f;
        for (i32 l = 0; l < 32; ++l)
            q[32 * j + l] = u8(nearest((x[32 * j + l] + offset) * inverse, 0, top));
    }
}

inline void q4_k(const float* x, u8* block)
{
    u8 q[256];
    scaled_sub_blocks(x, 15, block, q);
    for (i32 chunk = 0; chunk < 4; ++chunk)
        for (i32 l = 0; l < 32; ++l)
            block[16 + 32 * chunk + l] = u8(q[64 * chunk + l] | q[64 * chunk + 32 + l] << 4);
}

inline void q5_k(const float* x, u8* block)
{
    u8 q[256];
    scaled_sub_blocks(x, 31, block, q);
    u8* high = block + 16;
    u8* nibbles = block + 48;
    std::memset(high, 0, 32);
    for (i32 j = 0; j < 8; ++j)
        for (i32 l = 0; l < 32; ++l) {
            u8 value = q[32 * j + l];
            if (j % 2 == 0)
                nibbles[32 * (j / 2) + l] = value & 0xF;
            else
                nibbles[32 * (j / 2) + l] |= u8((value & 0xF) << 4);
            high[l] |= u8((value >> 4) << j);
        }
}

// Q2_K: sixteen sub-blocks of 16 with 4-bit scales and mins (value = d * scale * q -
// dmin * min, q in 0..3; layout in q2_k.h), each sub-block's range [min(0, low), high]
// spread over q's four steps.
inline void q2_k(const float* x, u8* block)
{
    float scales[16], mins[16];
    for (i32 j = 0; j < 16; ++j) {
        const float* v = x + 16 * j;
        float low = std::min(0.0f, *std::min_element(v, v + 16)), high = *std::max_element(v, v + 16);
        scales[j] = (high - low) / 3.0f;
        mins[j] = -low;
    }
    float d = stored(*std::max_element(scales, scales + 16) / 15.0f), dmin = stored(*std::max_element(mins, mins + 16) / 15.0f);
    std::memset(block, 0, 84);
    for (i32 j = 0; j < 16; ++j) {
        u8 scale = u8(d != 0.0f ? nearest(scales[j] / d, 0, 15) : 0), min = u8(dmin != 0.0f ? nearest(mins[j] / dmin, 0, 15) : 0);
        block[j] = u8(scale | min << 4);
        float step = d * float(scale), offset = dmin * float(min);
        float inverse = step != 0.0f ? 1.0f / step : 0.0f;
        for (i32 l = 0; l < 16; ++l) {
            i32 i = 16 * j + l, g = i / 32;
            u8 q = u8(nearest((x[i] + offset) * inverse, 0, 3));
            block[16 + 32 * (g / 4) + i % 32] |= u8(q << (2 * (g % 4)));
        }
    }
    put_half(block + 80, d), put_half(block + 82, dmin);
}

// Sixteen sub-blocks of 16 with signed scales (Q3_K: 6 bits, Q6_K: 8 bits) under one d:
// returns d and each sub-block's scale; q[i] = round(x / (d * scale)) + offset in [0, top].
inline float signed_sub_blocks(const float* x, i32 offset, i32 top, i32 scale_limit, i32 (&scale)[16], u8 (&q)[256])
{
    float wanted[16], largest = 0.0f;
    for (i32 j = 0; j < 16; ++j) {
        wanted[j] = extreme(x + 16 * j, 16) / -float(offset);
        largest = std::max(largest, std::fabs(wanted[j]));
    }
    float d = stored(largest / float(scale_limit));
    for (i32 j = 0; j < 16; ++j) {
        scale[j] = d != 0.0f ? nearest(wanted[j] / d, -scale_limit, scale_limit) : 0;
        symmetric(x + 16 * j, 16, d * float(scale[j]), offset, top, q + 16 * j);
    }
    return d;
}

inline void q3_k(const float* x, u8* block)
{
    i32 scale[16];
    u8 q[256];
    float d = signed_sub_blocks(x, 4, 7, 31, scale, q);
    std::memset(block, 0, 110);
    u8* hmask = block;
    u8* pairs = block + 32;
    u8* packed = block + 96;
    for (i32 g = 0; g < 8; ++g) {
        i32 half = g / 4, k = g % 4;
        for (i32 l = 0; l < 32; ++l) {
            u8 value = q[32 * g + l]; // 0..7: q + 4
            pairs[32 * half + l] |= u8((value & 3) << (2 * k));
            if (value & 4)
                hmask[l] |= u8(1 << (4 * half + k));
        }
    }
    for (i32 j = 0; j < 16; ++j) {
        u32 biased = u32(scale[j] + 32);
        packed[j % 8] |= u8((biased & 0xF) << (4 * (j / 8)));
        packed[8 + j % 4] |= u8((biased >> 4) << (2 * (j / 4)));
    }
    put_half(block + 108, d);
}

inline void q6_k(const float* x, u8* block)
{
    i32 scale[16];
    u8 q[256];
    float d = signed_sub_blocks(x, 32, 63, 127, scale, q);
    std::memset(block, 0, 210);
    for (i32 half = 0; half < 2; ++half) {
        u8* low = block + 64 * half;
        u8* high = block + 128 + 32 * half;
        for (i32 k = 0; k < 4; ++k)
            for (i32 l = 0; l < 32; ++l) {
                u8 value = q[128 * half + 32 * k + l];
                low[(k & 1) * 32 + l] |= u8((value & 0xF) << ((k >> 1) * 4));
                high[l] |= u8((value >> 4) << (2 * k));
            }
    }
    for (i32 j = 0; j < 16; ++j)
        block[192 + j] = u8(i8(scale[j]));
    put_half(block + 208, d);
}

}

// `count` floats (whole rows) as ggml type `type`: the bytes a GGUF file stores. Empty for
// a type this cannot write or a count that is not a whole number of blocks.
inline std::vector<u8> quantize_blocks(u32 type, const float* x, u64 count)
{
    using Block = void (*)(const float*, u8*);
    Block block = nullptr;
    switch (llm::gguf::TensorType(type)) {
    case llm::gguf::TensorType::F32: return { reinterpret_cast<const u8*>(x), reinterpret_cast<const u8*>(x + count) };
    case llm::gguf::TensorType::F16:
    case llm::gguf::TensorType::BF16: {
        bool half = llm::gguf::TensorType(type) == llm::gguf::TensorType::F16;
        std::vector<u8> out(size_t(count) * 2);
        for (u64 i = 0; i < count; ++i) {
            u16 value = half ? to_half(x[i]) : to_bfloat16(x[i]);
            out[2 * i] = u8(value), out[2 * i + 1] = u8(value >> 8);
        }
        return out;
    }
    case llm::gguf::TensorType::Q8_0: block = block_quantize::q8_0; break;
    case llm::gguf::TensorType::Q4_0: block = block_quantize::q4_0; break;
    case llm::gguf::TensorType::IQ4_NL: block = block_quantize::iq4_nl; break;
    case llm::gguf::TensorType::IQ4_XS: block = block_quantize::iq4_xs; break;
    case llm::gguf::TensorType::Q5_0: block = block_quantize::q5_0; break;
    case llm::gguf::TensorType::Q5_1: block = block_quantize::q5_1; break;
    case llm::gguf::TensorType::Q4_1: block = block_quantize::q4_1; break;
    case llm::gguf::TensorType::Q2_K: block = block_quantize::q2_k; break;
    case llm::gguf::TensorType::Q3_K: block = block_quantize::q3_k; break;
    case llm::gguf::TensorType::Q4_K: block = block_quantize::q4_k; break;
    case llm::gguf::TensorType::Q5_K: block = block_quantize::q5_k; break;
    case llm::gguf::TensorType::Q6_K: block = block_quantize::q6_k; break;
    default: return {};
    }
    u64 values, bytes;
    if (!llm::gguf::block_layout(type, values, bytes) || count % values)
        return {};
    std::vector<u8> out(size_t(count / values * bytes));
    for (u64 b = 0; b < count / values; ++b)
        block(x + b * values, out.data() + b * bytes);
    return out;
}

}
