#include "interleave.h"
#include "interleaved_blocks.h"
#include <rt/heap.h>
#include <rt/utility.h>

namespace llm {

bool can_interleave(Tensor const& t)
{
    return t.type == TensorType::Q4_0 && t.rows > 0 && t.rows % q4_0x8::group_rows == 0 && t.cols % 32 == 0;
}

void interleave(Tensor& t, u8* data, rt::Span<u8> scratch)
{
    size_t row_bytes = t.row_bytes(), group_bytes = q4_0x8::group_rows * row_bytes;
    i32 per_row = t.cols / 32;
    for (i32 first = 0; first < t.rows; first += q4_0x8::group_rows) {
        u8* group = data + size_t(first) * row_bytes;
        __builtin_memcpy(scratch.data(), group, group_bytes);
        for (i32 r = 0; r < q4_0x8::group_rows; ++r)
            for (i32 b = 0; b < per_row; ++b)
                q4_0x8::scatter(scratch.data() + size_t(r) * row_bytes + size_t(b) * q4_0x8::plain_bytes, r,
                    group + size_t(b) * q4_0x8::octet_bytes);
    }
    t.type = TensorType::Q4_0x8;
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
            scratch_bytes = rt::max(scratch_bytes, q4_0x8::group_rows * matrices[i]->row_bytes());
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
            shared = matrices[j]->data == t.data && matrices[j]->type == TensorType::Q4_0x8;
        if (shared) {
            t.type = TensorType::Q4_0x8;
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
