#pragma once
// Q4_K and Q6_K rows on the integer units (AVX2, also compiled into AVX-512): `Rows` rows
// advance together through their super-blocks, so each 32-byte slice of the input, and the
// per-block values shared by every row (the input's scales, sums and Q6_K offsets), are
// loaded or computed once per pass. Each row's eight group sums end up in the lanes of one
// vector; the float terms then follow k_quants.h's formulas lane for lane and are added
// with tree_sum8's tree, so the results are the reference's bits.
//
// Saturation bounds of pmaddubsw (int16 pair sums), with |x| <= 128:
//   Q4_K: nibble (0..15) * x: |pair| <= 2 * 15 * 128 = 3840.
//   Q6_K: six-bit value (0..63) * x: |pair| <= 2 * 63 * 128 = 16128; the offset 32 * x:
//         |pair| <= 8192; their difference (the pairs of (q - 32) * x) stays within 24320.
//         Taken off later instead (x_sums16), pmaddwd's s_a * sum_a + s_b * sum_b is at
//         most 2 * 128 * 2048, times 32 below 2^25.
// pmaddwd then multiplies by 1 or by Q6_K's int8 scale (|s| <= 128) into int32.
#include "byte_products.h"
#include "prefetch.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

// Pieces: BytePieces (pmaddubsw) or a VNNI variant of it (vnni_products.h).
template<typename Pieces>
struct KQuantRowsWith : Pieces {
    using Pieces::byte_products;
    using Pieces::finish;
    using Pieces::half_to_floats;
    using Pieces::halves_to_floats;
    using Pieces::horizontal_sum;
    using Pieces::load;
    using Pieces::pair;
    using Pieces::pair_sums;
    using Pieces::tree_sum;
    using Pieces::two_halves_to_floats;
    static constexpr bool has_k_quant_rows = true;

    // Q4_K: 144-byte blocks, `per_row` of them a row; `Rows` rows from `blocks` on.
    template<i32 Rows>
    static void q4_k_rows(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 per_row)
    {
        constexpr size_t block_bytes = 144;
        const __m256i nibble = _mm256_set1_epi8(0x0F);
        size_t row_stride = size_t(per_row) * block_bytes;
        float values[Rows] {};
        for (i32 b = 0; b < per_row; ++b, xq += 256, xs += 8, xsums += 8) {
            __m256 input_scales = _mm256_loadu_ps(xs);
            __m256 input_sums = _mm256_cvtepi32_ps(load(xsums));
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * block_bytes;
                prefetch_ahead(block, block_bytes);
                const u8* q = block + 16;
                __m256i pairs[4];
                for (i32 chunk = 0; chunk < 4; ++chunk) {
                    __m256i bytes = load(q + 32 * chunk);
                    __m256i low = _mm256_and_si256(bytes, nibble);
                    __m256i high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble);
                    __m256i a = byte_products(low, load(xq + 64 * chunk));
                    __m256i c = byte_products(high, load(xq + 64 * chunk + 32));
                    pairs[chunk] = pair(a, c);
                }
                __m256 products = _mm256_cvtepi32_ps(finish(pairs[0], pairs[1], pairs[2], pairs[3]));
                __m256 terms = BytePieces::k_quant_terms(block, products, input_sums, input_scales);
                values[r] += tree_sum(terms);
            }
        }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }

    // The sums of the input's 16-value slices (`count` of them), for q6_k_rows' offsets:
    // once per call, |sum| <= 16 * 128 fits int16.
    static void sixteen_sums(i16* sums, const i8* xq, i32 count)
    {
        for (i32 s = 0; s < count; ++s) {
            i32 sum = 0;
            for (i32 j = 0; j < 16; ++j)
                sum += xq[16 * s + j];
            sums[s] = i16(sum);
        }
    }

    // Q6_K: 210-byte blocks (128 bytes of low nibbles, 64 of high bit pairs, 16 int8
    // scales, f16 d). Values are stored plus 32: (q - 32) . x = q . x - 32 * sum(x).
    // With x_sums16 (sixteen_sums of the input) the offsets of a block's eight groups come
    // off its eight int32 sums at once, 32 * (s_a * sum_a + s_b * sum_b) by one pmaddwd of
    // its scales and the sums; without, 32 * x is taken off every int16 pair of every
    // group (eight more pmaddubsw and subtractions per block and row: ~10% slower).
    template<i32 Rows>
    static void q6_k_rows(float* out, const i8* xq, const float* xs, const u8* blocks, i32 per_row)
    {
        q6_k_rows_offset<Rows>(out, xq, xs, nullptr, blocks, per_row);
    }
    template<i32 Rows>
    static void q6_k_rows(float* out, const i8* xq, const float* xs, const i16* x_sums16, const u8* blocks, i32 per_row)
    {
        q6_k_rows_offset<Rows>(out, xq, xs, x_sums16, blocks, per_row);
    }

private:
    template<i32 Rows>
    static void q6_k_rows_offset(float* out, const i8* xq, const float* xs, const i16* x_sums16, const u8* blocks, i32 per_row)
    {
        constexpr size_t block_bytes = 210;
        const __m256i nibble = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30), thirty_two = _mm256_set1_epi8(32);
        // Group g's two scales as int16 lanes, the first over the low eight lanes and the
        // second over the high eight, from the scales widened to int16 with each half
        // broadcast: scale 2g is int16 (2g mod 8) of its half, 2g + 1 the next.
        auto scale_pattern = [](i32 g) {
            char a = char(2 * ((2 * g) % 8)), b = char(2 * ((2 * g + 1) % 8));
            return _mm256_setr_epi8(a, char(a + 1), a, char(a + 1), a, char(a + 1), a, char(a + 1), a, char(a + 1), a, char(a + 1), a,
                char(a + 1), a, char(a + 1), b, char(b + 1), b, char(b + 1), b, char(b + 1), b, char(b + 1), b, char(b + 1), b,
                char(b + 1), b, char(b + 1), b, char(b + 1));
        };
        size_t row_stride = size_t(per_row) * block_bytes;
        float values[Rows] {};
        for (i32 b = 0; b < per_row; ++b, xq += 256, xs += 8) {
            __m256 input_scales = _mm256_loadu_ps(xs);
            __m256i offsets[8] {};
            __m256i sums16 {};
            if (x_sums16)
                sums16 = load(x_sums16 + 16 * b);
            else // 32 * x in pairs, for every row
                for (i32 k = 0; k < 8; ++k)
                    offsets[k] = _mm256_maddubs_epi16(thirty_two, load(xq + 32 * k));
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * block_bytes;
                prefetch_ahead(block, block_bytes);
                __m256i scales = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 192)));
                __m256i scale_halves[2] = { _mm256_permute2x128_si256(scales, scales, 0x00), _mm256_permute2x128_si256(scales, scales, 0x11) };
                __m256i pairs[4];
                for (i32 half = 0; half < 2; ++half) {
                    __m256i low0 = load(block + 64 * half), low1 = load(block + 64 * half + 32), high = load(block + 128 + 32 * half);
                    // k_quants::q6_k_group_values: low nibbles of the first and second 32
                    // bytes, then their high nibbles; bits 2k..2k+1 of `high` on top.
                    __m256i q[4] = {
                        _mm256_or_si256(_mm256_and_si256(low0, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 4), bits45)),
                        _mm256_or_si256(_mm256_and_si256(low1, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 2), bits45)),
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low0, 4), nibble), _mm256_and_si256(high, bits45)),
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low1, 4), nibble), _mm256_and_si256(_mm256_srli_epi16(high, 2), bits45)),
                    };
                    __m256i groups[4];
                    for (i32 k = 0; k < 4; ++k) {
                        i32 g = 4 * half + k;
                        __m256i scale = _mm256_shuffle_epi8(scale_halves[half], scale_pattern(g));
                        __m256i products = _mm256_maddubs_epi16(q[k], load(xq + 32 * g));
                        if (!x_sums16)
                            products = _mm256_sub_epi16(products, offsets[g]);
                        groups[k] = _mm256_madd_epi16(products, scale);
                    }
                    pairs[2 * half] = pair(groups[0], groups[1]);
                    pairs[2 * half + 1] = pair(groups[2], groups[3]);
                }
                __m256i integers = finish(pairs[0], pairs[1], pairs[2], pairs[3]);
                if (x_sums16) // lane g: s_2g * sum_2g + s_2g+1 * sum_2g+1, times 32
                    integers = _mm256_sub_epi32(integers, _mm256_slli_epi32(_mm256_madd_epi16(scales, sums16), 5));
                __m256 products = _mm256_cvtepi32_ps(integers);
                __m256 terms = _mm256_mul_ps(_mm256_mul_ps(products, half_to_floats(block + 208)), input_scales);
                values[r] += tree_sum(terms);
            }
        }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }
};
using KQuantRows = KQuantRowsWith<BytePieces>;

}
}
