#pragma once
// Q8_0 and Q4_0 rows on the integer units (AVX2, also compiled into AVX-512), in
// block_quants.h's order: eight blocks at a time, their integer sums gathered into the
// lanes of one vector, their terms float(integer) * d * xs computed lane for lane and
// added with tree_sum8's tree; the last per_row % 8 blocks one by one. `Rows` rows advance
// together so each slice of the input (and Q4_0's offsets) serves all of them.
//
// Saturation bounds of pmaddubsw (int16 pair sums), with |x| <= 128 unless said:
//   Q8_0: |w| * sign(x, w), |w| <= 128 and |x| <= 127 (ops::quantize's range; -128 would
//         not survive the sign flip): |pair| <= 2 * 128 * 127 = 32512.
//   Q4_0: nibble (0..15) * x: |pair| <= 3840; the offset 8 * x: |pair| <= 2048; their
//         difference (the pairs of (q - 8) * x) stays within 5888.
#include "byte_products.h"
#include "../../block_sum.h"
#include "../../ops.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct BlockRows : BytePieces {
    static constexpr bool has_block_rows = true;

    // Block k's int32 pair sums against input slice x.
    struct Q8_0 {
        static constexpr size_t bytes = 34;
        static __m256i offset(__m256i) { return _mm256_setzero_si256(); }
        static __m256i products(const u8* block, __m256i x, __m256i)
        {
            __m256i w = load(block + 2);
            return pair_sums(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w)));
        }
    };
    struct Q4_0 {
        static constexpr size_t bytes = 18;
        static __m256i offset(__m256i x) { return _mm256_maddubs_epi16(_mm256_set1_epi8(8), x); }
        static __m256i products(const u8* block, __m256i x, __m256i offset)
        {
            __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
            // Values 0-15 are the low nibbles, 16-31 the high ones.
            __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
            __m256i q = _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
            return pair_sums(_mm256_sub_epi16(_mm256_maddubs_epi16(q, x), offset));
        }
    };

    template<typename Type, i32 Rows>
    static void rows(float* out, const i8* xq, const float* xs, const u8* blocks, i32 per_row)
    {
        size_t row_stride = size_t(per_row) * Type::bytes;
        float values[Rows] {};
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8) {
            __m256i x[8], offsets[8];
            for (i32 k = 0; k < 8; ++k) {
                x[k] = load(xq + 32 * (b + k));
                offsets[k] = Type::offset(x[k]);
            }
            __m256 input_scales = _mm256_loadu_ps(xs + b);
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * Type::bytes;
                __m256i pairs[4];
                for (i32 k = 0; k < 8; k += 2)
                    pairs[k / 2] = pair(Type::products(block + size_t(k) * Type::bytes, x[k], offsets[k]),
                        Type::products(block + size_t(k + 1) * Type::bytes, x[k + 1], offsets[k + 1]));
                __m256 integers = _mm256_cvtepi32_ps(finish(pairs[0], pairs[1], pairs[2], pairs[3]));
                const u8* scales[8];
                for (i32 k = 0; k < 8; ++k)
                    scales[k] = block + size_t(k) * Type::bytes;
                values[r] += tree_sum(_mm256_mul_ps(_mm256_mul_ps(integers, halves_to_floats(scales)), input_scales));
            }
        }
        for (; b < per_row; ++b) {
            __m256i x = load(xq + 32 * b);
            __m256i offset = Type::offset(x);
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * Type::bytes;
                i32 integer = horizontal_sum(Type::products(block, x, offset));
                values[r] += float(integer) * ops::half_to_float(u16(block[0] | block[1] << 8)) * xs[b];
            }
        }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }
};

}
}
