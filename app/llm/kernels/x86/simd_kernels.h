#pragma once
// The SIMD kernels, written once against a thin vector interface V and instantiated per
// instruction set (sse2.cpp, avx2.cpp, avx512.cpp include this inside a target pragma).
// V provides: width, Vector, zero(), set1(), load(), load_halves() and load_bfloat16()
// (width IEEE halves or bfloat16 as floats), store(), add(), sub(), mul(), divide(), max(), min(), round(), power_of_two(),
// times_power_of_two(), fused_quotients (where true, with multiply_add(),
// negated_multiply_add() and any_not_at_least()), sum() (the halving fold of one vector),
// exp(), dot_i8(). The float operations follow fp32_order.h step for step (16 lanes,
// products rounded before they are added, the same polynomial), so every variant gives the
// reference's bits.
// Everything here is a template so each instruction set gets its own copy.
#include "../../block_quants.h"
#include "../../fp32_order.h"
#include "../../interleaved_blocks.h"
#include "../../k_quants.h"
#include "../../lane_masks.h"
#include "../../ops.h"
#include "../operations.h"
#include "prefetch.h"
#include <rt/math.h>
#include <rt/utility.h>

namespace llm::kernels::simd {

// fp32_order.h's lanes (16, or 32 for matrix rows), as lanes / width vectors.
template<typename V, i32 lane_count = fp32::sum_lanes>
struct Lanes {
    static constexpr i32 count = lane_count / V::width;
    static_assert(count * V::width == lane_count);
    typename V::Vector v[count];

    static Lanes zero()
    {
        Lanes lanes;
        for (auto& vector : lanes.v)
            vector = V::zero();
        return lanes;
    }
    // The halving fold: vectors first (lane l += lane l + half while half >= width), then
    // V::sum inside the last one.
    float fold() const
    {
        typename V::Vector f[count];
        for (i32 c = 0; c < count; ++c)
            f[c] = v[c];
        for (i32 k = count; k > 1; k /= 2)
            for (i32 c = 0; c < k / 2; ++c)
                f[c] = V::add(f[c], f[c + k / 2]);
        return V::sum(f[0]);
    }
};

// Rows of floats, or of IEEE halves or bfloat16 converted exactly as they are loaded.
template<typename V>
struct FloatRows {
    using Element = float;
    static typename V::Vector load(const float* p) { return V::load_stream(p); }
    static float scalar(const float* p) { return *p; }
};
template<typename V, bool bfloat16>
struct SixteenBitRows {
    using Element = u16;
    static typename V::Vector load(const u16* p)
    {
        if constexpr (bfloat16)
            return V::load_bfloat16(p);
        else
            return V::load_halves(p);
    }
    static float scalar(const u16* p)
    {
        u16 value;
        __builtin_memcpy(&value, p, sizeof value);
        return bfloat16 ? ops::bfloat16_to_float(value) : ops::half_to_float(value);
    }
};
template<typename V>
using HalfRows = SixteenBitRows<V, false>;
template<typename V>
using BfloatRows = SixteenBitRows<V, true>;

// `rows` rows of W against x at once (each load of x serves every row). Each row keeps its
// own 32 lanes, so its sum is the reference's.
template<typename V, typename Weights, i32 rows>
void matmul_rows(float* out, const float* x, const typename Weights::Element* w, i32 n)
{
    using RowLanes = Lanes<V, fp32::row_lanes>;
    constexpr i32 width = V::width, count = RowLanes::count;
    i32 lane_end = n - n % fp32::row_lanes;
    RowLanes acc[rows];
    for (auto& a : acc)
        a = RowLanes::zero();
    for (i32 j = 0; j < lane_end; j += fp32::row_lanes) {
        for (i32 r = 0; r < rows; ++r)
            x86::prefetch_ahead(w + size_t(r) * size_t(n) + size_t(j), sizeof(*w) * fp32::row_lanes);
        typename V::Vector xv[count];
        for (i32 c = 0; c < count; ++c)
            xv[c] = V::load(x + j + c * width);
        for (i32 r = 0; r < rows; ++r)
            for (i32 c = 0; c < count; ++c)
                acc[r].v[c] = V::add(acc[r].v[c], V::mul(Weights::load(w + size_t(r) * size_t(n) + size_t(j + c * width)), xv[c]));
    }
    for (i32 r = 0; r < rows; ++r) {
        const auto* row = w + size_t(r) * size_t(n);
        float s = acc[r].fold();
        for (i32 j = lane_end; j < n; ++j)
            s += Weights::scalar(row + j) * x[j];
        out[r] = s;
    }
}

// One row at a time: measured faster than two, four or eight interleaved rows on an AMD
// EPYC (the rows' separate streams seem to confuse its prefetchers more than they help).
template<typename V, typename Weights>
void matmul_any(float* out, const float* x, const typename Weights::Element* w, i32 n, i32 d)
{
    constexpr i32 rows = 1;
    i32 i = 0;
    for (; i + rows <= d; i += rows)
        matmul_rows<V, Weights, rows>(out + i, x, w + size_t(i) * size_t(n), n);
    for (; i < d; ++i)
        matmul_rows<V, Weights, 1>(out + i, x, w + size_t(i) * size_t(n), n);
}

// Vectors a batch kernel may keep its tokens' sums in: half the registers of the host
// x86-64 build (16), all but the row's of the 32-bit kernel's 8. More tokens at once there
// spilled their sums to the stack every step, which under QEMU's TCG are loads and stores
// through its soft MMU: the random 15M model's 64-token prompt ran at a median 25.8 tok/s
// with two tokens at a time, 29.1 with one (seven boots each, alternating, busy machine).
constexpr i32 batch_sum_vectors = sizeof(void*) == 8 ? 8 : 4;

// `Rows` rows of W against `Tokens` inputs at once (a batch of prompt tokens): each weight
// vector loaded serves every token and each input vector every row, and the sums of every
// (row, token), each in its own 32 lanes as matmul_rows keeps them (the reference's sum),
// are independent additions where one's would wait on the adder's latency. Token t's row
// r goes to out[t * out_stride + r].
template<typename V, typename Weights, i32 Rows, i32 Tokens>
void matmul_tile(float* out, size_t out_stride, const float* const* x, const typename Weights::Element* w, i32 n)
{
    using RowLanes = Lanes<V, fp32::row_lanes>;
    constexpr i32 width = V::width, count = RowLanes::count;
    i32 lane_end = n - n % fp32::row_lanes;
    RowLanes acc[Rows][Tokens];
    for (auto& row : acc)
        for (auto& a : row)
            a = RowLanes::zero();
    for (i32 j = 0; j < lane_end; j += fp32::row_lanes) {
        typename V::Vector wv[Rows][count];
        for (i32 r = 0; r < Rows; ++r)
            for (i32 c = 0; c < count; ++c)
                wv[r][c] = Weights::load(w + size_t(r) * size_t(n) + size_t(j + c * width));
        for (i32 t = 0; t < Tokens; ++t)
            for (i32 c = 0; c < count; ++c) {
                auto xv = V::load(x[t] + j + c * width);
                for (i32 r = 0; r < Rows; ++r)
                    acc[r][t].v[c] = V::add(acc[r][t].v[c], V::mul(wv[r][c], xv));
            }
    }
    for (i32 r = 0; r < Rows; ++r) {
        const auto* row = w + size_t(r) * size_t(n);
        for (i32 t = 0; t < Tokens; ++t) {
            float s = acc[r][t].fold();
            for (i32 j = lane_end; j < n; ++j)
                s += Weights::scalar(row + j) * x[t][j];
            out[size_t(t) * out_stride + size_t(r)] = s;
        }
    }
}

// AVX-512 on x86-64 has 32 vector registers: four rows times three tokens of two-vector
// lanes (24 sums, 8 weight vectors, 1 input) nearly fill them. On a Zen 5 EPYC (32 tokens,
// the 16-row tiles batch.cpp hands over, rows of 288 to 2048 floats) that ran 38-65 G
// products a second, against 19-36 for one row by four tokens; three rows by four tokens
// left a row of every tile to one-row passes and came out below.
template<typename V>
constexpr bool float_tiles = sizeof(void*) == 8 && V::width == 16;

// `d` rows against `tokens` inputs: token t's row i at out[t * out_stride + i], in tiles of
// `rows` rows by `block` tokens: where float_tiles, four rows by three tokens (the last two
// tokens as one tile of two); elsewhere one row by as many tokens as keep their lanes in
// batch_sum_vectors vectors. Rows and tokens left over go one at a time.
template<typename V, typename Weights>
void matmul_batch_any(float* out, size_t out_stride, const float* const* x, i32 tokens, const typename Weights::Element* w, i32 n, i32 d)
{
    constexpr i32 count = Lanes<V, fp32::row_lanes>::count;
    constexpr i32 rows = float_tiles<V> ? 4 : 1;
    constexpr i32 block = float_tiles<V> ? 3 : count >= batch_sum_vectors ? 1 : batch_sum_vectors / count;
    i32 i = 0;
    auto tiles = [&]<i32 Rows>() {
        const auto* row = w + size_t(i) * size_t(n);
        auto tile = [&]<i32 Tokens>(i32 t) {
            matmul_tile<V, Weights, Rows, Tokens>(out + size_t(t) * out_stride + size_t(i), out_stride, x + t, row, n);
        };
        i32 t = 0;
        for (; t + block <= tokens; t += block)
            tile.template operator()<block>(t);
        if constexpr (block == 3)
            if (tokens - t == 2) {
                tile.template operator()<2>(t);
                t += 2;
            }
        for (; t < tokens; ++t)
            tile.template operator()<1>(t);
    };
    for (; i + rows <= d; i += rows)
        tiles.template operator()<rows>();
    for (; i < d; ++i)
        tiles.template operator()<1>();
}

template<typename V>
void matmul(float* out, const float* x, const float* w, i32 n, i32 d)
{
    matmul_any<V, FloatRows<V>>(out, x, w, n, d);
}

// F16 and BF16 weights (GGUF): converted exactly, then the float product's order.
template<typename V>
void matmul_f16(float* out, const float* x, const u8* halves, i32 n, i32 d)
{
    matmul_any<V, HalfRows<V>>(out, x, reinterpret_cast<const u16*>(halves), n, d);
}
template<typename V>
void matmul_bf16(float* out, const float* x, const u8* halves, i32 n, i32 d)
{
    matmul_any<V, BfloatRows<V>>(out, x, reinterpret_cast<const u16*>(halves), n, d);
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
            // With VNNI, the input's group sums once per call for the rows' offsets
            // (int8_rows.h), up to 16384 columns on the stack.
            constexpr i32 most_groups = 512;
            i32 x_sums[V::exact_byte_products ? most_groups : 1];
            bool offset = V::exact_byte_products && n / 32 <= most_groups;
            if constexpr (V::exact_byte_products)
                if (offset)
                    V::block_sums(x_sums, xq, n / 32);
            in_passes<int8_rows_per_pass>(d, [&](auto count, i32 i) {
                size_t first = size_t(i) * size_t(n);
                if constexpr (V::exact_byte_products) {
                    if (offset) {
                        V::template int8_rows<decltype(count)::value>(out + i, xq, xs, x_sums, wq + first, ws + first / 32, n);
                        return;
                    }
                }
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

template<bool B>
struct Flag {
    static constexpr bool value = B;
};

// llama2.c int8 rows interleaved in groups of eight (Q8x8): interleaved_rows.h's kernels
// a group of rows at a time where this instruction set has them (with VNNI, the stored
// w + 128 against the input and the input's group sums, given or summed here once per
// call, up to 16384 columns on the stack), else the reference's gathering with this
// set's integer dot. Bit-identical to ops::matmul_q8 on the plain rows either way.
template<typename V>
void matmul_q8x8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* wq, const float* ws, i32 n, i32 d)
{
    if constexpr (requires { V::q8x8_rows(out, xq, xs, wq, ws, n, d); }) {
        V::q8x8_rows(out, xq, xs, wq, ws, n, d); // the whole call (avx2tcg)
        return;
    } else if constexpr (V::has_interleaved_rows) {
        i32 groups = n / 32;
        size_t rows_bytes = size_t(q8x8::group_rows) * size_t(n), scales_count = size_t(q8x8::group_rows) * size_t(groups);
        auto run = [&](auto offset, const i32* sums) {
            for (i32 i = 0; i < d; i += q8x8::group_rows) {
                size_t group = size_t(i / q8x8::group_rows);
                V::template q8x8_group<decltype(offset)::value>(out + i, xq, xs, sums, wq + group * rows_bytes, ws + group * scales_count, groups);
            }
        };
        if constexpr (V::exact_byte_products) {
            constexpr i32 most_groups = 512;
            i32 own_sums[most_groups];
            if (!xsums && groups <= most_groups) {
                V::block_sums(own_sums, xq, groups);
                xsums = own_sums;
            }
            if (xsums) {
                run(Flag<true> {}, xsums);
                return;
            }
        }
        run(Flag<false> {}, nullptr);
        return;
    }
    q8x8::rows(out, xq, xs, wq, ws, n, d, V::dot_i8);
}

// GGUF Q8_0 and Q4_0 rows: block_quants.h's accumulation, with this instruction set's
// row kernels where it has them (block_rows.h) or its unpacking and integer dot, so
// results are bit-identical to the reference.
template<typename V>
void matmul_q8_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    if constexpr (requires { V::q8_0_rows(out, xq, xs, blocks, n, d); }) {
        // Eight rows at a time (avx2tcg), the rest below.
        i32 grouped = d - d % 8;
        V::q8_0_rows(out, xq, xs, blocks, n, grouped);
        out += grouped, blocks += size_t(grouped) * size_t(n / 32) * block_bytes(TensorType::Q8_0), d -= grouped;
        if (d == 0)
            return;
    }
    if constexpr (V::has_block_rows) {
        // With VNNI, Q8_0 rows take an offset off too (block_rows.h): the input's block
        // sums once per call, as for Q4_0 below.
        constexpr i32 most_blocks = 512;
        constexpr bool offset = V::Q8_0::stored_offset != 0;
        if (!offset || n / 32 <= most_blocks) {
            i32 x_sums[offset ? most_blocks : 1];
            if constexpr (offset)
                V::block_sums(x_sums, xq, n / 32);
            size_t row_bytes = size_t(n / 32) * block_bytes(TensorType::Q8_0);
            in_passes<quantised_rows_per_pass>(d, [&](auto count, i32 i) {
                V::template rows<typename V::Q8_0, decltype(count)::value>(out + i, xq, xs, x_sums, blocks + size_t(i) * row_bytes, n / 32);
            });
            return;
        }
    }
    block_quants::rows(TensorType::Q8_0, out, xs, blocks, n, d,
        [&](const u8* block, i32 b) { return V::dot_i8(reinterpret_cast<const i8*>(block + 2), xq + b * 32, 32); });
}

// Q4_0 and IQ4_NL rows (an f16 scale and 16 bytes of nibbles a block): block_rows.h's
// kernels where this set has them, else the reference's gathering with this set's
// unpacking and integer dot. Bit-identical to the reference either way.
template<typename V, TensorType type>
void nibble_block_rows(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_block_rows) {
        // The input's block sums, once per call (up to 16384 columns: 2 KiB of stack;
        // wider rows take the generic path below).
        constexpr i32 most_blocks = 512;
        if (n / 32 <= most_blocks) {
            i32 x_sums[most_blocks];
            V::block_sums(x_sums, xq, n / 32);
            size_t row_bytes = size_t(n / 32) * block_bytes(type);
            in_passes<quantised_rows_per_pass>(d, [&](auto count, i32 i) {
                constexpr i32 rows = decltype(count)::value;
                const u8* first = blocks + size_t(i) * row_bytes;
                if constexpr (type == TensorType::Q4_0)
                    V::template rows<typename V::Q4_0, rows>(out + i, xq, xs, x_sums, first, n / 32);
                else
                    V::template rows<typename V::IQ4_NL, rows>(out + i, xq, xs, x_sums, first, n / 32);
            });
            return;
        }
    }
    alignas(32) i8 values[32];
    block_quants::rows(type, out, xs, blocks, n, d, [&](const u8* block, i32 b) {
        if constexpr (type == TensorType::Q4_0)
            V::unpack_q4(block + 2, values);
        else
            block_quants::unpack_iq4(block + 2, values);
        return V::dot_i8(values, xq + b * 32, 32);
    });
}

template<typename V>
void matmul_q4_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    nibble_block_rows<V, TensorType::Q4_0>(out, xq, xs, blocks, n, d);
}

template<typename V>
void matmul_iq4_nl(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
{
    nibble_block_rows<V, TensorType::IQ4_NL>(out, xq, xs, blocks, n, d);
}

// IQ4_XS rows: block_rows.h's kernels where this set has them, else the reference's
// table lookup with this set's integer dot.
template<typename V>
void matmul_iq4_xs(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_block_rows) {
        size_t row_bytes = size_t(n / 256) * block_quants::iq4_xs::bytes;
        in_passes<quantised_rows_per_pass>(d, [&](auto count, i32 i) {
            V::template iq4_xs_rows<decltype(count)::value>(out + i, xq, xs, xsums, blocks + size_t(i) * row_bytes, n / 256);
        });
        return;
    }
    alignas(32) i8 values[32];
    block_quants::iq4_xs::rows(out, xs, blocks, n, d, [&](const u8* nibbles, i32 g) {
        block_quants::unpack_iq4(nibbles, values);
        return V::dot_i8(values, xq + g * 32, 32);
    });
}

// Q4_0 rows interleaved in groups of eight: interleaved_rows.h's kernels a group at a
// time where this instruction set has them, else the reference's gathering with this
// set's unpacking and integer dot. Bit-identical to the reference either way.
template<typename V>
void matmul_q4_0x8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (requires { V::q4_0x8_rows(out, xq, xs, xsums, blocks, n, d); }) {
        V::q4_0x8_rows(out, xq, xs, xsums, blocks, n, d); // the whole call (avx2tcg)
        return;
    } else if constexpr (V::has_interleaved_rows) {
        i32 per_row = n / 32;
        size_t group_bytes = size_t(per_row) * q4_0x8::group_rows * q4_0x8::plain_bytes;
        for (i32 i = 0; i < d; i += q4_0x8::group_rows)
            V::q4_0x8_group(out + i, xq, xs, xsums, blocks + size_t(i / q4_0x8::group_rows) * group_bytes, per_row);
        return;
    }
    alignas(32) i8 values[32];
    q4_0x8::rows(out, xs, blocks, n, d, [&](const u8* block, i32 b) {
        V::unpack_q4(block + 2, values);
        return V::dot_i8(values, xq + b * 32, 32);
    });
}

// Q8_0 rows interleaved in groups of eight, in the same manner: with VNNI the stored
// w + 128 against the input and its group sums (GGUF inputs come with them), without it
// the values flipped back (interleaved_rows.h's q8x8_integers).
template<typename V>
void matmul_q8_0x8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (requires { V::q8_0x8_rows(out, xq, xs, xsums, blocks, n, d); }) {
        V::q8_0x8_rows(out, xq, xs, xsums, blocks, n, d); // the whole call (avx2tcg)
        return;
    } else if constexpr (V::has_interleaved_rows) {
        i32 per_row = n / 32;
        size_t group_bytes = size_t(per_row) * q8_0x8::group_rows * q8_0x8::plain_bytes;
        auto run = [&](auto offset) {
            for (i32 i = 0; i < d; i += q8_0x8::group_rows)
                V::template q8_0x8_group<decltype(offset)::value>(out + i, xq, xs, xsums, blocks + size_t(i / q8_0x8::group_rows) * group_bytes, per_row);
        };
        if constexpr (V::exact_byte_products)
            if (xsums) {
                run(Flag<true> {});
                return;
            }
        run(Flag<false> {});
        return;
    }
    q8_0x8::rows(out, xs, blocks, n, d, [&](const u8* block, i32 b) { return V::dot_i8(reinterpret_cast<const i8*>(block + 2), xq + b * 32, 32); });
}

// Interleaved rows (256 columns a block) group after group: kernel(first row, the group's
// octets, blocks per row) for the groups of eight rows of a d-row matrix.
template<typename Octets, typename Kernel>
void for_each_group(const u8* blocks, i32 n, i32 d, Kernel&& kernel)
{
    i32 per_row = n / 256;
    size_t group_bytes = size_t(per_row) * Octets::octet_bytes;
    for (i32 i = 0; i < d; i += Octets::group_rows)
        kernel(i, blocks + size_t(i / Octets::group_rows) * group_bytes, per_row);
}

// Q4_K rows interleaved in groups of eight, as Q8_0 rows are above.
template<typename V>
void matmul_q4_kx8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (requires { V::q4_kx8_rows(out, xq, xs, xsums, blocks, n, d); }) {
        V::q4_kx8_rows(out, xq, xs, xsums, blocks, n, d); // the whole call (avx2tcg)
        return;
    } else if constexpr (V::has_interleaved_rows) {
        for_each_group<q4_kx8::Octets>(blocks, n, d, [&](i32 i, const u8* group, i32 per_row) {
            V::q4_kx8_group(out + i, xq, xs, xsums, group, per_row);
        });
        return;
    }
    q4_kx8::rows(out, xq, xs, xsums, blocks, n, d, V::dot_i8);
}

// Q5_K rows interleaved in groups of eight: Q4_Kx8's kernels with the fifth bits.
template<typename V>
void matmul_q5_kx8(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_interleaved_rows) {
        for_each_group<q5_kx8::Octets>(blocks, n, d, [&](i32 i, const u8* group, i32 per_row) {
            V::q5_kx8_group(out + i, xq, xs, xsums, group, per_row);
        });
        return;
    }
    q5_kx8::rows(out, xq, xs, xsums, blocks, n, d, V::dot_i8);
}

// Q6_K rows interleaved in groups of eight: the input's 16-value sums once per call for
// the offsets (up to 16384 columns on the stack; wider rows take the reference's path).
template<typename V>
void matmul_q6_kx8(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
{
    if constexpr (V::has_interleaved_rows) {
        constexpr i32 most_sums = 1024;
        if (n / 16 <= most_sums) {
            i32 x_sums16[most_sums];
            for (i32 t = 0; t < n / 16; ++t) {
                i32 sum = 0;
                for (i32 j = 0; j < 16; ++j)
                    sum += xq[16 * t + j];
                x_sums16[t] = sum;
            }
            for_each_group<q6_kx8::Octets>(blocks, n, d, [&](i32 i, const u8* group, i32 per_row) {
                V::q6_kx8_group(out + i, xq, xs, x_sums16, group, per_row);
            });
            return;
        }
    }
    q6_kx8::rows(out, xq, xs, blocks, n, d, V::dot_i8);
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
        // Q6_K's offsets through the input's 16-value sums, once per call (up to 16384
        // columns: 2 KiB of stack; wider rows take them off group by group).
        constexpr i32 most_sums = 1024;
        alignas(32) i16 x_sums16[q6 ? most_sums : 1];
        bool with_sums = q6 && n / 16 <= most_sums;
        if (with_sums)
            V::sixteen_sums(x_sums16, xq, n / 16);
        in_passes<quantised_rows_per_pass>(d, [&](auto count, i32 i) {
            const u8* first = blocks + size_t(i) * size_t(per_row) * block_bytes;
            if constexpr (q6) {
                if (with_sums)
                    V::template q6_k_rows<decltype(count)::value>(out + i, xq, xs, x_sums16, first, per_row);
                else
                    V::template q6_k_rows<decltype(count)::value>(out + i, xq, xs, first, per_row);
            }
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
    constexpr i32 width = V::width;
    i32 lane_end = n - n % fp32::sum_lanes;
    auto acc = Lanes<V>::zero();
    for (i32 i = 0; i < lane_end; i += fp32::sum_lanes)
        for (i32 c = 0; c < Lanes<V>::count; ++c)
            acc.v[c] = V::add(acc.v[c], V::mul(V::load(a + i + c * width), V::load(b + i + c * width)));
    float s = acc.fold();
    for (i32 i = lane_end; i < n; ++i)
        s += a[i] * b[i];
    return s;
}

template<typename V>
void attention_scores(float* scores, const float* q, const float* keys, size_t stride, i32 count, i32 n, float scale)
{
    for (i32 t = 0; t < count; ++t)
        scores[t] = dot<V>(q, keys + size_t(t) * stride, n) / scale;
}

// ops::weighted_sum with up to four vectors of the output held in registers across the
// positions: each element still gets out = 0, then out + weight * value position by
// position (the reference's steps), loaded and stored once instead of once per position.
template<typename V>
void weighted_sum(float* out, const float* weights, const float* values, size_t stride, i32 count, i32 n)
{
    constexpr i32 width = V::width;
    auto columns = [&]<i32 Vectors>(i32 first) {
        typename V::Vector sums[Vectors];
        for (auto& sum : sums)
            sum = V::zero();
        for (i32 t = 0; t < count; ++t) {
            auto weight = V::set1(weights[t]);
            const float* row = values + size_t(t) * stride + size_t(first);
            for (i32 v = 0; v < Vectors; ++v)
                sums[v] = V::add(sums[v], V::mul(weight, V::load(row + v * width)));
        }
        for (i32 v = 0; v < Vectors; ++v)
            V::store(out + first + v * width, sums[v]);
    };
    i32 i = 0;
    for (; i + 4 * width <= n; i += 4 * width)
        columns.template operator()<4>(i);
    for (; i + width <= n; i += width)
        columns.template operator()<1>(i);
    for (; i < n; ++i) {
        float sum = 0.0f;
        for (i32 t = 0; t < count; ++t)
            sum += weights[t] * values[size_t(t) * stride + size_t(i)];
        out[i] = sum;
    }
}

template<typename V>
void rmsnorm(float* out, const float* x, const float* weight, i32 size, float epsilon)
{
    float sum_of_squares = fp32::sum_of_squares(x, size);
    sum_of_squares = sum_of_squares / float(size) + epsilon;
    float scale = 1.0f / rt::math::sqrtf(sum_of_squares);
    i32 vector_end = size - size % V::width;
    auto sv = V::set1(scale);
    for (i32 j = 0; j < vector_end; j += V::width)
        V::store(out + j, V::mul(V::load(weight + j), V::mul(sv, V::load(x + j))));
    for (i32 j = vector_end; j < size; ++j)
        out[j] = weight[j] * (scale * x[j]);
}

// x[i] / divisor for the first `count` values (a multiple of the width), with V::divide's
// bits. Where V::fused_quotients, by Markstein's correction rather than a division (one per
// ~10 cycles at best): with y = 1 / divisor correctly rounded and q = x * y, the remainder
// r = x - q * divisor is exact in an FMA, and q + r * y, rounded once, is the correctly
// rounded quotient as long as no step leaves the normal floats (P. Markstein, "Computation
// of elementary functions on the IBM RISC System/6000 processor", 1990; checked against
// vdivps for all 2^23 significands of x and 30,000 divisors). A remainder too small to be
// normal is far below half an ulp of q, so flushing it to zero changes nothing. Hence the
// bounds: divisors in [1, 2^20] (a softmax's sum is at least the 1 of its largest value),
// and vectors with a lane below 2^-100 (or NaN) divided.
template<typename V>
void divide_all(float* x, i32 count, float divisor)
{
    auto d = V::set1(divisor);
    if constexpr (V::fused_quotients) {
        if (divisor >= 1.0f && divisor <= 0x1p20f) {
            auto y = V::divide(V::set1(1.0f), d);
            auto smallest = V::set1(0x1p-100f);
            for (i32 i = 0; i < count; i += V::width) {
                auto a = V::load(x + i);
                if (V::any_not_at_least(a, smallest)) {
                    V::store(x + i, V::divide(a, d));
                    continue;
                }
                auto q = V::mul(a, y);
                V::store(x + i, V::multiply_add(V::negated_multiply_add(q, d, a), y, q));
            }
            return;
        }
    }
    for (i32 i = 0; i < count; i += V::width)
        V::store(x + i, V::divide(V::load(x + i), d));
}

// The largest of x[0..size), and in `finite` whether every value is finite: the vectors in
// four independent maxima (one would wait for the one before), and beside them x * 0 added
// up, which stays 0 until a NaN or an infinity makes it NaN.
template<typename V>
float maximum_if_finite(const float* x, i32 size, bool& finite)
{
    constexpr i32 width = V::width, ways = 4;
    i32 vector_end = size - size % width;
    float max_value = x[0];
    finite = true;
    if (vector_end) {
        typename V::Vector maxima[ways], zeros[ways];
        for (i32 w = 0; w < ways; ++w)
            maxima[w] = V::load(x), zeros[w] = V::zero();
        i32 i = 0;
        for (; i + ways * width <= vector_end; i += ways * width)
            for (i32 w = 0; w < ways; ++w) {
                auto v = V::load(x + i + w * width);
                maxima[w] = V::max(maxima[w], v);
                zeros[w] = V::add(zeros[w], V::mul(v, V::zero()));
            }
        for (; i < vector_end; i += width) {
            auto v = V::load(x + i);
            maxima[0] = V::max(maxima[0], v);
            zeros[0] = V::add(zeros[0], V::mul(v, V::zero()));
        }
        float lanes[width], flags[width];
        V::store(lanes, V::max(V::max(maxima[0], maxima[1]), V::max(maxima[2], maxima[3])));
        V::store(flags, V::add(V::add(zeros[0], zeros[1]), V::add(zeros[2], zeros[3])));
        for (i32 l = 0; l < width; ++l) {
            max_value = rt::max(max_value, lanes[l]);
            finite &= flags[l] == 0.0f;
        }
    }
    for (i32 i = vector_end; i < size; ++i) {
        max_value = rt::max(max_value, x[i]);
        finite &= x[i] * 0.0f == 0.0f;
    }
    return max_value;
}

// fp32::exp on N vectors, step for step, each step across all of them before the next: one
// exponential is a chain of ~20 dependent operations, and written one after the other the
// chains filled the scheduler before the next could start. The exponentials of 32,000
// logits on a Zen 5 EPYC with AVX-512: 7.9 us one vector at a time, 6.0 four at a time, 5.6
// eight at a time; the whole softmax 10.1 -> 7.8 us (AVX2 19.5 -> 16.0). The same steps
// per lane, so the same bits.
template<typename V, i32 N>
void exp_polynomials(typename V::Vector (&x)[N])
{
    using namespace fp32::exp_constants;
    typename V::Vector k[N], r[N], p[N];
    for (i32 v = 0; v < N; ++v) {
        x[v] = V::max(V::min(x[v], V::set1(highest)), V::set1(lowest));
        k[v] = V::round(V::mul(x[v], V::set1(log2e)));
    }
    for (i32 v = 0; v < N; ++v)
        r[v] = V::sub(V::sub(x[v], V::mul(k[v], V::set1(ln2_high))), V::mul(k[v], V::set1(ln2_low)));
    for (i32 v = 0; v < N; ++v)
        p[v] = V::set1(coefficients[0]);
    for (i32 i = 1; i < 8; ++i)
        for (i32 v = 0; v < N; ++v)
            p[v] = V::add(V::mul(p[v], r[v]), V::set1(coefficients[i]));
    for (i32 v = 0; v < N; ++v)
        x[v] = V::times_power_of_two(p[v], k[v]);
}

template<typename V>
typename V::Vector exp_polynomial(typename V::Vector x)
{
    typename V::Vector one[1] = { x };
    exp_polynomials<V>(one);
    return one[0];
}

template<typename V>
float softmax(float* x, i32 size)
{
    constexpr i32 width = V::width;
    i32 vector_end = size - size % width;
    bool finite;
    float max_value = maximum_if_finite<V>(x, size, finite);
    i32 lane_end = size - size % fp32::sum_lanes;
    auto total = Lanes<V>::zero();
    auto maximum = V::set1(max_value);
    // Each group of 16 lanes added to the total in order, the exponentials of several groups
    // computed together (exp_polynomials): eight vectors at a time, two on i686, whose eight
    // vector registers hold no more.
    constexpr i32 count = Lanes<V>::count, vectors = sizeof(void*) == 8 ? 8 : 2;
    constexpr i32 groups = vectors > count ? vectors / count : 1;
    auto exponentials = [&]<i32 Groups>(i32 first) {
        typename V::Vector e[Groups * count];
        for (i32 v = 0; v < Groups * count; ++v)
            e[v] = V::sub(V::load(x + first + v * width), maximum);
        exp_polynomials<V>(e);
        for (i32 v = 0; v < Groups * count; ++v) {
            V::store(x + first + v * width, e[v]);
            total.v[v % count] = V::add(total.v[v % count], e[v]);
        }
    };
    i32 i = 0;
    for (; i + groups * fp32::sum_lanes <= lane_end; i += groups * fp32::sum_lanes)
        exponentials.template operator()<groups>(i);
    for (; i < lane_end; i += fp32::sum_lanes)
        exponentials.template operator()<1>(i);
    float sum = total.fold();
    for (i32 i = lane_end; i < size; ++i) {
        x[i] = fp32::exp(x[i] - max_value);
        sum += x[i];
    }
    divide_all<V>(x, vector_end, sum);
    for (i32 i = vector_end; i < size; ++i)
        x[i] /= sum;
    return finite ? sum : __builtin_nanf("");
}

// ops::rounded_units, a vector of tokens at a time. A lane's float bits are added up as
// integers and the shifter's bits taken off once per token at the end of a block: the
// wrapping sums then give the block's units exactly (below 2^32: rounded_units.h). A token
// is halfway when what the rounding took off is half an ulp in size (it is never more): the
// largest of those in the block tells whether one is.
template<typename V>
llm::RoundedUnits rounded_units(const float* tokens, u32 count, float shifter, u64 limit)
{
    u32 base = __builtin_bit_cast(u32, shifter);
    float half_ulp = (shifter / 12582912.0f) * 0.5f; // exact: powers of two
    auto shifters = V::set1(shifter), halves = V::set1(half_ulp);
    llm::RoundedUnits result { 0, count };
    for (u32 begin = 0; begin < count && result.units < limit; begin += llm::rounded_units_block) {
        u32 end = begin + llm::rounded_units_block < count ? begin + llm::rounded_units_block : count;
        u32 vector_end = begin + (end - begin) / V::width * V::width;
        auto sums = V::bits_zero();
        auto largest_rest = V::zero();
        for (u32 i = begin; i < vector_end; i += V::width) {
            auto p = V::load(tokens + i);
            auto rounded = V::add(p, shifters);
            sums = V::add_bits(sums, rounded);
            largest_rest = V::max(largest_rest, V::abs(V::sub(p, V::sub(rounded, shifters))));
        }
        u32 units = V::sum_bits(sums) - base * (vector_end - begin);
        bool halfway = V::at_least_mask(largest_rest, halves) != 0;
        for (u32 i = vector_end; i < end; ++i) {
            float rounded = tokens[i] + shifter;
            float rest = tokens[i] - (rounded - shifter);
            units += __builtin_bit_cast(u32, rounded) - base;
            halfway = halfway || rest == half_ulp || rest == -half_ulp;
        }
        if (halfway) { // the reference finds the block's first halfway token
            auto block = ops::rounded_units(tokens + begin, end - begin, shifter, ~u64(0));
            return { result.units + block.units, begin + block.halfway_at };
        }
        result.units += units;
    }
    return result;
}

// ops::select_candidates: a vector's values tested at once, a vector with none skipped
// (most, for the peaked distributions of trained models); V::compress_candidates (AVX-512)
// writes a vector's kept pairs in a few instructions, other sets write every pair of the
// vector and advance past the kept ones only, without a branch.
template<typename V>
size_t select_candidates(const float* values, i32 count, float floor, llm::Candidate* out)
{
    auto threshold = V::set1(floor);
    size_t kept = 0;
    i32 i = 0;
    for (; i + V::width <= count; i += V::width) {
        auto v = V::load(values + i);
        u32 mask = V::at_least_mask(v, threshold);
        if (!mask)
            continue;
        if constexpr (requires { V::compress_candidates(out, v, i, mask); })
            kept += V::compress_candidates(out + kept, v, i, mask);
        else
            for (i32 l = 0; l < V::width; ++l) {
                out[kept] = { values[i + l], i + l };
                kept += (mask >> l) & 1;
            }
    }
    for (; i < count; ++i) {
        out[kept] = { values[i], i };
        kept += values[i] >= floor;
    }
    return kept;
}

// ops::bin_tail for the sixteen tokens from `first` in four SSE2 vectors (every set has them),
// for the sets that cannot bin them in one: the bins packed to 16 bits, the values above the
// threshold stored without a branch, the exact tokens listed by their mask.
// A template of the set, as everything here: each set compiles its own (under its target).
template<typename V>
void bin_tail_sse2(const float* values, i32 first, float cutoff, float threshold, float scale, llm::TailBinning& out)
{
    __m128 low = _mm_set1_ps(cutoff), high = _mm_set1_ps(threshold), scaling = _mm_set1_ps(scale);
    __m128i spare[2] = { _mm_setr_epi32(llm::spare_bin, llm::spare_bin + 1, llm::spare_bin + 2, llm::spare_bin + 3),
        _mm_setr_epi32(llm::spare_bin + 4, llm::spare_bin + 5, llm::spare_bin + 6, llm::spare_bin + 7) };
    u32 above = 0, exact = 0;
    __m128i bins[4];
    for (i32 v = 0; v < 4; ++v) {
        __m128 p = _mm_loadu_ps(values + first + 4 * v);
        __m128 over = _mm_cmpge_ps(p, high);
        __m128 tail = _mm_andnot_ps(over, _mm_cmpge_ps(p, low));
        __m128 scaled = _mm_mul_ps(p, scaling);
        __m128i bin = _mm_cvttps_epi32(scaled);
        __m128 on_edge = _mm_and_ps(_mm_cmpeq_ps(_mm_cvtepi32_ps(bin), scaled), tail);
        __m128i counted = _mm_castps_si128(_mm_andnot_ps(on_edge, tail));
        bins[v] = _mm_or_si128(_mm_and_si128(counted, bin), _mm_andnot_si128(counted, spare[v % 2]));
        above |= u32(_mm_movemask_ps(over)) << (4 * v);
        exact |= u32(_mm_movemask_ps(on_edge)) << (4 * v);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.bins + first), _mm_packs_epi32(bins[0], bins[1]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.bins + first + 8), _mm_packs_epi32(bins[2], bins[3]));
    // Every value stored, the count advanced by those above: a branch on them would be
    // mispredicted in most blocks of a flat distribution (one token in ~16 is above).
    float* to = out.above + out.above_count;
    u32 stored = 0;
    for (i32 lane = 0; lane < 16; ++lane) {
        to[stored] = values[first + lane];
        stored += above >> lane & 1;
    }
    out.above_count += stored;
    llm::list_exact(out, first, exact);
}

// ops::bin_tail, sixteen tokens at a time: in one vector where the set can (AVX-512:
// V::bin_tail_vector), else in four SSE2 vectors; the tokens after the last sixteen as the
// reference takes them.
template<typename V>
void bin_tail(const float* values, i32 count, float cutoff, float threshold, float scale, llm::TailBinning& out)
{
    // A copy the stores through its pointers cannot alias (they could `out`), so that its
    // counts stay in registers.
    llm::TailBinning local = out;
    local.above_count = local.exact_count = 0;
    i32 i = 0;
    for (; i + 16 <= count; i += 16) {
        if constexpr (requires { V::bin_tail_vector(values, i, cutoff, threshold, scale, local); })
            V::bin_tail_vector(values, i, cutoff, threshold, scale, local);
        else
            bin_tail_sse2<V>(values, i, cutoff, threshold, scale, local);
    }
    for (; i < count; ++i)
        llm::bin_tail_token(local, i, values[i], cutoff, threshold, values[i] * scale);
    out = local;
}

template<typename V>
void swiglu(float* hb, const float* hb2, i32 size)
{
    i32 vector_end = size - size % V::width;
    auto one = V::set1(1.0f);
    auto minus_one = V::set1(-1.0f);
    for (i32 i = 0; i < vector_end; i += V::width) {
        auto value = V::load(hb + i);
        auto sigmoid = V::divide(one, V::add(one, V::exp(V::mul(value, minus_one))));
        V::store(hb + i, V::mul(V::mul(value, sigmoid), V::load(hb2 + i)));
    }
    for (i32 i = vector_end; i < size; ++i) {
        float value = hb[i];
        value *= 1.0f / (1.0f + fp32::exp(value * -1.0f));
        hb[i] = value * hb2[i];
    }
}

// ops::quantize in vectors: per group the largest magnitude (a maximum: any order gives
// the same), its scale, then every value divided by it and rounded half away from zero, as
// the reference's branch-free path does. A group with an infinity or a NaN (x * 0 is then
// NaN, else 0) or a scale below the normal floats goes to the reference, which handles
// those value by value; so do groups the vectors do not divide.
template<typename V>
void quantize(i8* q, float* scales, const float* x, i32 n, i32 group)
{
    if (group % V::width) {
        ops::quantize(q, scales, x, n, group);
        return;
    }
    for (i32 g = 0; g < n / group; ++g) {
        const float* values = x + g * group;
        auto largest = V::zero(), finite_zero = V::zero();
        for (i32 i = 0; i < group; i += V::width) {
            auto v = V::load(values + i);
            largest = V::max(largest, V::abs(v));
            finite_zero = V::add(finite_zero, V::mul(v, V::zero()));
        }
        float lanes[V::width];
        V::store(lanes, largest);
        float most = 0.0f;
        for (float lane : lanes)
            most = rt::max(most, lane);
        float scale = most / 127.0f;
        if (!(V::sum(finite_zero) == 0.0f) || !(scale >= 1.17549435e-38f)) {
            ops::quantize(q + g * group, scales + g, values, group, group);
            continue;
        }
        scales[g] = scale;
        auto divisor = V::set1(scale);
        for (i32 i = 0; i < group; i += V::width)
            V::round_half_away_to_bytes(q + g * group + i, V::divide(V::load(values + i), divisor));
    }
}

}

// The entry points entry_points.h declares, defined once for an instruction set's traits V
// (used inside each ISA file's namespace, within its target pragma): each forwards to the
// template of the same name.
#define BAREFLOW_SIMD_ENTRY_POINT(type, result, name, parameters, arguments, V) \
    result name parameters { return simd::name<V> arguments; }
#define BAREFLOW_SIMD_ENTRY_POINTS(V) BAREFLOW_KERNEL_FUNCTIONS(BAREFLOW_SIMD_ENTRY_POINT, V)
