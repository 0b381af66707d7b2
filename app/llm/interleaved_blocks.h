#pragma once
// Q4_0x8: Q4_0 rows repacked at load (interleave.cpp) in groups of eight, so that a SIMD
// kernel multiplies one broadcast slice of the input with the same slice of eight rows and
// each int32 lane ends up holding one row's block sum: no horizontal sums per (row, block),
// the block's float terms lane for lane (lane = row) and tree_sum8's tree as vertical adds.
//
// A group of eight rows of `per_row` blocks takes their 144 * per_row bytes, blocks in
// pairs of 288 bytes (the last one alone when per_row is odd):
//   128 bytes  block b's nibbles: four chunks of 32 bytes; chunk c has row r's packed
//              bytes 4c..4c+3 at 4r..4r+3, whose low nibbles are values 4c..4c+3 and
//              high nibbles values 16+4c..16+4c+3 (Q4_0 keeps value k in byte k's low
//              nibble, k+16 in its high one)
//   128 bytes  block b+1's nibbles
//   16 bytes   block b's eight f16 scales, row r's at 2r
//   16 bytes   block b+1's
// So a 32-byte load of chunk c, masked, is the values 4c..4c+3 of every row, one row per
// 32-bit lane (shifted by 4 first: values 16+4c..), to be multiplied by the input's
// values at the same positions broadcast to every lane. Pairs keep every load on a
// multiple of 32 bytes from the group's start (GGUF aligns tensors to 32), so none
// straddles a cache line (with each block's 16 bytes of scales before its chunks, every
// other chunk load would). A group takes the bytes of its eight plain rows, so the
// repack is in place and Tensor::row(8g) still finds group g.
#include "block_quants.h"
#include "k_quants.h"
#include "q5_quants.h"
#include <rt/types.h>

namespace llm::paired_blocks {
namespace {

// The layout Q4_0x8 (above) and Q8_0x8 (below) share: a group of eight rows' 32-value
// blocks, each `ChunksBytes` of values and 16 bytes of f16 scales, in pairs whose values
// come first, the last block alone when a row has an odd number of blocks.
template<size_t ChunksBytes>
struct Layout {
    static constexpr i32 group_rows = 8;
    static constexpr size_t chunks_bytes = ChunksBytes, scales_bytes = 2 * group_rows, pair_bytes = 2 * (chunks_bytes + scales_bytes);

    // Block b of a group of rows of `per_row` blocks: where its chunks and its scales are.
    struct Block {
        const u8* chunks;
        const u8* scales;
    };
    static size_t chunks_at(i32 b) { return size_t(b / 2) * pair_bytes + size_t(b % 2) * chunks_bytes; }
    static size_t scales_at(i32 per_row, i32 b)
    {
        size_t in_pair = per_row - b / 2 * 2 >= 2 ? 2 : 1;
        return size_t(b / 2) * pair_bytes + in_pair * chunks_bytes + size_t(b % 2) * scales_bytes;
    }
    static Block block_of(const u8* group, i32 per_row, i32 b) { return { group + chunks_at(b), group + scales_at(per_row, b) }; }

    // `d` interleaved rows (d a multiple of 8, `groups` starting at a group) computed as
    // block_quants::rows computes the plain rows: each row's blocks gathered back one by one
    // (gather(block, r, plain): `PlainBytes` each) and given to block_integer(plain block, b),
    // then the same float terms and tree. The scalar reference, and the instruction sets
    // without interleaved kernels.
    template<size_t PlainBytes, typename Gather, typename BlockInteger>
    static void rows(float* out, const float* xs, const u8* groups, i32 n, i32 d, Gather const& gather, BlockInteger const& block_integer)
    {
        static_assert(chunks_bytes + scales_bytes == group_rows * PlainBytes);
        i32 per_row = n / 32;
        size_t group_bytes = size_t(per_row) * group_rows * PlainBytes;
        for (i32 i = 0; i < d; ++i) {
            const u8* group = groups + size_t(i / group_rows) * group_bytes;
            out[i] = block_quants::row_sum(per_row, [&](i32 b) {
                u8 block[PlainBytes];
                gather(block_of(group, per_row, b), i % group_rows, block);
                return block_quants::term(block_integer(block, b), block, xs[b]);
            });
        }
    }
};

}
}

namespace llm::q4_0x8 {
namespace {

using Layout = paired_blocks::Layout<128>;
using Block = Layout::Block;
constexpr i32 group_rows = Layout::group_rows;
constexpr size_t plain_bytes = 18; // one Q4_0 block
inline size_t chunks_at(i32 b) { return Layout::chunks_at(b); }
inline size_t scales_at(i32 per_row, i32 b) { return Layout::scales_at(per_row, b); }
inline Block block_of(const u8* group, i32 per_row, i32 b) { return Layout::block_of(group, per_row, b); }

// Row r's block in Q4_0's own layout.
inline void gather(Block from, i32 r, u8* block)
{
    block[0] = from.scales[2 * r];
    block[1] = from.scales[2 * r + 1];
    for (size_t c = 0; c < 4; ++c)
        __builtin_memcpy(block + 2 + 4 * c, from.chunks + 32 * c + 4 * size_t(r), 4);
}

// The inverse: row r's plain block into block b of a group.
inline void scatter(const u8* block, i32 r, u8* group, i32 per_row, i32 b)
{
    u8* chunks = group + chunks_at(b);
    u8* scales = group + scales_at(per_row, b);
    scales[2 * r] = block[0];
    scales[2 * r + 1] = block[1];
    for (size_t c = 0; c < 4; ++c)
        __builtin_memcpy(chunks + 32 * c + 4 * size_t(r), block + 2 + 4 * c, 4);
}

// The scalar reference (paired_blocks::Layout::rows).
template<typename BlockInteger>
void rows(float* out, const float* xs, const u8* groups, i32 n, i32 d, BlockInteger const& block_integer)
{
    Layout::rows<plain_bytes>(out, xs, groups, n, d, gather, block_integer);
}

}
}

// The k-quant types' octets (Q4_Kx8, Q5_Kx8, Q6_Kx8 below): super-block b of a group of
// eight rows takes their eight plain blocks' bytes at b * octet_bytes, each row's block cut
// into the pieces its type's Layout names (Layout::pieces(r, move) calls move(plain
// offset, octet offset, bytes) for each piece of row r's block). Moving the pieces one way
// scatters a row's block in, the other gathers it back, and the scalar reference is the
// plain type's on the gathered blocks.
namespace llm::octets {
namespace {

template<typename Layout>
struct Octets {
    static constexpr i32 group_rows = 8;
    static constexpr size_t plain_bytes = Layout::plain_bytes, octet_bytes = group_rows * plain_bytes;

    static const u8* octet(const u8* group, i32 block) { return group + size_t(block) * octet_bytes; }
    static void gather(const u8* octet, i32 r, u8* block)
    {
        Layout::pieces(r, [&](size_t plain, size_t at, size_t bytes) { __builtin_memcpy(block + plain, octet + at, bytes); });
    }
    static void scatter(const u8* block, i32 r, u8* group, i32, i32 b)
    {
        u8* to = group + size_t(b) * octet_bytes;
        Layout::pieces(r, [&](size_t plain, size_t at, size_t bytes) { __builtin_memcpy(to + at, block + plain, bytes); });
    }
    // `d` interleaved rows of n / 256 super-blocks: each row's blocks gathered back and
    // added by block_dot(value, block, b), the plain reference's step for block b.
    template<typename BlockDot>
    static void rows(float* out, const u8* groups, i32 n, i32 d, BlockDot const& block_dot)
    {
        i32 per_row = n / 256;
        size_t group_bytes = size_t(per_row) * octet_bytes;
        for (i32 i = 0; i < d; ++i) {
            const u8* group = groups + size_t(i / group_rows) * group_bytes;
            float value = 0.0f;
            for (i32 b = 0; b < per_row; ++b) {
                u8 block[Layout::plain_bytes];
                gather(octet(group, b), i % group_rows, block);
                value = block_dot(value, block, b);
            }
            out[i] = value;
        }
    }
    // Row `row` of a tensor (n values a row) whose groups begin at `groups`, as floats:
    // its blocks gathered back and dequantised by dequantize(block, out).
    template<typename Dequantize>
    static void dequantize_row(const u8* groups, size_t row, i32 n, float* out, Dequantize const& dequantize)
    {
        const u8* group = groups + row / size_t(group_rows) * size_t(n / 256) * octet_bytes;
        u8 block[Layout::plain_bytes];
        for (i32 b = 0; b < n / 256; ++b) {
            gather(octet(group, b), i32(row % size_t(group_rows)), block);
            dequantize(block, out + 256 * b);
        }
    }
};

}
}

// Q4_Kx8: Q4_K super-blocks (k_quants.h) the same way, octets of 8 x 144 bytes:
//   bytes    0-15   the eight rows' d, row r's at 2r
//   bytes   16-31   their dmin
//   bytes   32-127  the packed 6-bit scales and mins, as three 32-byte vectors: vector k
//                   has row r's packed bytes 4k..4k+3 at 4r, so each group's scale and min
//                   decode lane for lane with shifts and masks
//   bytes  128-1151 per 32-byte chunk c of the plain block (low nibbles group 2c, high
//                   ones group 2c+1), eight slices of 32 bytes: slice s has row r's chunk
//                   bytes 4s..4s+3 at 4r
namespace llm::q4_kx8 {
namespace {

constexpr size_t scales_at = 32, nibbles_at = 128;

struct Layout {
    static constexpr size_t plain_bytes = k_quants::q4_k_block_bytes;
    template<typename Move>
    static void pieces(i32 r, Move const& move)
    {
        move(0, 2 * size_t(r), 2);
        move(2, 16 + 2 * size_t(r), 2);
        for (size_t k = 0; k < 3; ++k)
            move(4 + 4 * k, scales_at + 32 * k + 4 * size_t(r), 4);
        for (size_t c = 0; c < 4; ++c)
            for (size_t s = 0; s < 8; ++s)
                move(16 + 32 * c + 4 * s, nibbles_at + 256 * c + 32 * s + 4 * size_t(r), 4);
    }
};
using Octets = octets::Octets<Layout>;

// `d` interleaved rows as k_quants.h's reference computes the plain ones (q4_k_block_dot
// with `dot_i8`).
template<typename DotI8>
void rows(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* groups, i32 n, i32 d, DotI8 dot_i8)
{
    Octets::rows(out, groups, n, d, [&](float value, const u8* block, i32 b) {
        return k_quants::q4_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, xsums + 8 * b, dot_i8);
    });
}

}
}

// Q5_Kx8: Q5_K super-blocks (q5_quants.h) the same way, octets of 8 x 176 bytes: bytes
// 0-1151 laid out as Q4_Kx8's (d, dmin, packed scales and mins, the nibbles in slices),
// then 256 bytes of fifth bits in eight slices of 32: slice s has row r's bytes
// qh[4s..4s+3] at 4r, whose bits 2c and 2c+1 are the fifth bits of the values that the
// same slice s of nibble chunk c holds (low and high nibbles). So the kernels read Q4_Kx8's
// slices and OR each value's fifth bit in, lane for lane, from one more 32-byte load.
namespace llm::q5_kx8 {
namespace {

constexpr size_t fifth_bits_at = q4_kx8::Octets::octet_bytes;

// Q4_Kx8's pieces (a Q5_K block is a Q4_K block with the 32 bytes of fifth bits before the
// nibbles), then the fifth bits.
struct Layout {
    static constexpr size_t plain_bytes = q5_quants::q5_k_bytes;
    template<typename Move>
    static void pieces(i32 r, Move const& move)
    {
        constexpr size_t nibbles_from = 16, fifth_bits_bytes = 32;
        q4_kx8::Layout::pieces(r, [&](size_t plain, size_t at, size_t bytes) { move(plain < nibbles_from ? plain : plain + fifth_bits_bytes, at, bytes); });
        for (size_t s = 0; s < 8; ++s)
            move(nibbles_from + 4 * s, fifth_bits_at + 32 * s + 4 * size_t(r), 4);
    }
};
using Octets = octets::Octets<Layout>;

// `d` interleaved rows as q5_quants.h's reference computes the plain ones.
template<typename DotI8>
void rows(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* groups, i32 n, i32 d, DotI8 dot_i8)
{
    Octets::rows(out, groups, n, d, [&](float value, const u8* block, i32 b) {
        return q5_quants::q5_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, xsums + 8 * b, q5_quants::q5_k_values, dot_i8);
    });
}

}
}

// Q6_Kx8: Q6_K super-blocks (k_quants.h) the same way, octets of 8 x 210 bytes:
//   bytes    0-15    the eight rows' d, row r's at 2r
//   bytes   16-143   the int8 scales: sub-group t's (16 values) eight at 16 + 8t, row r's
//                    at 8t + r, so one 8-byte load widens to the eight rows' lanes
//   bytes  144-911   the first 128 values in eight slices of 96 bytes: slice s holds
//                    bytes 4s..4s+3 of the half's three 32-byte runs, the low nibbles'
//                    two (groups 0 and 2 in the first's low and high nibbles, 1 and 3 in
//                    the second's) and the high bit pairs' (bits 2k, 2k+1: group k), each
//                    as 32 bytes with row r's four at 4r: what one step of the kernel
//                    reads, in the order it reads it (from memory, three runs read side
//                    by side streamed at about half the speed)
//   bytes  912-1679  the second 128 values, likewise
namespace llm::q6_kx8 {
namespace {

constexpr size_t scales_at = 16, halves_at = 144, half_bytes = 768;

struct Layout {
    static constexpr size_t plain_bytes = k_quants::q6_k_block_bytes;
    template<typename Move>
    static void pieces(i32 r, Move const& move)
    {
        size_t row = size_t(r);
        move(208, 2 * row, 2);
        for (size_t t = 0; t < 16; ++t)
            move(192 + t, scales_at + 8 * t + row, 1);
        for (size_t half = 0; half < 2; ++half)
            for (size_t run = 0; run < 3; ++run) {
                // Runs 0 and 1: the half's low nibbles (64 bytes from 64 * half); run 2: its
                // high bit pairs (32 bytes from 128 + 32 * half).
                size_t from = run < 2 ? 64 * half + 32 * run : 128 + 32 * half;
                for (size_t s = 0; s < 8; ++s)
                    move(from + 4 * s, halves_at + half_bytes * half + 96 * s + 32 * run + 4 * row, 4);
            }
    }
};
using Octets = octets::Octets<Layout>;

// `d` interleaved rows as k_quants.h's reference computes the plain ones.
template<typename DotI8>
void rows(float* out, const i8* xq, const float* xs, const u8* groups, i32 n, i32 d, DotI8 dot_i8)
{
    Octets::rows(out, groups, n, d, [&](float value, const u8* block, i32 b) {
        return k_quants::q6_k_block_dot(value, block, xq + 256 * b, xs + 8 * b, dot_i8);
    });
}

}
}

// Q8x8: llama2.c int8 rows (groups of 32 values, one float scale per group kept apart in
// the tensor's scales) repacked the same way, for group == 32 only. A group of eight rows
// of n values takes their 8n bytes, 256 bytes per 32-value group g in order:
//   chunk c (32 bytes at 32c), c = 0..7: row r's values 4c..4c+3 at 4r
// each value stored as its byte xor 0x80 (w + 128 as an unsigned byte, what VNNI's
// unsigned operand takes; the kernels without VNNI flip it back). The eight rows' scales,
// 8 * n / 32 floats where the plain rows' lay, go the same way: group g's eight at 8g,
// row r's at 8g + r. So Tensor::row(8i) and the scales at 8i * n / 32 still find group i.
namespace llm::q8x8 {
namespace {

constexpr i32 group_rows = 8;
constexpr i32 values_per_group = 32;
constexpr size_t group_bytes = group_rows * values_per_group; // one 32-value group of eight rows
constexpr u8 flip = 0x80;

// Where value k (0..31) of row r lies within group g's 256 bytes.
constexpr size_t value_at(i32 r, i32 k) { return size_t(k / 4) * 32 + 4 * size_t(r) + size_t(k % 4); }

// Value j of row r of a group of rows, and its scale.
inline i8 value(const u8* rows, i32 r, i32 j) { return i8(rows[size_t(j / 32) * group_bytes + value_at(r, j % 32)] ^ flip); }
inline float scale(const float* scales, i32 r, i32 g) { return scales[size_t(g) * group_rows + size_t(r)]; }

// Repacks one group of eight plain rows (`values`, `scales`: n values and n / 32 scales
// each) in place, through `scratch` (8n bytes) and `scale_scratch` (8n / 32 floats).
inline void scatter_rows(u8* values, float* scales, i32 n, u8* scratch, float* scale_scratch)
{
    i32 groups = n / values_per_group;
    __builtin_memcpy(scratch, values, size_t(group_rows) * size_t(n));
    __builtin_memcpy(scale_scratch, scales, size_t(group_rows) * size_t(groups) * sizeof(float));
    for (i32 r = 0; r < group_rows; ++r)
        for (i32 g = 0; g < groups; ++g) {
            scales[size_t(g) * group_rows + size_t(r)] = scale_scratch[size_t(r) * size_t(groups) + size_t(g)];
            for (i32 k = 0; k < values_per_group; ++k)
                values[size_t(g) * group_bytes + value_at(r, k)] = u8(scratch[size_t(r) * size_t(n) + size_t(g * 32 + k)] ^ flip);
        }
}

// `d` interleaved rows (d a multiple of 8) as ops::matmul_q8 computes the plain ones with
// group 32: per row, each group's exact integer sum, then value += float(sum) * ws * xs
// in group order. The scalar reference; `dot` sums a group (the plain values gathered).
template<typename Dot>
void rows(float* out, const i8* xq, const float* xs, const u8* wq, const float* ws, i32 n, i32 d, Dot const& dot)
{
    i32 groups = n / values_per_group;
    for (i32 i = 0; i < d; ++i) {
        const u8* group = wq + size_t(i / group_rows) * group_rows * size_t(n);
        const float* scales = ws + size_t(i / group_rows) * group_rows * size_t(groups);
        float value = 0.0f;
        for (i32 g = 0; g < groups; ++g) {
            i8 w[values_per_group];
            for (i32 k = 0; k < values_per_group; ++k)
                w[k] = q8x8::value(group, i % group_rows, g * 32 + k);
            value += float(dot(xq + g * 32, w, values_per_group)) * scale(scales, i % group_rows, g) * xs[g];
        }
        out[i] = value;
    }
}

}
}

// Q8_0x8: GGUF Q8_0 rows (an f16 scale and 32 int8 values a block) repacked in groups of
// eight as Q4_0x8 is (paired_blocks::Layout), each block's values in Q8x8's order: 256
// bytes of eight chunks, chunk c (32 bytes at 32c) holding row r's values 4c..4c+3 at 4r,
// each stored as its byte xor 0x80 (w + 128, VNNI's unsigned operand; the kernels without
// VNNI flip it back). So Q8x8's kernels give a block's eight exact integer sums, and the
// float terms and their tree are Q8_0's (block_quants.h): a row's bits are the plain
// row's. A pair of blocks takes 2 * (256 + 16) = 544 bytes, 17 times 32.
namespace llm::q8_0x8 {
namespace {

using Layout = paired_blocks::Layout<q8x8::group_bytes>;
using Block = Layout::Block;
constexpr i32 group_rows = Layout::group_rows;
constexpr size_t plain_bytes = 34; // one Q8_0 block

// Four values at `from` to `to`, each byte xor 0x80 (the flip is its own inverse).
inline void move_flipped(const u8* from, u8* to)
{
    u32 word;
    __builtin_memcpy(&word, from, 4);
    word ^= 0x80808080u;
    __builtin_memcpy(to, &word, 4);
}

// Row r's block in Q8_0's own layout.
inline void gather(Block from, i32 r, u8* block)
{
    block[0] = from.scales[2 * r];
    block[1] = from.scales[2 * r + 1];
    for (i32 c = 0; c < 8; ++c)
        move_flipped(from.chunks + q8x8::value_at(r, 4 * c), block + 2 + 4 * c);
}

// The inverse: row r's plain block into block b of a group.
inline void scatter(const u8* block, i32 r, u8* group, i32 per_row, i32 b)
{
    u8* chunks = group + Layout::chunks_at(b);
    u8* scales = group + Layout::scales_at(per_row, b);
    scales[2 * r] = block[0];
    scales[2 * r + 1] = block[1];
    for (i32 c = 0; c < 8; ++c)
        move_flipped(block + 2 + 4 * c, chunks + q8x8::value_at(r, 4 * c));
}

// The scalar reference (paired_blocks::Layout::rows).
template<typename BlockInteger>
void rows(float* out, const float* xs, const u8* groups, i32 n, i32 d, BlockInteger const& block_integer)
{
    Layout::rows<plain_bytes>(out, xs, groups, n, d, gather, block_integer);
}

}
}
