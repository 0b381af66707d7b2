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
    { TensorType::Q4_K, TensorType::Q4_Kx8, q4_kx8::scatter },
    { TensorType::Q6_K, TensorType::Q6_Kx8, q6_kx8::scatter },
};
constexpr i32 group_rows = 8;
static_assert(q4_0x8::group_rows == group_rows && q4_kx8::group_rows == group_rows && q6_kx8::group_rows == group_rows);

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
    return interleaving_of(t.type) && t.rows > 0 && t.rows % group_rows == 0 && t.cols % i32(block_values(t.type)) == 0;
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
            scratch_bytes = rt::max(scratch_bytes, group_rows * matrices[i]->row_bytes());
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
            shared = matrices[j]->data == t.data && matrices[j]->type == interleaving_of(t.type)->interleaved;
        if (shared) {
            t.type = interleaving_of(t.type)->interleaved;
            continue;
        }
        size_t bytes = size_t(t.rows) * t.row_bytes();
        if (t.data < model.data() || size_t(t.data - model.data()) > model.size() || bytes > model.size() - size_t(t.data - model.data()))
            continue;
        interleave(t, model.data() + (t.data - model.data()), { scratch.data(), scratch.size() });
        ++repacked;
    }
    return repacked;
}

}
