#include "interleave.h"
#include "interleaved_blocks.h"
#include <rt/heap.h>
#include <rt/utility.h>

namespace llm {

namespace {

// A plain type, its interleaved one, and how row r's block b moves into its group.
struct Interleaving {
    TensorType plain, interleaved;
    void (*scatter)(const u8* block, i32 r, u8* group, i32 per_row, i32 b);
};
constexpr Interleaving interleavings[] = {
    { TensorType::Q4_0, TensorType::Q4_0x8, q4_0x8::scatter },
    { TensorType::Q8_0, TensorType::Q8_0x8, q8_0x8::scatter },
    { TensorType::Q4_K, TensorType::Q4_Kx8, q4_kx8::Octets::scatter },
    { TensorType::Q5_K, TensorType::Q5_Kx8, q5_kx8::Octets::scatter },
    { TensorType::Q6_K, TensorType::Q6_Kx8, q6_kx8::Octets::scatter },
};
constexpr i32 group_rows = 8;
static_assert(q4_0x8::group_rows == group_rows && q8_0x8::group_rows == group_rows && q4_kx8::Octets::group_rows == group_rows
    && q5_kx8::Octets::group_rows == group_rows && q6_kx8::Octets::group_rows == group_rows);

Interleaving const* interleaving_of(TensorType type)
{
    for (auto const& i : interleavings)
        if (i.plain == type)
            return &i;
    return nullptr;
}

}

bool can_interleave(Tensor const& t)
{
    if (t.type == TensorType::Q8)
        return t.group == q8x8::values_per_group && t.rows > 0 && t.rows % group_rows == 0 && t.cols % q8x8::values_per_group == 0;
    return interleaving_of(t.type) && t.rows > 0 && t.rows % group_rows == 0 && t.cols % i32(block_values(t.type)) == 0;
}

size_t scratch_bytes(Tensor const& t)
{
    // Q8: eight rows' values, then their scales (4-byte aligned: cols is a multiple of 32).
    return group_rows * t.row_bytes() + (t.type == TensorType::Q8 ? group_rows * size_t(t.cols) / 32 * sizeof(float) : 0);
}

void interleave_q8(Tensor& t, u8* values, float* scales, rt::Span<u8> scratch)
{
    size_t row_scales = size_t(t.cols) / 32;
    u8* value_scratch = scratch.data();
    float* scale_scratch = reinterpret_cast<float*>(scratch.data() + group_rows * t.row_bytes());
    for (i32 first = 0; first < t.rows; first += group_rows)
        q8x8::scatter_rows(values + size_t(first) * size_t(t.cols), scales + size_t(first) * row_scales, t.cols, value_scratch, scale_scratch);
    t.type = TensorType::Q8x8;
}

void interleave(Tensor& t, u8* data, rt::Span<u8> scratch)
{
    auto const& how = *interleaving_of(t.type);
    size_t row_bytes = t.row_bytes(), group_bytes = group_rows * row_bytes, bytes = block_bytes(t.type);
    size_t per_row = size_t(t.cols) / block_values(t.type);
    for (i32 first = 0; first < t.rows; first += group_rows) {
        u8* group = data + size_t(first) * row_bytes;
        __builtin_memcpy(scratch.data(), group, group_bytes);
        for (i32 r = 0; r < group_rows; ++r)
            for (size_t b = 0; b < per_row; ++b)
                how.scatter(scratch.data() + size_t(r) * row_bytes + b * bytes, r, group, i32(per_row), i32(b));
    }
    t.type = how.interleaved;
}

namespace {
// The interleaved type `t` takes.
TensorType interleaved_type(Tensor const& t) { return t.type == TensorType::Q8 ? TensorType::Q8x8 : interleaving_of(t.type)->interleaved; }

// `bytes` at `p` as a writable pointer into one of `regions`, or null when outside them all.
u8* writable(const void* p, size_t bytes, rt::Span<const rt::Span<u8>> regions)
{
    auto const* at = static_cast<const u8*>(p);
    for (auto const& region : regions)
        if (at >= region.data() && size_t(at - region.data()) <= region.size() && bytes <= region.size() - size_t(at - region.data()))
            return region.data() + (at - region.data());
    return nullptr;
}
}

rt::ErrorOr<size_t> interleave_weights(Weights& weights, rt::Span<u8> model)
{
    // Every matrix, in the order they are listed; the tied classifier after the embedding.
    size_t count = 2 + 7 * weights.layers.size();
    auto matrices = TRY(rt::HeapArray<Tensor*>::allocate(count));
    size_t at = 0;
    matrices[at++] = &weights.embedding;
    matrices[at++] = &weights.classifier;
    for (size_t l = 0; l < weights.layers.size(); ++l) {
        Layer& layer = weights.layers[l];
        Tensor* of_layer[] = { &layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w1, &layer.w2, &layer.w3 };
        for (Tensor* m : of_layer)
            matrices[at++] = m;
    }
    size_t scratch_bytes = 0;
    for (size_t i = 0; i < count; ++i)
        if (can_interleave(*matrices[i]))
            scratch_bytes = rt::max(scratch_bytes, llm::scratch_bytes(*matrices[i]));
    if (scratch_bytes == 0)
        return size_t(0);
    auto scratch = TRY(rt::HeapArray<u8>::allocate(scratch_bytes));
    size_t repacked = 0;
    for (size_t i = 0; i < count; ++i) {
        Tensor& t = *matrices[i];
        if (!can_interleave(t))
            continue;
        // Already repacked in another role: take its type.
        bool shared = false;
        for (size_t j = 0; j < i && !shared; ++j)
            shared = matrices[j]->data == t.data && matrices[j]->type == interleaved_type(t);
        if (shared) {
            t.type = interleaved_type(t);
            continue;
        }
        // Writable: the file as loaded, or (Q8) the values and scales quant=q8 made.
        rt::Span<u8> regions[] = { model,
            { reinterpret_cast<u8*>(weights.owned_values.data()), weights.owned_values.size() },
            { reinterpret_cast<u8*>(weights.owned_scales.data()), weights.owned_scales.size() * sizeof(float) } };
        rt::Span<const rt::Span<u8>> where { regions, t.type == TensorType::Q8 ? 3u : 1u };
        size_t bytes = size_t(t.rows) * t.row_bytes();
        u8* data = writable(t.data, bytes, where);
        if (!data)
            continue;
        if (t.type == TensorType::Q8) {
            u8* scales = writable(t.scales, size_t(t.rows) * size_t(t.cols) / 32 * sizeof(float), where);
            if (!scales)
                continue;
            interleave_q8(t, data, reinterpret_cast<float*>(scales), { scratch.data(), scratch.size() });
            // The VNNI kernels take 128 * sum(x) off each group: the inputs' sums, made once.
            weights.input_sums = true;
        } else {
            interleave(t, data, { scratch.data(), scratch.size() });
            if (t.type == TensorType::Q6_Kx8)
                weights.input_sums16 = true;
        }
        ++repacked;
    }
    return repacked;
}

}
