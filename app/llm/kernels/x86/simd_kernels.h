#pragma once
// The SIMD kernels, written once against a thin vector interface V and instantiated per
// instruction set (sse2.cpp, avx2.cpp, avx512.cpp include this inside a target pragma).
// V provides: width, Vector, zero(), set1(), load(), store(), add(), mul(), multiply_add(),
// max(), sum() (horizontal), exp() (polynomial, ~1e-7 relative error), dot_i8().
// Everything here is a template so each instruction set gets its own copy.
#include "../../block_quants.h"
#include "../../k_quants.h"
#include "../../ops.h"
#include "../operations.h"
#include <rt/math.h>
#include <rt/utility.h>

namespace llm::kernels::simd {

// `rows` rows of W against x at once: each load of x serves every row, and the rows'
// independent streams keep enough memory requests in flight to approach full bandwidth.
// The first `peel` columns are done one by one so the vector loads of W are aligned:
// llama2.c files put the weights 28 bytes past an aligned boundary, and a load that
// straddles two cache lines costs two.
template<typename V, i32 rows>
void matmul_rows(float* out, const float* x, const float* w, i32 n, i32 peel)
{
    constexpr i32 width = V::width;
    i32 vector_end = peel + (n - peel) / width * width;
    typename V::Vector acc[rows];
    for (auto& a : acc)
        a = V::zero();
    for (i32 j = peel; j < vector_end; j += width) {
        auto xv = V::load(x + j);
        for (i32 r = 0; r < rows; ++r)
            acc[r] = V::multiply_add(V::load(w + size_t(r) * size_t(n) + size_t(j)), xv, acc[r]);
    }
    for (i32 r = 0; r < rows; ++r) {
        const float* row = w + size_t(r) * size_t(n);
        float s = 0.0f;
        for (i32 j = 0; j < peel; ++j)
            s += row[j] * x[j];
        s += V::sum(acc[r]);
        for (i32 j = vector_end; j < n; ++j)
            s += row[j] * x[j];
        out[r] = s;
    }
}

template<typename V>
void matmul(float* out, const float* x, const float* w, i32 n, i32 d)
{
    constexpr uptr vector_bytes = uptr(V::width) * sizeof(float);
    // Rows share W's alignment only when a row is a whole number of vectors long.
    i32 peel = 0;
    if (uptr(n) * sizeof(float) % vector_bytes == 0 && uptr(w) % sizeof(float) == 0)
        peel = i32(((vector_bytes - uptr(w) % vector_bytes) % vector_bytes) / sizeof(float));
    if (peel > n)
        peel = n;
    i32 i = 0;
    for (; i + 8 <= d; i += 8)
        matmul_rows<V, 8>(out + i, x, w + size_t(i) * size_t(n), n, peel);
    for (; i < d; ++i)
        matmul_rows<V, 1>(out + i, x, w + size_t(i) * size_t(n), n, peel);
}

// How many rows the integer row kernels (block_rows.h, k_quant_rows.h) take per pass.
// Measured on a Zen EPYC (TinyLlama's 5632 x 2048 FFN matrix, weights streamed from
// memory): one row at a time streams fastest; two or four rows sharing each input load
// were 1.5-2.5x slower (more streams, more live registers), so sharing is left to the
// caches.
constexpr i32 quantised_rows_per_pass = 1;

template<i32 N>
struct RowCount {
    static constexpr i32 value = N;
};

// `d` rows, `Rows` at a time, then one at a time: pass(RowCount<rows>, first_row).
template<i32 Rows, typename Pass>
void in_passes(i32 d, Pass const& pass)
{
    i32 i = 0;
    for (; i + Rows <= d; i += Rows)
        pass(RowCount<Rows> {}, i);
    for (; i < d; ++i)
        pass(RowCount<1> {}, i);
}

// llama2.c int8 rows (int8_rows.h): one row a pass streams fastest here too (two rows
// interleaved, though adjacent in memory, streamed at under half the rate).
constexpr i32 int8_rows_per_pass = 1;

// Same arithmetic as ops::matmul_q8: exact integer group sums, then the float
// accumulation in the same order, so the result is bit-identical to the reference.
// Where V can sum a group for eight rows at once (group_sums8) and rows hold whole groups,
// eight rows advance together: their eight float accumulators live in one vector, each
// lane still adding its own row's groups in order.
template<typename V>
void matmul_q8(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group)
{
    if constexpr (V::has_int8_rows) {
        // Groups of 32 (what quant=q8 picks for most models): int8_rows.h, a row at a time.
        if (group == 32 && n % 32 == 0) {
            in_passes<int8_rows_per_pass>(d, [&](auto count, i32 i) {
                size_t first = size_t(i) * size_t(n);
                V::template int8_rows<decltype(count)::value>(out + i, xq, xs, wq + first, ws + first / 32, n);
            });
            return;
        }
    }
    i32 i = 0;
    if constexpr (V::has_group_sums8) {
        if (n % group == 0 && group % V::group_step == 0) {
            i32 groups = n / group;
            for (; i + 8 <= d; i += 8) {
                const i8* rows = wq + size_t(i) * size_t(n);
                const float* row_scales = ws + size_t(i) * size_t(groups);
                auto values = V::zero8();
                for (i32 g = 0; g < groups; ++g) {
                    auto sums = V::group_sums8(xq + g * group, rows + g * group, n, group);
                    values = V::accumulate8(values, sums, row_scales + g, groups, xs[g]);
                }
                V::store8(out + i, values);
            }
        }
    }
    for (; i < d; ++i) {
        size_t row = size_t(i) * size_t(n);
        float value = 0.0f;
        for (i32 j = 0; j <= n - group; j += group) {
            i32 integer = V::dot_i8(xq + j, wq + row + size_t(j), group);
            value += float(integer) * ws[(row + size_t(j)) / size_t(group)] * xs[j / group];
        }
        out[i] = value;
    }
}

// GGUF Q8_0 and Q4_0 rows: block_quants.h's accumulation, with this instruction set's
// row kernels where it has them (block_rows.h) or its unpacking and integer dot, so
// results are bit-identical to the reference.
template<typename V>
void matmul_q8_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_block_rows) {
        size_t row_bytes = size_t(n / 32) * block_bytes(TensorType::Q8_0);
        in_passes<quantised_rows_per_pass>(d, [&](auto count, i32 i) {
            V::template rows<typename V::Q8_0, decltype(count)::value>(out + i, xq, xs, nullptr, blocks + size_t(i) * row_bytes, n / 32);
        });
        return;
    }
    block_quants::rows(TensorType::Q8_0, out, xs, blocks, n, d,
        [&](const u8* block, i32 b) { return V::dot_i8(reinterpret_cast<const i8*>(block + 2), xq + b * 32, 32); });
}

template<typename V>
void matmul_q4_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_block_rows) {
        // The input's block sums, once per call (up to 16384 columns: 2 KiB of stack;
        // wider rows take the generic path below).
        constexpr i32 most_blocks = 512;
        if (n / 32 <= most_blocks) {
            i32 x_sums[most_blocks];
            V::block_sums(x_sums, xq, n / 32);
            size_t row_bytes = size_t(n / 32) * block_bytes(TensorType::Q4_0);
            in_passes<quantised_rows_per_pass>(d, [&](auto count, i32 i) {
                V::template rows<typename V::Q4_0, decltype(count)::value>(out + i, xq, xs, x_sums, blocks + size_t(i) * row_bytes, n / 32);
            });
            return;
        }
    }
    alignas(32) i8 values[32];
    block_quants::rows(TensorType::Q4_0, out, xs, blocks, n, d, [&](const u8* block, i32 b) {
        V::unpack_q4(block + 2, values);
        return V::dot_i8(values, xq + b * 32, 32);
    });
}

// GGUF k-quant rows against the quantised input: this instruction set's row kernels where
// it has them (k_quant_rows.h), else k_quants.h's block products with its integer dot;
// either way the results are bit-identical to the reference.
template<typename V, bool q6>
void matmul_k_quant(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    constexpr size_t block_bytes = q6 ? k_quants::q6_k_block_bytes : k_quants::q4_k_block_bytes;
    i32 per_row = n / 256;
    if constexpr (V::has_k_quant_rows) {
        in_passes<quantised_rows_per_pass>(d, [&](auto count, i32 i) {
            const u8* first = blocks + size_t(i) * size_t(per_row) * block_bytes;
            if constexpr (q6)
                V::template q6_k_rows<decltype(count)::value>(out + i, xq, xs, first, per_row);
            else
                V::template q4_k_rows<decltype(count)::value>(out + i, xq, xs, xsums, first, per_row);
        });
        return;
    }
    for (i32 i = 0; i < d; ++i) {
        const u8* block = blocks + size_t(i) * size_t(per_row) * block_bytes;
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, block += block_bytes) {
            if constexpr (q6)
                value = k_quants::q6_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, V::dot_i8);
            else
                value = k_quants::q4_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, xsums + 8 * b, V::dot_i8);
        }
        out[i] = value;
    }
}

template<typename V>
void matmul_q4_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    matmul_k_quant<V, false>(out, xq, xs, xsums, blocks, n, d);
}

template<typename V>
void matmul_q6_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    matmul_k_quant<V, true>(out, xq, xs, xsums, blocks, n, d);
}

template<typename V>
float dot(const float* a, const float* b, i32 n)
{
    i32 vector_end = n - n % V::width;
    auto acc = V::zero();
    for (i32 i = 0; i < vector_end; i += V::width)
        acc = V::multiply_add(V::load(a + i), V::load(b + i), acc);
    float s = V::sum(acc);
    for (i32 i = vector_end; i < n; ++i)
        s += a[i] * b[i];
    return s;
}

template<typename V>
void axpy(float* y, float a, const float* x, i32 n)
{
    i32 vector_end = n - n % V::width;
    auto av = V::set1(a);
    for (i32 i = 0; i < vector_end; i += V::width)
        V::store(y + i, V::multiply_add(av, V::load(x + i), V::load(y + i)));
    for (i32 i = vector_end; i < n; ++i)
        y[i] += a * x[i];
}

template<typename V>
void rmsnorm(float* out, const float* x, const float* weight, i32 size, float epsilon)
{
    float sum_of_squares = dot<V>(x, x, size);
    sum_of_squares = sum_of_squares / float(size) + epsilon;
    float scale = 1.0f / rt::math::sqrtf(sum_of_squares);
    i32 vector_end = size - size % V::width;
    auto sv = V::set1(scale);
    for (i32 j = 0; j < vector_end; j += V::width)
        V::store(out + j, V::mul(V::load(weight + j), V::mul(sv, V::load(x + j))));
    for (i32 j = vector_end; j < size; ++j)
        out[j] = weight[j] * (scale * x[j]);
}

template<typename V>
void softmax(float* x, i32 size)
{
    i32 vector_end = size - size % V::width;
    float max_value = x[0];
    if (vector_end) {
        auto m = V::load(x);
        for (i32 i = V::width; i < vector_end; i += V::width)
            m = V::max(m, V::load(x + i));
        float lanes[V::width];
        V::store(lanes, m);
        for (float lane : lanes)
            max_value = rt::max(max_value, lane);
    }
    for (i32 i = vector_end; i < size; ++i)
        max_value = rt::max(max_value, x[i]);
    auto total = V::zero();
    for (i32 i = 0; i < vector_end; i += V::width) {
        auto e = V::exp(V::add(V::load(x + i), V::set1(-max_value)));
        V::store(x + i, e);
        total = V::add(total, e);
    }
    float sum = V::sum(total);
    for (i32 i = vector_end; i < size; ++i) {
        x[i] = rt::math::expf(x[i] - max_value);
        sum += x[i];
    }
    auto inverse = V::set1(1.0f / sum);
    for (i32 i = 0; i < vector_end; i += V::width)
        V::store(x + i, V::mul(V::load(x + i), inverse));
    for (i32 i = vector_end; i < size; ++i)
        x[i] /= sum;
}

template<typename V>
void swiglu(float* hb, const float* hb2, i32 size)
{
    i32 vector_end = size - size % V::width;
    auto one = V::set1(1.0f);
    auto minus_one = V::set1(-1.0f);
    for (i32 i = 0; i < vector_end; i += V::width) {
        auto value = V::load(hb + i);
        auto sigmoid_denominator = V::add(one, V::exp(V::mul(value, minus_one)));
        V::store(hb + i, V::mul(V::divide(value, sigmoid_denominator), V::load(hb2 + i)));
    }
    for (i32 i = vector_end; i < size; ++i) {
        float value = hb[i];
        value *= 1.0f / (1.0f + rt::math::expf(-value));
        hb[i] = value * hb2[i];
    }
}

// e^x for a vector: 2^k * p(r) with x = k ln2 + r, |r| <= ln2/2, p the degree-7 Taylor
// polynomial (relative error below 1e-7), inputs clamped to the float range.
template<typename V>
typename V::Vector exp_polynomial(typename V::Vector x)
{
    x = V::max(V::min(x, V::set1(88.0f)), V::set1(-87.3365447504019f)); // 2^k stays a normal float
    auto k = V::round(V::mul(x, V::set1(1.44269504088896341f)));
    auto r = V::sub(x, V::mul(k, V::set1(0.693359375f)));
    r = V::sub(r, V::mul(k, V::set1(-2.12194440e-4f)));
    auto p = V::set1(1.0f / 5040.0f);
    p = V::multiply_add(p, r, V::set1(1.0f / 720.0f));
    p = V::multiply_add(p, r, V::set1(1.0f / 120.0f));
    p = V::multiply_add(p, r, V::set1(1.0f / 24.0f));
    p = V::multiply_add(p, r, V::set1(1.0f / 6.0f));
    p = V::multiply_add(p, r, V::set1(0.5f));
    p = V::multiply_add(p, r, V::set1(1.0f));
    p = V::multiply_add(p, r, V::set1(1.0f));
    return V::mul(p, V::power_of_two(k));
}

}

// The entry points entry_points.h declares, defined once for an instruction set's traits V
// (used inside each ISA file's namespace, within its target pragma): each forwards to the
// template of the same name.
#define BAREFLOW_SIMD_ENTRY_POINT(type, result, name, parameters, arguments, V) \
    result name parameters { return simd::name<V> arguments; }
#define BAREFLOW_SIMD_ENTRY_POINTS(V) BAREFLOW_KERNEL_FUNCTIONS(BAREFLOW_SIMD_ENTRY_POINT, V)
