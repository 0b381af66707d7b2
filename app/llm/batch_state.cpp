#include "batch_state.h"
#include <rt/utility.h>

namespace llm {

namespace {
size_t line_multiple(size_t count, size_t element_bytes)
{
    size_t per_line = 64 / element_bytes;
    return (count + per_line - 1) / per_line * per_line;
}

struct Strides {
    size_t dim, hidden, rope, input, sums;
    explicit Strides(Config const& c)
    {
        size_t widest = size_t(c.widest_input());
        // x, xb, xb2 and q in rows of one width: xb holds the attention's output and q
        // the queries, q_dim wide, which is more than dim where heads are wider (Qwen3).
        dim = line_multiple(size_t(rt::max(c.dim, c.q_dim())), sizeof(float));
        hidden = line_multiple(size_t(c.hidden_dim), sizeof(float));
        rope = line_multiple(size_t(c.rope_sets()) * size_t(c.head_size() / 2), sizeof(float));
        input = line_multiple(widest, sizeof(float));
        sums = line_multiple(input_sums_count(c), sizeof(i32));
    }
    u64 per_token() const
    {
        u64 floats = 4 * dim + 2 * hidden + 2 * rope + input;
        return floats * sizeof(float) + input + sums * sizeof(i32);
    }
};
}

u64 BatchState::bytes(Config const& c, i32 capacity)
{
    return capacity > 1 ? u64(capacity) * Strides(c).per_token() : 0;
}

rt::ErrorOr<BatchState> BatchState::create(Config const& c, i32 capacity)
{
    BatchState b;
    b.m_capacity = rt::max(capacity, 1);
    if (capacity <= 1)
        return b;
    Strides s(c);
    b.dim_stride = s.dim, b.hidden_stride = s.hidden, b.rope_stride = s.rope, b.input_stride = s.input, b.sums_stride = s.sums;
    size_t n = size_t(capacity);
    // Zeroed like the KV cache (Transformer::create): touched once at load.
    b.x = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.dim));
    b.xb = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.dim));
    b.xb2 = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.dim));
    b.q = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.dim));
    b.hb = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.hidden));
    b.hb2 = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.hidden));
    b.rope_cos = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.rope));
    b.rope_sin = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.rope));
    b.input_q = TRY(rt::HeapArray<i8>::allocate_zeroed(n * s.input));
    b.input_s = TRY(rt::HeapArray<float>::allocate_zeroed(n * s.input));
    b.input_sums = TRY(rt::HeapArray<i32>::allocate_zeroed(n * s.sums));
    return b;
}

}
