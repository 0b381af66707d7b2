#include "ops.h"
#include "k_quants.h"
#include <rt/math.h>
#include <rt/utility.h>

namespace llm::ops {

using namespace rt::math;

void rmsnorm(float* out, const float* x, const float* weight, i32 size, float epsilon)
{
    float sum_of_squares = 0.0f;
    for (i32 j = 0; j < size; ++j)
        sum_of_squares += x[j] * x[j];
    sum_of_squares /= float(size);
    sum_of_squares += epsilon;
    float scale = 1.0f / sqrtf(sum_of_squares);
    for (i32 j = 0; j < size; ++j)
        out[j] = weight[j] * (scale * x[j]);
}

void softmax(float* x, i32 size)
{
    float max_value = x[0];
    for (i32 i = 1; i < size; ++i)
        if (x[i] > max_value)
            max_value = x[i];
    float sum = 0.0f;
    for (i32 i = 0; i < size; ++i) {
        x[i] = expf(x[i] - max_value);
        sum += x[i];
    }
    for (i32 i = 0; i < size; ++i)
        x[i] /= sum;
}

void matmul(float* out, const float* x, const float* w, i32 n, i32 d)
{
    for (i32 i = 0; i < d; ++i) {
        const float* row = w + size_t(i) * size_t(n);
        float value = 0.0f;
        for (i32 j = 0; j < n; ++j)
            value += row[j] * x[j];
        out[i] = value;
    }
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

void rope_angles(float* cosines, float* sines, i32 head_size, i32 position, float theta)
{
    for (i32 head_dim = 0; head_dim < head_size; head_dim += 2) {
        float frequency = 1.0f / powf(theta, float(head_dim) / float(head_size));
        float angle = float(position) * frequency;
        cosines[head_dim / 2] = cosf(angle);
        sines[head_dim / 2] = sinf(angle);
    }
}

void rope_apply(float* q, float* k, i32 dim, i32 kv_dim, i32 head_size, const float* cosines, const float* sines)
{
    for (i32 i = 0; i < dim; i += 2) {
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

void swiglu(float* hb, const float* hb2, i32 size)
{
    for (i32 i = 0; i < size; ++i) {
        float value = hb[i];
        value *= 1.0f / (1.0f + expf(-value)); // silu(x) = x * sigmoid(x)
        hb[i] = value * hb2[i];
    }
}

void accumulate(float* x, const float* y, i32 size)
{
    for (i32 i = 0; i < size; ++i)
        x[i] += y[i];
}

float dot(const float* a, const float* b, i32 n)
{
    float sum = 0.0f;
    for (i32 i = 0; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

void axpy(float* y, float a, const float* x, i32 n)
{
    for (i32 i = 0; i < n; ++i)
        y[i] += a * x[i];
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

void quantize(i8* q, float* scales, const float* x, i32 n, i32 group)
{
    for (i32 g = 0; g < n / group; ++g) {
        const float* values = x + g * group;
        float largest = 0.0f;
        for (i32 i = 0; i < group; ++i)
            largest = rt::max(largest, fabsf(values[i]));
        float scale = largest / 127.0f;
        scales[g] = scale;
        for (i32 i = 0; i < group; ++i)
            q[g * group + i] = scale == 0.0f ? i8(0) : i8(round_half_away(values[i] / scale));
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

float half_to_float(u16 h)
{
    u32 sign = u32(h & 0x8000) << 16;
    u32 exponent = (h >> 10) & 0x1F;
    u32 mantissa = h & 0x3FF;
    u32 bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else { // subnormal: normalise
            exponent = 127 - 15 + 1;
            while (!(mantissa & 0x400)) {
                mantissa <<= 1;
                --exponent;
            }
            bits = sign | exponent << 23 | (mantissa & 0x3FF) << 13;
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | mantissa << 13;
    } else {
        bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
    }
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

void matmul_q8_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    i32 per_row = n / 32;
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * 34;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += 34) {
            i32 integer = 0;
            for (i32 k = 0; k < 32; ++k)
                integer += i32(i8(block[2 + k])) * i32(xq[b * 32 + k]);
            value += float(integer) * half_to_float(u16(block[0] | block[1] << 8)) * xs[b];
        }
        out[i] = value;
    }
}

void matmul_q4_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    i32 per_row = n / 32;
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * 18;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += 18) {
            i32 integer = 0;
            for (i32 k = 0; k < 16; ++k) {
                integer += (i32(block[2 + k] & 0xF) - 8) * i32(xq[b * 32 + k]);
                integer += (i32(block[2 + k] >> 4) - 8) * i32(xq[b * 32 + k + 16]);
            }
            value += float(integer) * half_to_float(u16(block[0] | block[1] << 8)) * xs[b];
        }
        out[i] = value;
    }
}

void matmul_f16(float* out, const float* x, const u8* halves, i32 n, i32 d)
{
    for (i32 i = 0; i < d; ++i) {
        const u8* row = halves + size_t(i) * size_t(n) * 2;
        float value = 0.0f;
        for (i32 j = 0; j < n; ++j)
            value += half_to_float(u16(row[2 * j] | row[2 * j + 1] << 8)) * x[j];
        out[i] = value;
    }
}

void dequantize_q4_k(const u8* block, float* out) { k_quants::dequantize_q4_k(block, out); }
void dequantize_q6_k(const u8* block, float* out) { k_quants::dequantize_q6_k(block, out); }

namespace {
void matmul_k_quant(float* out, const float* x, const u8* blocks, i32 n, i32 d, bool q6)
{
    size_t block_bytes = q6 ? 210 : 144;
    i32 per_row = n / 256;
    float values[256];
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * block_bytes;
        float sum = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += block_bytes) {
            if (q6)
                dequantize_q6_k(block, values);
            else
                dequantize_q4_k(block, values);
            for (i32 k = 0; k < 256; ++k)
                sum += values[k] * x[b * 256 + k];
        }
        out[i] = sum;
    }
}

}

void matmul_q4_k(float* out, const float* x, const u8* blocks, i32 n, i32 d) { matmul_k_quant(out, x, blocks, n, d, false); }
void matmul_q6_k(float* out, const float* x, const u8* blocks, i32 n, i32 d) { matmul_k_quant(out, x, blocks, n, d, true); }

}
