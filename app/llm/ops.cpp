#include "ops.h"
#include <rt/math.h>

namespace llm::ops {

using namespace rt::math;

void rmsnorm(float* out, const float* x, const float* weight, i32 size)
{
    float sum_of_squares = 0.0f;
    for (i32 j = 0; j < size; ++j)
        sum_of_squares += x[j] * x[j];
    sum_of_squares /= float(size);
    sum_of_squares += 1e-5f;
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

}
