#include "tensor.h"
#include "block_quants.h"
#include "interleaved_blocks.h"
#include "k_quants.h"
#include "ops.h"
#include <rt/utility.h>
#include <rt/work_pool.h>

namespace llm {

namespace {
float f16_scale(const u8* block) { return ops::half_to_float(u16(block[0] | block[1] << 8)); }

void dequantize_q4_0(const u8* block, float* out)
{
    float d = f16_scale(block);
    for (i32 i = 0; i < 16; ++i) {
        out[i] = float(i32(block[2 + i] & 0xF) - 8) * d;
        out[i + 16] = float(i32(block[2 + i] >> 4) - 8) * d;
    }
}

void dequantize_q8_0(const u8* block, float* out)
{
    float d = f16_scale(block);
    for (i32 i = 0; i < 32; ++i)
        out[i] = float(i8(block[2 + i])) * d;
}
}

namespace by_type {

// Each type's rows against the active kernels. `n` is the row length, the rows begin at
// `begin`; the kernels see only the rows of their chunk.
void f32_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().matmul(out + begin, in.x, w.floats() + begin * size_t(w.cols), w.cols, i32(end - begin));
}

void f16_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_f16(out + begin, in.x, w.row(begin), w.cols, i32(end - begin));
}

void bf16_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_bf16(out + begin, in.x, w.row(begin), w.cols, i32(end - begin));
}

void iq4_nl_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_iq4_nl(out + begin, in.q, in.s, w.row(begin), w.cols, i32(end - begin));
}

void iq4_xs_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_iq4_xs(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q8_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    size_t first = begin * size_t(w.cols);
    kernels::active().matmul_q8(out + begin, in.q, in.s, w.int8() + first, w.scales + first / size_t(w.group), w.cols,
        i32(end - begin), w.group);
}

void q8_0_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q8_0(out + begin, in.q, in.s, w.row(begin), w.cols, i32(end - begin));
}

void q4_0_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q4_0(out + begin, in.q, in.s, w.row(begin), w.cols, i32(end - begin));
}

// Interleaved rows: chunks start on a group (row_granule is a multiple of 8) and end on
// one (such tensors have whole groups).
static_assert(kernels::row_granule % q4_0x8::group_rows == 0 && kernels::row_granule % q8_0x8::group_rows == 0
    && kernels::row_granule % q4_kx8::Octets::group_rows == 0 && kernels::row_granule % q5_kx8::Octets::group_rows == 0
    && kernels::row_granule % q6_kx8::Octets::group_rows == 0 && kernels::row_granule % q8x8::group_rows == 0);
void q4_0x8_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q4_0x8(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q8_0x8_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q8_0x8(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

// Q8x8: chunks start on a group of eight rows, and its scales at 8i * groups.
void q8x8_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    size_t first = begin * size_t(w.cols);
    kernels::active().matmul_q8x8(out + begin, in.q, in.s, in.sums, w.row(begin), w.scales + first / 32, w.cols, i32(end - begin));
}

void q4_kx8_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q4_kx8(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q5_kx8_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q5_kx8(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q6_kx8_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q6_kx8(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q4_k_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q4_k(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q6_k_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q6_k(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void f32_row(Tensor const& t, size_t row, float* out) { __builtin_memcpy(out, t.row(row), size_t(t.cols) * sizeof(float)); }

void f16_row(Tensor const& t, size_t row, float* out)
{
    const u8* p = t.row(row);
    for (i32 i = 0; i < t.cols; ++i)
        out[i] = ops::half_to_float(u16(p[2 * i] | p[2 * i + 1] << 8));
}

void bf16_row(Tensor const& t, size_t row, float* out)
{
    const u8* p = t.row(row);
    for (i32 i = 0; i < t.cols; ++i)
        out[i] = ops::bfloat16_to_float(u16(p[2 * i] | p[2 * i + 1] << 8));
}

void q8_row(Tensor const& t, size_t row, float* out)
{
    u64 first = u64(row) * u64(t.cols);
    for (i32 i = 0; i < t.cols; ++i) {
        u64 at = first + u64(i);
        out[i] = float(t.int8()[at]) * t.scales[at / u64(t.group)];
    }
}

void q8_0_row(Tensor const& t, size_t row, float* out)
{
    const u8* block = t.row(row);
    for (i32 b = 0; b < t.cols / 32; ++b, block += block_bytes(TensorType::Q8_0))
        dequantize_q8_0(block, out + b * 32);
}

void q4_0_row(Tensor const& t, size_t row, float* out)
{
    const u8* block = t.row(row);
    for (i32 b = 0; b < t.cols / 32; ++b, block += block_bytes(TensorType::Q4_0))
        dequantize_q4_0(block, out + b * 32);
}

void iq4_nl_row(Tensor const& t, size_t row, float* out)
{
    const u8* block = t.row(row);
    for (i32 b = 0; b < t.cols / 32; ++b, block += block_bytes(TensorType::IQ4_NL)) {
        float d = f16_scale(block);
        i8 values[32];
        block_quants::unpack_iq4(block + 2, values);
        for (i32 i = 0; i < 32; ++i)
            out[b * 32 + i] = float(values[i]) * d;
    }
}

void iq4_xs_row(Tensor const& t, size_t row, float* out)
{
    const u8* block = t.row(row);
    for (i32 b = 0; b < t.cols / 256; ++b, block += block_quants::iq4_xs::bytes) {
        float d = f16_scale(block);
        for (i32 k = 0; k < 8; ++k) {
            float group_d = d * float(block_quants::iq4_xs::scale(block, k));
            i8 values[32];
            block_quants::unpack_iq4(block + block_quants::iq4_xs::nibbles_at + 16 * k, values);
            for (i32 i = 0; i < 32; ++i)
                out[b * 256 + k * 32 + i] = float(values[i]) * group_d;
        }
    }
}

void q4_0x8_row(Tensor const& t, size_t row, float* out)
{
    const u8* group = t.row(row / q4_0x8::group_rows * q4_0x8::group_rows);
    u8 block[q4_0x8::plain_bytes];
    for (i32 b = 0; b < t.cols / 32; ++b) {
        q4_0x8::gather(q4_0x8::block_of(group, t.cols / 32, b), i32(row % q4_0x8::group_rows), block);
        dequantize_q4_0(block, out + b * 32);
    }
}

void q8_0x8_row(Tensor const& t, size_t row, float* out)
{
    const u8* group = t.row(row / q8_0x8::group_rows * q8_0x8::group_rows);
    u8 block[q8_0x8::plain_bytes];
    for (i32 b = 0; b < t.cols / 32; ++b) {
        q8_0x8::gather(q8_0x8::Layout::block_of(group, t.cols / 32, b), i32(row % q8_0x8::group_rows), block);
        dequantize_q8_0(block, out + b * 32);
    }
}

void q8x8_row(Tensor const& t, size_t row, float* out)
{
    size_t first = row / q8x8::group_rows * q8x8::group_rows;
    const u8* rows = t.row(first);
    const float* scales = t.scales + first * size_t(t.cols) / 32;
    i32 r = i32(row % q8x8::group_rows);
    for (i32 j = 0; j < t.cols; ++j)
        out[j] = float(q8x8::value(rows, r, j)) * q8x8::scale(scales, r, j / 32);
}

void q4_kx8_row(Tensor const& t, size_t row, float* out) { q4_kx8::Octets::dequantize_row(t.data, row, t.cols, out, k_quants::dequantize_q4_k); }
void q5_kx8_row(Tensor const& t, size_t row, float* out) { q5_kx8::Octets::dequantize_row(t.data, row, t.cols, out, q5_quants::dequantize_q5_k); }
void q6_kx8_row(Tensor const& t, size_t row, float* out) { q6_kx8::Octets::dequantize_row(t.data, row, t.cols, out, k_quants::dequantize_q6_k); }

void q4_k_row(Tensor const& t, size_t row, float* out)
{
    for (i32 b = 0; b < t.cols / 256; ++b)
        k_quants::dequantize_q4_k(t.row(row) + size_t(b) * block_bytes(TensorType::Q4_K), out + b * 256);
}

void q6_k_row(Tensor const& t, size_t row, float* out)
{
    for (i32 b = 0; b < t.cols / 256; ++b)
        k_quants::dequantize_q6_k(t.row(row) + size_t(b) * block_bytes(TensorType::Q6_K), out + b * 256);
}

// Q5_0, Q5_1, Q4_1, Q5_K, Q3_K and Q2_K: the input's group sums go to every kernel (Q5_1's, Q4_1's and Q5_K's
// mins need them; the others ignore them).
void q5_0_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q5_0(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q5_1_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q5_1(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q4_1_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q4_1(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q5_k_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q5_k(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q3_k_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q3_k(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

void q2_k_rows(float* out, MatmulInput const& in, Tensor const& w, size_t begin, size_t end)
{
    kernels::active().gguf_q2_k(out + begin, in.q, in.s, in.sums, w.row(begin), w.cols, i32(end - begin));
}

namespace {
// Row `row` of `t` through a per-block dequantiser.
void dequantize_blocks(Tensor const& t, size_t row, float* out, void (*block)(const u8*, float*))
{
    size_t values = block_values(t.type), bytes = block_bytes(t.type);
    for (size_t b = 0; b < size_t(t.cols) / values; ++b)
        block(t.row(row) + b * bytes, out + b * values);
}
}

void q5_0_row(Tensor const& t, size_t row, float* out) { dequantize_blocks(t, row, out, ops::dequantize_q5_0); }
void q5_1_row(Tensor const& t, size_t row, float* out) { dequantize_blocks(t, row, out, ops::dequantize_q5_1); }
void q4_1_row(Tensor const& t, size_t row, float* out) { dequantize_blocks(t, row, out, ops::dequantize_q4_1); }
void q5_k_row(Tensor const& t, size_t row, float* out) { dequantize_blocks(t, row, out, ops::dequantize_q5_k); }
void q3_k_row(Tensor const& t, size_t row, float* out) { dequantize_blocks(t, row, out, ops::dequantize_q3_k); }
void q2_k_row(Tensor const& t, size_t row, float* out) { dequantize_blocks(t, row, out, ops::dequantize_q2_k); }

}

void matmul(float* out, MatmulInput const& in, Tensor const& w)
{
    auto const& type = traits(w.type);
    // Each row is computed whole by one core.
    rt::WorkPool::the().parallel_for(size_t(w.rows), row_granule(w), [&](size_t begin, size_t end) { type.rows(out, in, w, begin, end); },
        kernels::active().workers_for(type.op));
}

void matmul(rt::Span<const Product> products, MatmulInput const& in)
{
    if (products.size() == 0)
        return;
    JoinedRows joined = joined_rows(products);
    if (!joined.joinable) {
        for (auto const& product : products)
            matmul(product.out, in, *product.weights);
        return;
    }
    auto const& type = traits(products[0].weights->type);
    rt::WorkPool::the().parallel_for(joined.total, joined.granule, [&](size_t begin, size_t end) {
        size_t offset = 0; // where this product's rows start in the joined range
        for (auto const& product : products) {
            size_t rows = size_t(product.weights->rows);
            size_t from = rt::max(begin, offset), to = rt::min(end, offset + rows);
            if (from < to)
                type.rows(product.out, in, *product.weights, from - offset, to - offset);
            offset += rows;
        }
    }, kernels::active().workers_for(type.op));
}

}
