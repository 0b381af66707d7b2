#include "ops.h"
#include "block_quants.h"
#include "fp32_order.h"
#include "interleaved_blocks.h"
#include "k_quants.h"
#include <rt/math.h>
#include <rt/utility.h>

namespace llm::ops {

using namespace rt::math;

void rmsnorm(float* out, const float* x, const float* weight, i32 size, float epsilon)
{
    float sum_of_squares = fp32::sum_of_squares(x, size);
    sum_of_squares /= float(size);
    sum_of_squares += epsilon;
    float scale = 1.0f / sqrtf(sum_of_squares);
    for (i32 j = 0; j < size; ++j)
        out[j] = weight[j] * (scale * x[j]);
}

float softmax(float* x, i32 size)
{
    float max_value = x[0];
    bool finite = true;
    for (i32 i = 0; i < size; ++i) {
        finite &= (__builtin_bit_cast(u32, x[i]) & 0x7F800000u) != 0x7F800000u; // exponent all ones: NaN or infinity
        if (x[i] > max_value)
            max_value = x[i];
    }
    float lanes[fp32::sum_lanes] {};
    i32 lane_end = size - size % fp32::sum_lanes;
    for (i32 i = 0; i < lane_end; i += fp32::sum_lanes)
        for (i32 l = 0; l < fp32::sum_lanes; ++l) {
            x[i + l] = fp32::exp(x[i + l] - max_value);
            lanes[l] += x[i + l];
        }
    float sum = fp32::fold(lanes);
    for (i32 i = lane_end; i < size; ++i) {
        x[i] = fp32::exp(x[i] - max_value);
        sum += x[i];
    }
    for (i32 i = 0; i < size; ++i)
        x[i] /= sum;
    return finite ? sum : __builtin_nanf("");
}

// Blocks of 16 with none are skipped after one vectorisable test (most of them, for the
// peaked distributions trained models give); within a block there are no branches (a flat
// distribution would make them unpredictable): every token is written, the count advances
// only past those kept. A token is written at `kept`, never past its own index.
size_t select_candidates(const float* values, i32 count, float floor, Candidate* candidates)
{
    size_t kept = 0;
    i32 i = 0;
    for (; i + 16 <= count; i += 16) {
        u32 any = 0;
        for (i32 l = 0; l < 16; ++l)
            any |= u32(values[i + l] >= floor);
        if (!any)
            continue;
        for (i32 l = 0; l < 16; ++l) {
            candidates[kept] = { values[i + l], i + l };
            kept += values[i + l] >= floor;
        }
    }
    for (; i < count; ++i) {
        candidates[kept] = { values[i], i };
        kept += values[i] >= floor;
    }
    return kept;
}

// Each token added to the shifter (1.5 * 2^23 * u) lands in the shifter's binade, whose ulp
// is u: the addition rounds the token to a multiple of u, and the bits above the shifter's
// count them. What the rounding took off is then exact; it is half an ulp only for a token
// exactly halfway.
RoundedUnits rounded_units(const float* tokens, u32 count, float shifter, u64 limit)
{
    u32 base = __builtin_bit_cast(u32, shifter);
    float half_ulp = (shifter / 12582912.0f) * 0.5f; // exact: powers of two
    RoundedUnits result { 0, count };
    for (u32 begin = 0; begin < count && result.units < limit; begin += rounded_units_block) {
        u32 end = begin + rounded_units_block < count ? begin + rounded_units_block : count;
        for (u32 i = begin; i < end; ++i) {
            float rounded = tokens[i] + shifter;
            float rest = tokens[i] - (rounded - shifter);
            if (rest == half_ulp || rest == -half_ulp) {
                result.halfway_at = i;
                return result;
            }
            result.units += __builtin_bit_cast(u32, rounded) - base;
        }
    }
    return result;
}

void bin_tail(const float* values, i32 count, float cutoff, float threshold, float scale, TailBinning& out)
{
    out.above_count = out.exact_count = 0;
    for (i32 i = 0; i < count; ++i)
        bin_tail_token(out, i, values[i], cutoff, threshold, values[i] * scale);
}

void matmul(float* out, const float* x, const float* w, i32 n, i32 d)
{
    for (i32 i = 0; i < d; ++i)
        out[i] = fp32::dot_in_lanes<fp32::row_lanes>(w + size_t(i) * size_t(n), x, n);
}

void rope(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, i32 position)
{
    for (i32 i = 0; i < dim; i += 2) {
        i32 head_dim = i % head_size;
        float frequency = 1.0f / powf(10000.0f, float(head_dim) / float(head_size));
        float angle = float(position) * frequency;
        float c = cosf(angle);
        float s = sinf(angle);
        // Keys are narrower than queries under grouped-query attention.
        i32 vectors = i < kv_dim ? 2 : 1;
        for (i32 v = 0; v < vectors; ++v) {
            float* vec = v == 0 ? q : k;
            float v0 = vec[i];
            float v1 = vec[i + 1];
            vec[i] = v0 * c - v1 * s;
            vec[i + 1] = v0 * s + v1 * c;
        }
    }
}

void rope_frequencies(float* frequencies, i32 rotary, float theta)
{
    for (i32 head_dim = 0; head_dim < rotary; head_dim += 2)
        frequencies[head_dim / 2] = 1.0f / powf(theta, float(head_dim) / float(rotary));
}

void rope_angles(float* cosines, float* sines, const float* frequencies, i32 rotary, i32 position)
{
    for (i32 pair = 0; pair < rotary / 2; ++pair) {
        float angle = float(position) * frequencies[pair];
        cosines[pair] = cosf(angle);
        sines[pair] = sinf(angle);
    }
}

void rope_apply(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, i32 rotary, const float* cosines, const float* sines)
{
    for (i32 i = 0; i < dim; i += 2) {
        if (i % head_size >= rotary)
            continue;
        float c = cosines[(i % head_size) / 2];
        float s = sines[(i % head_size) / 2];
        i32 vectors = i < kv_dim ? 2 : 1;
        for (i32 v = 0; v < vectors; ++v) {
            float* vec = v == 0 ? q : k;
            float v0 = vec[i];
            float v1 = vec[i + 1];
            vec[i] = v0 * c - v1 * s;
            vec[i + 1] = v0 * s + v1 * c;
        }
    }
}

void rope_apply_halves(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, i32 rotary, const float* cosines, const float* sines)
{
    i32 half = rotary / 2;
    for (i32 head = 0; head < dim; head += head_size) {
        i32 vectors = head < kv_dim ? 2 : 1;
        for (i32 pair = 0; pair < half; ++pair) {
            float c = cosines[pair];
            float s = sines[pair];
            for (i32 v = 0; v < vectors; ++v) {
                float* vec = (v == 0 ? q : k) + head;
                float v0 = vec[pair];
                float v1 = vec[pair + half];
                vec[pair] = v0 * c - v1 * s;
                vec[pair + half] = v0 * s + v1 * c;
            }
        }
    }
}

void add_bias(float* out, const float* bias, i32 size)
{
    for (i32 i = 0; i < size; ++i)
        out[i] += bias[i];
}

void swiglu(float* hb, const float* hb2, i32 size)
{
    for (i32 i = 0; i < size; ++i) {
        float value = hb[i];
        value *= 1.0f / (1.0f + fp32::exp(value * -1.0f)); // silu(x) = x * sigmoid(x)
        hb[i] = value * hb2[i];
    }
}

void geglu(float* hb, const float* hb2, i32 size)
{
    // 0.5 x (1 + tanh(u)) is x / (1 + e^(-2u)), u = sqrt(2 / pi) (x + 0.044715 x^3), with
    // SwiGLU's e^x. That clamps its argument, so where e^(-2u) is beyond the float range
    // the quotient is taken as what it would be: -0 (a large x gives x: e^(-2u) is 0).
    constexpr float sqrt_2_over_pi = 0.797884560802865f;
    for (i32 i = 0; i < size; ++i) {
        float x = hb[i];
        float power = -2.0f * sqrt_2_over_pi * (x + 0.044715f * x * x * x);
        float gelu = power > fp32::exp_constants::highest ? x * 0.0f : x / (1.0f + fp32::exp(power));
        hb[i] = gelu * hb2[i];
    }
}

void soft_cap(float* values, i32 count, float cap)
{
    // tanh(y) = (1 - e^(-2|y|)) / (1 + e^(-2|y|)) with y's sign, in float with SwiGLU's
    // e^x: its clamp leaves e^(-2|y|) tiny but positive for large |y|, where the quotient
    // rounds to one. Near zero the difference loses relative precision but not absolute
    // (what the softmax and the sampler see): a few units of 2^-24 times the cap.
    // NaN and infinity stay as they are, for the checks that report a broken model.
    constexpr float largest_float = 3.40282347e38f;
    for (i32 i = 0; i < count; ++i) {
        if (!(fabsf(values[i]) <= largest_float))
            continue;
        float y = values[i] / cap;
        float decay = fp32::exp(-2.0f * fabsf(y));
        float tanh = (1.0f - decay) / (1.0f + decay);
        values[i] = cap * (y < 0.0f ? -tanh : tanh);
    }
}

void accumulate(float* x, const float* y, i32 size)
{
    for (i32 i = 0; i < size; ++i)
        x[i] += y[i];
}

void attention_scores(float* scores, const float* q, const float* keys, size_t stride, i32 count, i32 n, float scale)
{
    for (i32 t = 0; t < count; ++t)
        scores[t] = fp32::dot_in_lanes<fp32::sum_lanes>(q, keys + size_t(t) * stride, n) / scale;
}

void weighted_sum(float* out, const float* weights, const float* values, size_t stride, i32 count, i32 n)
{
    for (i32 i = 0; i < n; ++i)
        out[i] = 0.0f;
    for (i32 t = 0; t < count; ++t)
        for (i32 i = 0; i < n; ++i)
            out[i] += weights[t] * values[size_t(t) * stride + size_t(i)];
}

float round_half_away(float x)
{
    // Exact for |x| < 2^23; larger floats are already whole.
    if (!(fabsf(x) < 8388608.0f))
        return x;
    i32 whole = i32(x);
    float fraction = x - float(whole);
    if (fraction >= 0.5f)
        ++whole;
    else if (fraction <= -0.5f)
        --whole;
    return float(whole);
}

namespace {
// Converting a float outside i8's range, or NaN, to i8 is undefined. In-range values
// convert as before (bit for bit with llama2.c); a tiny subnormal scale can put x / scale
// past 127, which saturates; NaN (from NaN or infinite weights) becomes 0.
i8 saturate_to_i8(float x)
{
    if (x >= -127.0f && x <= 127.0f)
        return i8(x);
    return x > 127.0f ? i8(127) : x < -127.0f ? i8(-127) : i8(0);
}

// A group of finite values whose scale is a normal float: each |x / scale| is at most 127
// up to two roundings (of the scale and of the quotient), far below 127.5, so rounding
// half away from zero needs neither range checks nor saturation, and the loop, free of
// branches, is vectorised (the prompt's batches quantise every token's input). The same
// integers as round_half_away and saturate_to_i8.
void quantize_normal_group(i8* q, const float* values, float scale, i32 group)
{
    for (i32 i = 0; i < group; ++i) {
        float v = values[i] / scale;
        i32 whole = i32(v);
        float fraction = v - float(whole); // exact: |v| < 2^23
        whole += i32(fraction >= 0.5f) - i32(fraction <= -0.5f);
        q[i] = i8(whole);
    }
}
}

void quantize(i8* q, float* scales, const float* x, i32 n, i32 group)
{
    for (i32 g = 0; g < n / group; ++g) {
        const float* values = x + g * group;
        float largest = 0.0f;
        bool finite = true;
        for (i32 i = 0; i < group; ++i) {
            largest = rt::max(largest, fabsf(values[i]));
            finite &= fabsf(values[i]) <= 3.40282347e38f; // false for NaN and infinities
        }
        float scale = largest / 127.0f;
        scales[g] = scale;
        if (finite && scale >= 1.17549435e-38f) {
            quantize_normal_group(q + g * group, values, scale, group);
            continue;
        }
        // Zero, subnormal, infinite or NaN: value by value, saturating.
        for (i32 i = 0; i < group; ++i)
            q[g * group + i] = scale == 0.0f ? i8(0) : saturate_to_i8(round_half_away(values[i] / scale));
    }
}

void matmul_q8(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group)
{
    for (i32 i = 0; i < d; ++i) {
        size_t row = size_t(i) * size_t(n);
        float value = 0.0f;
        for (i32 j = 0; j <= n - group; j += group) {
            i32 integer = 0;
            for (i32 k = 0; k < group; ++k)
                integer += i32(xq[j + k]) * i32(wq[row + size_t(j + k)]);
            value += float(integer) * ws[(row + size_t(j)) / size_t(group)] * xs[j / group];
        }
        out[i] = value;
    }
}


namespace {
// Rows of 16-bit weights, each converted to its float by `to_float`, in the float rows' order.
template<float (*to_float)(u16)>
void matmul_sixteen_bit(float* out, const float* x, const u8* halves, i32 n, i32 d)
{
    auto weight = [](const u8* row, i32 j) { return to_float(u16(row[2 * j] | row[2 * j + 1] << 8)); };
    i32 lane_end = n - n % fp32::row_lanes;
    for (i32 i = 0; i < d; ++i) {
        const u8* row = halves + size_t(i) * size_t(n) * 2;
        float lanes[fp32::row_lanes] {};
        for (i32 j = 0; j < lane_end; j += fp32::row_lanes)
            for (i32 l = 0; l < fp32::row_lanes; ++l)
                lanes[l] += weight(row, j + l) * x[j + l];
        float value = fp32::fold(lanes);
        for (i32 j = lane_end; j < n; ++j)
            value += weight(row, j) * x[j];
        out[i] = value;
    }
}
}

void matmul_f16(float* out, const float* x, const u8* halves, i32 n, i32 d) { matmul_sixteen_bit<half_to_float>(out, x, halves, n, d); }
void matmul_bf16(float* out, const float* x, const u8* halves, i32 n, i32 d) { matmul_sixteen_bit<bfloat16_to_float>(out, x, halves, n, d); }

void dequantize_q4_k(const u8* block, float* out) { k_quants::dequantize_q4_k(block, out); }
void dequantize_q6_k(const u8* block, float* out) { k_quants::dequantize_q6_k(block, out); }

void group_sums(i32* sums, const i8* xq, i32 n, i32 group)
{
    for (i32 g = 0; g < n / group; ++g) {
        i32 sum = 0;
        for (i32 k = 0; k < group; ++k)
            sum += xq[g * group + k];
        sums[g] = sum;
    }
}

i32 dot_i8(const i8* a, const i8* b, i32 n)
{
    i32 sum = 0;
    for (i32 k = 0; k < n; ++k)
        sum += i32(a[k]) * i32(b[k]);
    return sum;
}

void matmul_q8_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    block_quants::rows(TensorType::Q8_0, out, xs, blocks, n, d,
        [&](const u8* block, i32 b) { return dot_i8(reinterpret_cast<const i8*>(block + 2), xq + b * 32, 32); });
}

void matmul_q4_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    i8 values[32];
    block_quants::rows(TensorType::Q4_0, out, xs, blocks, n, d, [&](const u8* block, i32 b) {
        block_quants::unpack_q4(block + 2, values);
        return dot_i8(values, xq + b * 32, 32);
    });
}

void matmul_iq4_nl(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    i8 values[32];
    block_quants::rows(TensorType::IQ4_NL, out, xs, blocks, n, d, [&](const u8* block, i32 b) {
        block_quants::unpack_iq4(block + 2, values);
        return dot_i8(values, xq + b * 32, 32);
    });
}

void matmul_iq4_xs(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    i8 values[32];
    block_quants::iq4_xs::rows(out, xs, blocks, n, d, [&](const u8* nibbles, i32 g) {
        block_quants::unpack_iq4(nibbles, values);
        return dot_i8(values, xq + g * 32, 32);
    });
}

void matmul_q4_0x8(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    i8 values[32];
    q4_0x8::rows(out, xs, blocks, n, d, [&](const u8* block, i32 b) {
        block_quants::unpack_q4(block + 2, values);
        return dot_i8(values, xq + b * 32, 32);
    });
}

void matmul_q8_0x8(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    q8_0x8::rows(out, xs, blocks, n, d,
        [&](const u8* block, i32 b) { return dot_i8(reinterpret_cast<const i8*>(block + 2), xq + b * 32, 32); });
}

void matmul_q8x8(float* out, const i8* xq, const float* xs, const i32*, const u8* wq, const float* ws, i32 n, i32 d)
{
    q8x8::rows(out, xq, xs, wq, ws, n, d, dot_i8);
}

void matmul_q4_kx8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    q4_kx8::rows(out, xq, xs, xsums, blocks, n, d, dot_i8);
}

void matmul_q5_kx8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    q5_kx8::rows(out, xq, xs, xsums, blocks, n, d, dot_i8);
}

void matmul_q6_kx8(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    q6_kx8::rows(out, xq, xs, blocks, n, d, dot_i8);
}

void matmul_q4_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    i32 per_row = n / 256;
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * k_quants::q4_k_block_bytes;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += k_quants::q4_k_block_bytes)
            value = k_quants::q4_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, xsums + 8 * b, dot_i8);
        out[i] = value;
    }
}

void matmul_q6_k(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    i32 per_row = n / 256;
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * k_quants::q6_k_block_bytes;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += k_quants::q6_k_block_bytes)
            value = k_quants::q6_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, dot_i8);
        out[i] = value;
    }
}

}
