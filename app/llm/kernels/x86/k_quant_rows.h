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
// pmaddwd then multiplies by 1 or by Q6_K's int8 scale (|s| <= 128) into int32.
#include "byte_products.h"
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
                // The twelve bytes of 6-bit scales and mins (k_quants::scale_and_min), as
                // four words of four bytes: scales 0-3, 4-7, mins 0-3, 4-7.
                u32 w0, w1, w2;
                __builtin_memcpy(&w0, block + 4, 4);
                __builtin_memcpy(&w1, block + 8, 4);
                __builtin_memcpy(&w2, block + 12, 4);
                __m128i packed = _mm_setr_epi32(i32(w0 & 0x3F3F3F3F), i32((w2 & 0x0F0F0F0F) | ((w0 >> 2) & 0x30303030)),
                    i32(w1 & 0x3F3F3F3F), i32(((w2 >> 4) & 0x0F0F0F0F) | ((w1 >> 2) & 0x30303030)));
                __m256 scales = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(packed));
                __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(packed, 8)));
                // Both products are exact integers below 2^24, as float(scale * products) is.
                __m256 d, dmin;
                two_halves_to_floats(block, d, dmin);
                __m256 terms = _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(scales, products), d),
                                                 _mm256_mul_ps(_mm256_mul_ps(mins, input_sums), dmin)),
                    input_scales);
                values[r] += tree_sum(terms);
            }
        }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }

    // Q6_K: 210-byte blocks (128 bytes of low nibbles, 64 of high bit pairs, 16 int8
    // scales, f16 d).
    template<i32 Rows>
    static void q6_k_rows(float* out, const i8* xq, const float* xs, const u8* blocks, i32 per_row)
    {
        constexpr size_t block_bytes = 210;
        const __m256i nibble = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30), thirty_two = _mm256_set1_epi8(32);
        size_t row_stride = size_t(per_row) * block_bytes;
        float values[Rows] {};
        for (i32 b = 0; b < per_row; ++b, xq += 256, xs += 8) {
            __m256 input_scales = _mm256_loadu_ps(xs);
            // 32 * x in pairs, for every row: (q - 32) . x = q . x - 32 . x.
            __m256i offsets[8];
            for (i32 k = 0; k < 8; ++k)
                offsets[k] = _mm256_maddubs_epi16(thirty_two, load(xq + 32 * k));
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * block_bytes;
                __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 192));
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
                        // The group's two scales, eight int16 lanes each (one per 16 values).
                        __m128i which = _mm_setr_epi8(char(2 * g), char(2 * g), char(2 * g), char(2 * g), char(2 * g), char(2 * g),
                            char(2 * g), char(2 * g), char(2 * g + 1), char(2 * g + 1), char(2 * g + 1), char(2 * g + 1),
                            char(2 * g + 1), char(2 * g + 1), char(2 * g + 1), char(2 * g + 1));
                        __m256i scale = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scale_bytes, which));
                        __m256i centred = _mm256_sub_epi16(_mm256_maddubs_epi16(q[k], load(xq + 32 * g)), offsets[g]);
                        groups[k] = _mm256_madd_epi16(centred, scale);
                    }
                    pairs[2 * half] = pair(groups[0], groups[1]);
                    pairs[2 * half + 1] = pair(groups[2], groups[3]);
                }
                __m256 products = _mm256_cvtepi32_ps(finish(pairs[0], pairs[1], pairs[2], pairs[3]));
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
