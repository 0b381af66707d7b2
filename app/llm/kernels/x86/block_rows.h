#pragma once
// Q8_0, Q4_0 and IQ4_NL rows on the integer units (AVX2, also compiled into AVX-512), in
// block_quants.h's order: eight blocks at a time, their integer sums gathered into the
// lanes of one vector, their terms float(integer) * d * xs computed lane for lane and
// added with tree_sum8's tree; the last per_row % 8 blocks one by one. `Rows` rows advance
// together so each slice of the input (and Q4_0's offsets) serves all of them.
//
// Saturation bounds of pmaddubsw (int16 pair sums), with |x| <= 128 unless said:
//   Q8_0: |w| * sign(x, w), |w| <= 128 and |x| <= 127 (ops::quantize's range; -128 would
//         not survive the sign flip): |pair| <= 2 * 128 * 127 = 32512. (With VNNI, no
//         bound: see Q8_0 below.)
//   IQ4_NL: as Q8_0, its values looked up from the nibbles (|w| <= 127).
//   Q4_0: nibble (0..15) * x: |pair| <= 3840. The offset, (q - 8) . x = q . x - 8 * sum(x),
//         is subtracted from each block's int32 sum, the input's block sums being computed
//         once per call (block_sums) rather than once per row.
#include "byte_products.h"
#include "iq4_values.h"
#include "prefetch.h"
#include "../../block_quants.h"
#include "../../block_sum.h"
#include "../../ops.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

// Pieces: BytePieces (pmaddubsw) or a VNNI variant of it (vnni_products.h).
template<typename Pieces>
struct BlockRowsWith : Pieces {
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
    static constexpr bool has_block_rows = true;

    // Block k's int32 pair sums against input slice x, and what its integer sum lacks:
    // Q4_0's values are stored plus 8, so 8 * sum(x) comes off.
    // Q8_0 with exact byte products (VNNI) takes w + 128 (w xor 0x80) as the unsigned
    // operand and 128 * sum(x) off like Q4_0's offset: one xor instead of pabsb and
    // psignb. (pmaddubsw would saturate on it: 2 * 255 * 127 > 32767.)
    struct Q8_0 {
        static constexpr size_t bytes = 34;
        static constexpr i32 stored_offset = Pieces::exact_byte_products ? 128 : 0;
        static __m256i products(const u8* block, __m256i x)
        {
            __m256i w = load(block + 2);
            if constexpr (Pieces::exact_byte_products)
                return byte_products(_mm256_xor_si256(w, _mm256_set1_epi8(char(0x80))), x);
            else
                return byte_products(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
        }
    };
    // IQ4_NL: its nibbles looked up in the 16 values (pshufb), then multiplied as Q8_0's
    // values are (|w| <= 127).
    static __m256i iq4_products(const u8* nibbles, __m256i x)
    {
        __m256i w = iq4_lookup(nibbles);
        if constexpr (Pieces::exact_byte_products)
            return byte_products(_mm256_xor_si256(w, _mm256_set1_epi8(char(0x80))), x);
        else
            return byte_products(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
    }
    struct IQ4_NL {
        static constexpr size_t bytes = 18;
        static constexpr i32 stored_offset = Pieces::exact_byte_products ? 128 : 0;
        static __m256i products(const u8* block, __m256i x) { return iq4_products(block + 2, x); }
    };
    struct Q4_0 {
        static constexpr size_t bytes = 18;
        static constexpr i32 stored_offset = 8;
        static __m256i products(const u8* block, __m256i x)
        {
            __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
            // Values 0-15 are the low nibbles, 16-31 the high ones.
            __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
            return byte_products(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), x);
        }
    };

    // `Rows` rows of `per_row` IQ4_XS super-blocks (block_quants.h): a super-block's eight
    // group integers in the lanes of one vector, times their scales (l - 32), then d and
    // the input's scales lane for lane, added with tree_sum8's tree. x_sums: the input's
    // group sums (for VNNI's stored offset).
    template<i32 Rows>
    static void iq4_xs_rows(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* blocks, i32 per_row)
    {
        constexpr size_t bytes = block_quants::iq4_xs::bytes;
        constexpr i32 stored_offset = Pieces::exact_byte_products ? 128 : 0;
        size_t row_stride = size_t(per_row) * bytes;
        float values[Rows] {};
        for (i32 b = 0; b < per_row; ++b) {
            __m256i x[8];
            for (i32 k = 0; k < 8; ++k)
                x[k] = load(xq + 32 * (8 * b + k));
            __m256 input_scales = _mm256_loadu_ps(xs + 8 * b);
            __m256i offsets = _mm256_setzero_si256();
            if constexpr (stored_offset != 0)
                offsets = _mm256_mullo_epi32(load(x_sums + 8 * b), _mm256_set1_epi32(stored_offset));
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * bytes;
                prefetch_ahead(block, bytes);
                const u8* nibbles = block + block_quants::iq4_xs::nibbles_at;
                __m256i pairs[4];
                for (i32 k = 0; k < 8; k += 2)
                    pairs[k / 2] = pair(iq4_products(nibbles + 16 * k, x[k]), iq4_products(nibbles + 16 * (k + 1), x[k + 1]));
                __m256i integers = _mm256_sub_epi32(finish(pairs[0], pairs[1], pairs[2], pairs[3]), offsets);
                __m256 terms = _mm256_cvtepi32_ps(_mm256_mullo_epi32(integers, iq4_xs_scales(block)));
                __m256 d = _mm256_set1_ps(ops::half_to_float(u16(block[0] | block[1] << 8)));
                values[r] += tree_sum(_mm256_mul_ps(_mm256_mul_ps(terms, d), input_scales));
            }
        }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }

    // The sums of the input's 32-value blocks (`count` of them), for the stored offsets.
    static void block_sums(i32* sums, const i8* xq, i32 count)
    {
        for (i32 b = 0; b < count; ++b)
            sums[b] = horizontal_sum(byte_products(_mm256_set1_epi8(1), load(xq + 32 * b)));
    }

    // `Rows` rows of `per_row` blocks; x_sums: block_sums() of the input (Q4_0 only).
    template<typename Type, i32 Rows>
    static void rows(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* blocks, i32 per_row)
    {
        size_t row_stride = size_t(per_row) * Type::bytes;
        float values[Rows] {};
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8) {
            __m256i x[8];
            for (i32 k = 0; k < 8; ++k)
                x[k] = load(xq + 32 * (b + k));
            __m256 input_scales = _mm256_loadu_ps(xs + b);
            __m256i offsets = _mm256_setzero_si256();
            if constexpr (Type::stored_offset != 0)
                offsets = _mm256_mullo_epi32(load(x_sums + b), _mm256_set1_epi32(Type::stored_offset));
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * Type::bytes;
                prefetch_ahead(block, 8 * Type::bytes);
                __m256i pairs[4];
                for (i32 k = 0; k < 8; k += 2)
                    pairs[k / 2] = pair(Type::products(block + size_t(k) * Type::bytes, x[k]), Type::products(block + size_t(k + 1) * Type::bytes, x[k + 1]));
                __m256i integers = finish(pairs[0], pairs[1], pairs[2], pairs[3]);
                if constexpr (Type::stored_offset != 0)
                    integers = _mm256_sub_epi32(integers, offsets);
                const u8* scales[8];
                for (i32 k = 0; k < 8; ++k)
                    scales[k] = block + size_t(k) * Type::bytes;
                values[r] += tree_sum(_mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), halves_to_floats(scales)), input_scales));
            }
        }
        for (; b < per_row; ++b) {
            __m256i x = load(xq + 32 * b);
            for (i32 r = 0; r < Rows; ++r) {
                const u8* block = blocks + size_t(r) * row_stride + size_t(b) * Type::bytes;
                i32 integer = horizontal_sum(Type::products(block, x));
                if constexpr (Type::stored_offset != 0)
                    integer -= Type::stored_offset * x_sums[b];
                values[r] += float(integer) * ops::half_to_float(u16(block[0] | block[1] << 8)) * xs[b];
            }
        }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }
};
using BlockRows = BlockRowsWith<BytePieces>;

}
}
