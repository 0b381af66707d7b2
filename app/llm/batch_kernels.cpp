// Batch row kernels (kernels/x86/batch_rows.h) where the tensor type has them: they run
// on the instruction set the plan chose for the type's one-token operation, so a tune=
// plan (or the tuner's choice) governs both. Other types and sets (the scalar reference,
// SSE2) run the one-token rows token by token, which gives the same bits.
#include "batch.h"
#include "batch_state.h"
#include "kernels/x86/batch_entry_points.h"
#include "kernels/x86/entry_points.h"
#include <rt/utility.h>

namespace llm {

namespace {

using BatchKernel = void (*)(float*, size_t, const MatmulInput*, i32, const u8*, i32, i32);

// Each set's one-token and batch kernels of Q4_0x8, Q4_Kx8, Q6_Kx8, Q8_0x8 and Q5_Kx8, in
// that order.
struct InterleavedSet {
    kernels::MatmulKBlocks one_token[5];
    BatchKernel batch[5];
};
#define BAREFLOW_INTERLEAVED_SET(isa)                                                                                                        \
    InterleavedSet { { kernels::isa::matmul_q4_0x8, kernels::isa::matmul_q4_kx8, kernels::isa::matmul_q6_kx8, kernels::isa::matmul_q8_0x8,     \
                         kernels::isa::matmul_q5_kx8 },                                                                                        \
        { kernels::isa::q4_0x8_rows_batch, kernels::isa::q4_kx8_rows_batch, kernels::isa::q6_kx8_rows_batch, kernels::isa::q8_0x8_rows_batch, \
            kernels::isa::q5_kx8_rows_batch } }
// avx2tcg's interleaved rows (emulated_rows.h, for QEMU) have no batch kernels: their
// tokens go one by one. avx2's batch kernels would give the same bits, but under TCG
// their pmaddubsw, a C helper there, costs more than reading each weight once per batch
// saves: a 31-token prompt ran at 0.73 tok/s in batches against 0.92 one by one
// (TinyLlama shape Q4_0 under qemu-i386), and likewise for the K rows.
constexpr InterleavedSet interleaved_sets[] = { BAREFLOW_INTERLEAVED_SET(avx2), BAREFLOW_INTERLEAVED_SET(avxvnni), BAREFLOW_INTERLEAVED_SET(avx512),
    BAREFLOW_INTERLEAVED_SET(avx512vnni),
    InterleavedSet { { kernels::avx2tcg::matmul_q4_0x8, kernels::avx2tcg::matmul_q4_kx8, kernels::avx2tcg::matmul_q6_kx8, kernels::avx2tcg::matmul_q8_0x8,
                         kernels::avx2tcg::matmul_q5_kx8 },
        { nullptr, nullptr, nullptr, nullptr, nullptr } } };
#undef BAREFLOW_INTERLEAVED_SET

// The batch kernel of whichever set `chosen` (the active one-token kernel) belongs to. The
// VNNI sets take their base set's batch kernel: the integer sums are exact either way, so
// the bits are the same, and the CPU has the base set. So does avx2tcg (AVX2 shaped for
// QEMU's emulation), whose one-token kernels are avx2's but for Q8_0's and the interleaved
// rows (below).
template<typename OneToken, typename Batch, size_t avx2_members>
Batch pick(OneToken chosen, OneToken const (&avx2_family)[avx2_members], Batch avx2_batch, OneToken const (&avx512_family)[2], Batch avx512_batch)
{
    for (OneToken member : avx2_family)
        if (chosen == member)
            return avx2_batch;
    for (OneToken member : avx512_family)
        if (chosen == member)
            return avx512_batch;
    return nullptr;
}

}

namespace {
// The token-lanes kernel of W's type where the plan runs its one-token rows on avx512vnni
// (Q2_K, IQ4_NL, IQ4_XS), else null.
BatchKernel token_lanes(Tensor const& w)
{
    namespace k = kernels;
    auto const& active = k::active();
    switch (w.type) {
    case TensorType::Q2_K: return active.gguf_q2_k == k::avx512vnni::matmul_q2_k ? k::avx512vnni::q2_k_token_lanes_batch : nullptr;
    case TensorType::IQ4_NL: return active.gguf_iq4_nl == k::avx512vnni::matmul_iq4_nl ? k::avx512vnni::iq4_nl_token_lanes_batch : nullptr;
    case TensorType::IQ4_XS: return active.gguf_iq4_xs == k::avx512vnni::matmul_iq4_xs ? k::avx512vnni::iq4_xs_token_lanes_batch : nullptr;
    default: return nullptr;
    }
}
}

size_t batch_tile_rows(Tensor const& w, size_t granule)
{
    size_t rows = batch_tile_rows(w.row_bytes(), granule);
    // The token lanes transpose each unit's inputs once for 32 rows: tiles of fewer (a
    // 16 KB tile holds 8 Q2_K rows of TinyLlama's 5632-wide down projection) would
    // transpose them again for every few rows.
    if (token_lanes(w)) {
        size_t lanes_rows = (size_t(kernels::avx512vnni::token_lanes_rows) + granule - 1) / granule * granule;
        rows = rt::max(rows, lanes_rows);
    }
    return rows;
}

bool rows_batch(float* out, size_t out_stride, rt::Span<const MatmulInput> inputs, Tensor const& w, size_t begin, size_t end)
{
    namespace k = kernels;
    auto const& active = k::active();
    if (BatchKernel lanes = token_lanes(w); lanes && inputs[0].sums) { // tokens in the vector lanes: no horizontal sums
        lanes(out + begin, out_stride, inputs.data(), i32(inputs.size()), w.row(begin), w.cols, i32(end - begin));
        return true;
    }
    i32 tokens = i32(inputs.size()), d = i32(end - begin);
    switch (w.type) {
    case TensorType::Q8: {
        // The one-token kernel takes int8_rows.h's path only for groups of 32.
        if (w.group != 32 || w.cols % 32 != 0)
            return false;
        auto batch = pick(active.matmul_q8, { k::avx2::matmul_q8, k::avxvnni::matmul_q8, k::avx2tcg::matmul_q8 }, k::avx2::q8_rows_batch, { k::avx512::matmul_q8, k::avx512vnni::matmul_q8 }, k::avx512::q8_rows_batch);
        if (!batch)
            return false;
        size_t first = begin * size_t(w.cols);
        batch(out + begin, out_stride, inputs.data(), tokens, w.int8() + first, w.scales + first / 32, w.cols, d);
        return true;
    }
    case TensorType::Q4_K:
    case TensorType::Q6_K: {
        bool q6 = w.type == TensorType::Q6_K;
        auto batch = q6 ? pick(active.gguf_q6_k, { k::avx2::matmul_q6_k, k::avxvnni::matmul_q6_k, k::avx2tcg::matmul_q6_k }, k::avx2::q6_k_rows_batch, { k::avx512::matmul_q6_k, k::avx512vnni::matmul_q6_k }, k::avx512::q6_k_rows_batch)
                        : pick(active.gguf_q4_k, { k::avx2::matmul_q4_k, k::avxvnni::matmul_q4_k, k::avx2tcg::matmul_q4_k }, k::avx2::q4_k_rows_batch, { k::avx512::matmul_q4_k, k::avx512vnni::matmul_q4_k }, k::avx512::q4_k_rows_batch);
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::Q5_K: {
        if (!inputs[0].sums)
            return false;
        auto batch = pick(active.gguf_q5_k, { k::avx2::matmul_q5_k, k::avxvnni::matmul_q5_k, k::avx2tcg::matmul_q5_k }, k::avx2::q5_k_rows_batch,
            { k::avx512::matmul_q5_k, k::avx512vnni::matmul_q5_k }, k::avx512::q5_k_rows_batch);
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q4_1: {
        if (!inputs[0].sums)
            return false;
        auto batch = w.type == TensorType::Q5_0
            ? pick(active.gguf_q5_0, { k::avx2::matmul_q5_0, k::avxvnni::matmul_q5_0, k::avx2tcg::matmul_q5_0 }, k::avx2::q5_0_rows_batch,
                  { k::avx512::matmul_q5_0, k::avx512vnni::matmul_q5_0 }, k::avx512::q5_0_rows_batch)
            : w.type == TensorType::Q5_1
            ? pick(active.gguf_q5_1, { k::avx2::matmul_q5_1, k::avxvnni::matmul_q5_1, k::avx2tcg::matmul_q5_1 }, k::avx2::q5_1_rows_batch,
                  { k::avx512::matmul_q5_1, k::avx512vnni::matmul_q5_1 }, k::avx512::q5_1_rows_batch)
            : pick(active.gguf_q4_1, { k::avx2::matmul_q4_1, k::avxvnni::matmul_q4_1, k::avx2tcg::matmul_q4_1 }, k::avx2::q4_1_rows_batch,
                  { k::avx512::matmul_q4_1, k::avx512vnni::matmul_q4_1 }, k::avx512::q4_1_rows_batch);
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::IQ4_NL: {
        auto batch = pick(active.gguf_iq4_nl, { k::avx2::matmul_iq4_nl, k::avxvnni::matmul_iq4_nl, k::avx2tcg::matmul_iq4_nl }, k::avx2::iq4_nl_rows_batch,
            { k::avx512::matmul_iq4_nl, k::avx512vnni::matmul_iq4_nl }, k::avx512::iq4_nl_rows_batch);
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::IQ4_XS: {
        auto batch = pick(active.gguf_iq4_xs, { k::avx2::matmul_iq4_xs, k::avxvnni::matmul_iq4_xs, k::avx2tcg::matmul_iq4_xs }, k::avx2::iq4_xs_rows_batch,
            { k::avx512::matmul_iq4_xs, k::avx512vnni::matmul_iq4_xs }, k::avx512::iq4_xs_rows_batch);
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::Q3_K: {
        if (w.cols / 256 > 32) // the batch kernel keeps the tokens' offsets for 32 super-blocks
            return false;
        auto batch = pick(active.gguf_q3_k, { k::avx2::matmul_q3_k, k::avxvnni::matmul_q3_k, k::avx2tcg::matmul_q3_k }, k::avx2::q3_k_rows_batch,
            { k::avx512::matmul_q3_k, k::avx512vnni::matmul_q3_k }, k::avx512::q3_k_rows_batch);
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::Q2_K: {
        if (w.cols / 256 > 32) // the batch kernel keeps the tokens' 16-value sums for 32 super-blocks
            return false;
        auto batch = pick(active.gguf_q2_k, { k::avx2::matmul_q2_k, k::avxvnni::matmul_q2_k, k::avx2tcg::matmul_q2_k }, k::avx2::q2_k_rows_batch,
            { k::avx512::matmul_q2_k, k::avx512vnni::matmul_q2_k }, k::avx512::q2_k_rows_batch);
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::Q8_0:
    case TensorType::Q4_0: {
        bool q4 = w.type == TensorType::Q4_0;
        if (q4 && !inputs[0].sums)
            return false;
        // Q8_0: every set has its own batch kernel, VNNI's byte products included, but for
        // avx2tcg, whose rows are emulated_rows.h's (see interleaved_sets: a TinyLlama-shape
        // Q8_0 prompt ran at 0.19 tok/s in avx2's batches, 0.45 one by one, under qemu-i386).
        auto const& q8_0 = active.gguf_q8_0;
        auto batch = q4 ? pick(active.gguf_q4_0, { k::avx2::matmul_q4_0, k::avxvnni::matmul_q4_0, k::avx2tcg::matmul_q4_0 }, k::avx2::q4_0_rows_batch, { k::avx512::matmul_q4_0, k::avx512vnni::matmul_q4_0 }, k::avx512::q4_0_rows_batch)
            : q8_0 == k::avx2::matmul_q8_0       ? k::avx2::q8_0_rows_batch
            : q8_0 == k::avxvnni::matmul_q8_0    ? k::avxvnni::q8_0_rows_batch
            : q8_0 == k::avx512::matmul_q8_0     ? k::avx512::q8_0_rows_batch
            : q8_0 == k::avx512vnni::matmul_q8_0 ? k::avx512vnni::q8_0_rows_batch
                                                  : nullptr;
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: {
        const float* x[max_batch];
        for (i32 t = 0; t < tokens; ++t)
            x[t] = inputs[size_t(t)].x;
        if (w.type == TensorType::F16) {
            auto batch = pick(active.gguf_f16, { k::avx2::matmul_f16, k::avxvnni::matmul_f16, k::avx2tcg::matmul_f16 }, k::avx2::f16_rows_batch, { k::avx512::matmul_f16, k::avx512vnni::matmul_f16 }, k::avx512::f16_rows_batch);
            if (!batch)
                return false;
            batch(out + begin, out_stride, x, tokens, w.row(begin), w.cols, d);
        } else if (w.type == TensorType::BF16) {
            auto batch = pick(active.gguf_bf16, { k::avx2::matmul_bf16, k::avxvnni::matmul_bf16, k::avx2tcg::matmul_bf16 }, k::avx2::bf16_rows_batch, { k::avx512::matmul_bf16, k::avx512vnni::matmul_bf16 }, k::avx512::bf16_rows_batch);
            if (!batch)
                return false;
            batch(out + begin, out_stride, x, tokens, w.row(begin), w.cols, d);
        } else {
            auto batch = pick(active.matmul, { k::avx2::matmul, k::avxvnni::matmul, k::avx2tcg::matmul }, k::avx2::f32_rows_batch, { k::avx512::matmul, k::avx512vnni::matmul }, k::avx512::f32_rows_batch);
            if (!batch)
                return false;
            batch(out + begin, out_stride, x, tokens, w.floats() + begin * size_t(w.cols), w.cols, d);
        }
        return true;
    }
    case TensorType::Q4_0x8:
    case TensorType::Q4_Kx8:
    case TensorType::Q6_Kx8:
    case TensorType::Q8_0x8:
    case TensorType::Q5_Kx8: {
        // Every set with interleaved rows has these, VNNI's byte products included; chunks
        // and tiles start and end on groups of eight rows (row_granule's multiples). Q8_0x8
        // takes the group sums where they come (GGUF's inputs), as its one-token rows do.
        bool q6 = w.type == TensorType::Q6_Kx8, q8 = w.type == TensorType::Q8_0x8;
        if (q6 ? !inputs[0].sums16 : !q8 && !inputs[0].sums)
            return false;
        i32 kind = w.type == TensorType::Q4_0x8 ? 0 : w.type == TensorType::Q4_Kx8 ? 1 : q6 ? 2 : q8 ? 3 : 4;
        kernels::MatmulKBlocks const chosen_of_kind[] = { active.gguf_q4_0x8, active.gguf_q4_kx8, active.gguf_q6_kx8, active.gguf_q8_0x8, active.gguf_q5_kx8 };
        auto chosen = chosen_of_kind[kind];
        BatchKernel batch = nullptr;
        for (auto const& set : interleaved_sets)
            if (set.one_token[kind] == chosen)
                batch = set.batch[kind];
        if (!batch)
            return false;
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.cols, d);
        return true;
    }
    case TensorType::Q8x8: {
        // Every set with interleaved rows has its own (VNNI's byte products included); chunks
        // start and end on groups of eight rows, and their scales at 8i * cols / 32.
        auto const& chosen = active.matmul_q8x8;
        // avx2tcg's rows have none (see interleaved_sets): 110M int8's prompt ran at 4.1
        // tok/s in avx2's batches, 6.6 one by one, under qemu-i386.
        auto batch = chosen == k::avx2::matmul_q8x8 ? k::avx2::q8x8_rows_batch
            : chosen == k::avxvnni::matmul_q8x8     ? k::avxvnni::q8x8_rows_batch
            : chosen == k::avx512::matmul_q8x8      ? k::avx512::q8x8_rows_batch
            : chosen == k::avx512vnni::matmul_q8x8  ? k::avx512vnni::q8x8_rows_batch
                                                    : nullptr;
        if (!batch)
            return false;
        size_t first = begin * size_t(w.cols);
        batch(out + begin, out_stride, inputs.data(), tokens, w.row(begin), w.scales + first / 32, w.cols, d);
        return true;
    }
    default: return false;
    }
}

}
