#pragma once
// The activations of a batch of prompt tokens: one token's buffers (transformer.h) for
// each token of the batch, every token's row starting on a cache line. Allocated once,
// with the transformer, never inside the forward pass.
#include "checkpoint.h"
#include <rt/heap.h>
#include <rt/utility.h>

namespace llm {

// The most tokens one batch takes (the command line's batch= limit).
constexpr i32 max_batch = 64;

// A token's int8 input sums (Transformer::quantize_input): each 32-value group's, then,
// from sums16_offset, each 16 values' (for models with Q6_Kx8 rows).
inline size_t sums16_offset(Config const& c) { return size_t(c.widest_input()) / 32 + 1; }
inline size_t input_sums_count(Config const& c) { return sums16_offset(c) + size_t(c.widest_input()) / 16 + 1; }

struct BatchState {
    // Bytes `capacity` tokens take (0 for a capacity of 1: one token runs forward()).
    static u64 bytes(Config const&, i32 capacity);
    static rt::ErrorOr<BatchState> create(Config const&, i32 capacity);

    i32 capacity() const { return m_capacity; }

    // Row strides, in elements: each a multiple of a 64-byte line.
    size_t dim_stride { 0 };    // x, xb, xb2, q (each max(dim, q_dim) wide)
    size_t hidden_stride { 0 }; // hb, hb2
    size_t rope_stride { 0 };   // rope_cos, rope_sin
    size_t input_stride { 0 };  // input_q (int8), input_s (floats)
    size_t sums_stride { 0 };   // input_sums (input_sums_count)
    rt::HeapArray<float> x, xb, xb2, q, hb, hb2, rope_cos, rope_sin;
    rt::HeapArray<i8> input_q;
    rt::HeapArray<float> input_s;
    rt::HeapArray<i32> input_sums;

private:
    i32 m_capacity { 1 };
};

}
