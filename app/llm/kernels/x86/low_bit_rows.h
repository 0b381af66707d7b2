#pragma once
// Q5_K, Q5_0, Q5_1, Q4_1, Q3_K and Q2_K rows on the integer units (AVX2, also compiled into AVX-512),
// as k_quant_rows.h does Q4_K: the values are unpacked as unsigned bytes, multiplied with
// the input by pmaddubsw, and their offsets come off through the input's sums; a row's
// eight groups (a super-block, or eight 32-value blocks) become the lanes of one vector,
// their float terms follow q5_quants.h's, q3_k.h's and q2_k.h's formulas lane for lane and are added
// with tree_sum8's tree, so the results are the scalar reference's bits.
//
// Saturation bounds of pmaddubsw (int16 pair sums), with |x| <= 128:
//   Q5_K, Q5_0, Q5_1: five-bit value (0..31) * x: |pair| <= 2 * 31 * 128 = 7936. Q5_0's
//         offset, (q - 16) . x = q . x - 16 * sum(x), comes off each block's int32 sum.
//   Q3_K: three-bit value u = q + 4 (0..7) * x: |pair| <= 1792. The offset,
//         4 * sum(x) per 16 values, comes off the int32 sums (computed once per call,
//         q3_k_offsets), which are then multiplied by their scales (-32..31).
//   Q2_K: two-bit value (0..3) * x: |pair| <= 768.
#include "byte_products.h"
#include "prefetch.h"
#include "../../ops.h"
#include "../../q2_k.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct LowBitRows : BytePieces {
    static constexpr bool has_low_bit_rows = true;

    // pair(pair_sums(a), pair_sums(b)) for pmaddubsw results a and b, in one pmaddwd
    // fewer: phaddw adds two adjacent int16 pairs first, which stays within int16 here
    // (|pair| <= 7936, so two add to at most 15872).
    static __m256i pair_of_products(__m256i a, __m256i b) { return pair_sums(_mm256_hadd_epi16(a, b)); }

    // Bit `from` of every byte moved to bit `to` (other bits follow; callers mask). Shifts
    // of 16-bit lanes: by at most 7, a byte's bit `to` still comes from the same byte.
    static __m256i move_bit(__m256i v, i32 from, i32 to)
    {
        return from < to ? _mm256_slli_epi16(v, to - from) : from > to ? _mm256_srli_epi16(v, from - to) : v;
    }

    // Q5_K: 176-byte blocks (f16 d, f16 dmin, 12 bytes of scales and mins, 32 of fifth
    // bits, 128 of nibbles), `per_row` of them, for `rows` rows `row_bytes` apart at once:
    // the rows' sums, each added block by block as one row's alone would be (the same
    // bits), do not wait for one another, and a block of the input is read while it is
    // in the nearest cache.
    template<i32 rows>
    static void q5_k_rows(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* first, size_t row_bytes, i32 per_row)
    {
        const __m256i nibble = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
        float values[rows] {};
        for (i32 b = 0; b < per_row; ++b, xq += 256, xs += 8, xsums += 8) {
            __m256 input_sums = _mm256_cvtepi32_ps(load(xsums)), input_scales = _mm256_loadu_ps(xs);
            for (i32 r = 0; r < rows; ++r) {
                const u8* block = first + size_t(r) * row_bytes + size_t(b) * 176;
                prefetch_ahead(block, 176);
                // Sub-block j's fifth bits are bit j of these 32 bytes, moved to bit 4.
                __m256i high = load(block + 16);
                __m256i pairs[4];
                for (i32 chunk = 0; chunk < 4; ++chunk) {
                    __m256i bytes = load(block + 48 + 32 * chunk);
                    __m256i low_values = _mm256_or_si256(_mm256_and_si256(bytes, nibble), _mm256_and_si256(move_bit(high, 2 * chunk, 4), sixteen));
                    __m256i high_values = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble),
                        _mm256_and_si256(move_bit(high, 2 * chunk + 1, 4), sixteen));
                    pairs[chunk] = pair_of_products(_mm256_maddubs_epi16(low_values, load(xq + 64 * chunk)),
                        _mm256_maddubs_epi16(high_values, load(xq + 64 * chunk + 32)));
                }
                __m256 products = _mm256_cvtepi32_ps(finish(pairs[0], pairs[1], pairs[2], pairs[3]));
                __m256 terms = k_quant_terms(block, products, input_sums, input_scales);
                values[r] += tree_sum(terms);
            }
        }
        for (i32 r = 0; r < rows; ++r)
            out[r] = values[r];
    }

    // A 32-value block's five-bit values (0..31) as 32 bytes: nibbles of 16 bytes (the low
    // ones are values 0..15), fifth bits in a little-endian u32 (bit k for value k).
    static __m256i five_bits(const u8* high_bits, const u8* nibbles)
    {
        u32 high;
        __builtin_memcpy(&high, high_bits, 4);
        // Byte k takes byte k / 8 of the fifth bits, then keeps bit k % 8 of it.
        const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        const __m256i bit = _mm256_set1_epi64x(i64(0x8040201008040201ll));
        __m256i bits = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(i32(high)), spread), bit);
        __m256i fifth = _mm256_and_si256(_mm256_cmpeq_epi8(bits, bit), _mm256_set1_epi8(16));
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nibbles));
        __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
        return _mm256_or_si256(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), fifth);
    }

    // Block types of 32 values: where the fifth bits and nibbles are, and the block's term
    // from its exact integer sum q . x, the input's sum and scale (q5_quants.h's formulas).
    struct Q5_0 {
        static constexpr size_t bytes = 22;
        static __m256i values(const u8* block) { return five_bits(block + 2, block + 6); }
        static __m256 terms(const u8* const (&at)[8], __m256i products, __m256i sums, __m256 input_scales)
        {
            __m256i integers = _mm256_sub_epi32(products, _mm256_slli_epi32(sums, 4));
            return _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), halves_to_floats(at)), input_scales);
        }
        static float term(const u8* block, i32 products, i32 sum, float input_scale)
        {
            return float(products - 16 * sum) * ops::half_to_float(u16(block[0] | block[1] << 8)) * input_scale;
        }
    };
    struct Q5_1 {
        static constexpr size_t bytes = 24;
        static __m256i values(const u8* block) { return five_bits(block + 4, block + 8); }
        static __m256 terms(const u8* const (&at)[8], __m256i products, __m256i sums, __m256 input_scales)
        {
            const u8* mins[8];
            for (i32 k = 0; k < 8; ++k)
                mins[k] = at[k] + 2;
            __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(products), halves_to_floats(at));
            return _mm256_mul_ps(_mm256_add_ps(scaled, _mm256_mul_ps(_mm256_cvtepi32_ps(sums), halves_to_floats(mins))), input_scales);
        }
        static float term(const u8* block, i32 products, i32 sum, float input_scale)
        {
            float scaled = float(products) * ops::half_to_float(u16(block[0] | block[1] << 8));
            return (scaled + float(sum) * ops::half_to_float(u16(block[2] | block[3] << 8))) * input_scale;
        }
    };

    // Q4_1: Q5_1's block without the fifth bits (q5_quants.h), its nibbles the values
    // 0..15 (|pair| <= 2 * 15 * 128 = 3840), its terms Q5_1's.
    struct Q4_1 : Q5_1 {
        static constexpr size_t bytes = 20;
        static __m256i values(const u8* block)
        {
            __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 4));
            __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
            return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
        }
    };

    // One row of `per_row` blocks: eight at a time as tree_sum8's tree, the rest one by one.
    template<typename Type>
    static float block_row(const i8* xq, const float* xs, const i32* xsums, const u8* block, i32 per_row)
    {
        float value = 0.0f;
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8, block += 8 * Type::bytes) {
            prefetch_ahead(block, 8 * Type::bytes);
            __m256i pairs[4];
            for (i32 k = 0; k < 8; k += 2) {
                const u8* first = block + size_t(k) * Type::bytes;
                pairs[k / 2] = pair_of_products(_mm256_maddubs_epi16(Type::values(first), load(xq + 32 * (b + k))),
                    _mm256_maddubs_epi16(Type::values(first + Type::bytes), load(xq + 32 * (b + k + 1))));
            }
            const u8* at[8];
            for (i32 k = 0; k < 8; ++k)
                at[k] = block + size_t(k) * Type::bytes;
            value += tree_sum(Type::terms(at, finish(pairs[0], pairs[1], pairs[2], pairs[3]), load(xsums + b), _mm256_loadu_ps(xs + b)));
        }
        for (; b < per_row; ++b, block += Type::bytes) {
            i32 products = horizontal_sum(pair_sums(_mm256_maddubs_epi16(Type::values(block), load(xq + 32 * b))));
            value += Type::term(block, products, xsums[b], xs[b]);
        }
        return value;
    }

    // Q3_K's sixteen 16-value sub-blocks of a super-block, as two int32 vectors: the
    // eight groups' pmaddubsw products (values 0-15 in the low 128 bits, 16-31 in the high)
    // folded so that `first` holds groups 0-3's first halves, then their second halves,
    // and `second` the same for groups 4-7.
    static void sub_block_sums(__m256i const (&groups)[8], __m256i& first, __m256i& second)
    {
        first = _mm256_hadd_epi32(pair_of_products(groups[0], groups[1]), pair_of_products(groups[2], groups[3]));
        second = _mm256_hadd_epi32(pair_of_products(groups[4], groups[5]), pair_of_products(groups[6], groups[7]));
    }

    // 4 * x summed over each 16 values of the input, for Q3_K's offset (its values are
    // stored plus 4), per super-block in sub_block_sums' order: `blocks` super-blocks.
    static void q3_k_offsets(i32* out, const i8* xq, i32 blocks)
    {
        const __m256i four = _mm256_set1_epi8(4);
        for (i32 b = 0; b < blocks; ++b, xq += 256, out += 16) {
            __m256i groups[8];
            for (i32 g = 0; g < 8; ++g)
                groups[g] = _mm256_maddubs_epi16(four, load(xq + 32 * g));
            __m256i first, second;
            sub_block_sums(groups, first, second);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), first);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), second);
        }
    }

    // Q3_K's sixteen scales (q3_k::scales) as bytes, in sub_block_sums' order (sub-blocks
    // 0 2 4 6 1 3 5 7, 8 10 ... 15): low nibbles of bytes 96-103, then their high nibbles,
    // each with two bits of bytes 104-107 on top; minus 32.
    static __m128i q3_k_scales(const u8* block)
    {
        u32 low0, low1, top;
        __builtin_memcpy(&low0, block + 96, 4);
        __builtin_memcpy(&low1, block + 100, 4);
        __builtin_memcpy(&top, block + 104, 4);
        __m128i scale_bytes = _mm_sub_epi8(_mm_setr_epi32(i32((low0 & 0x0F0F0F0F) | (top & 0x03030303) << 4),
                                               i32((low1 & 0x0F0F0F0F) | ((top >> 2) & 0x03030303) << 4),
                                               i32(((low0 >> 4) & 0x0F0F0F0F) | ((top >> 4) & 0x03030303) << 4),
                                               i32(((low1 >> 4) & 0x0F0F0F0F) | ((top >> 6) & 0x03030303) << 4)),
            _mm_set1_epi8(32));
        return _mm_shuffle_epi8(scale_bytes, _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15));
    }

    // Q3_K: 110-byte blocks (32 bytes of high bits, 64 of bit pairs, 12 of packed scales,
    // f16 d), `per_row` of them; offsets: q3_k_offsets() of the input. Each 16 values'
    // integer sum q . x = u . x - 4 * sum(x) (u = q + 4, stored) is exact, times its scale.
    static float q3_k_row(const i8* xq, const float* xs, const i32* offsets, const u8* block, i32 per_row)
    {
        const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, xq += 256, xs += 8, offsets += 16, block += 110) {
            prefetch_ahead(block, 110);
            __m128i scale_bytes = q3_k_scales(block);
            // Group g's bit 2 is bit g of the high bits.
            __m256i high = load(block);
            __m256i groups[8];
            for (i32 g = 0; g < 8; ++g) {
                __m256i bit_pairs = load(block + 32 + 32 * (g / 4));
                __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bit_pairs, 2 * (g % 4)), three),
                    _mm256_and_si256(move_bit(high, g, 2), four));
                groups[g] = _mm256_maddubs_epi16(u, load(xq + 32 * g));
            }
            __m256i first, second;
            sub_block_sums(groups, first, second);
            // Exact: |q . x| <= 16 * 4 * 128 per sub-block, times |scale| <= 32.
            first = _mm256_mullo_epi32(_mm256_sub_epi32(first, load(offsets)), _mm256_cvtepi8_epi32(scale_bytes));
            second = _mm256_mullo_epi32(_mm256_sub_epi32(second, load(offsets + 8)), _mm256_cvtepi8_epi32(_mm_srli_si128(scale_bytes, 8)));
            // Each group's two halves added: lanes 0-7 are groups 0-7.
            __m256i integers = _mm256_add_epi32(_mm256_permute2x128_si256(first, second, 0x20), _mm256_permute2x128_si256(first, second, 0x31));
            __m256 terms = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), half_to_floats(block + 108)), _mm256_loadu_ps(xs));
            value += tree_sum(terms);
        }
        return value;
    }

    // Q2_K (84-byte blocks: 16 bytes of scales and mins, 64 of bit pairs, f16 d, f16
    // dmin), unpacked: each group's 32 two-bit values as unsigned bytes for pmaddubsw
    // (|pair| <= 2 * 3 * 128 = 768); the scales of each two groups g, g + 1 as int16 words
    // in the order phaddw leaves their pair sums in (q2_k_terms), for pmaddwd (|word| <=
    // 1536 times a scale <= 15, two of them well inside int32); the sixteen mins as int16
    // words, for pmaddwd on the input's sixteen 16-value sums; d and dmin broadcast.
    struct Q2Block {
        __m256i values[8], scales[4];
        __m256i mins;
        __m256 d, dmin;
    };
    static Q2Block q2_k_unpack(const u8* block)
    {
        Q2Block unpacked;
        const __m256i three = _mm256_set1_epi8(3);
        for (i32 g = 0; g < 8; ++g)
            unpacked.values[g] = _mm256_and_si256(_mm256_srli_epi16(load(block + 16 + 32 * (g / 4)), 2 * (g % 4)), three);
        const __m128i nibble = _mm_set1_epi8(0x0F);
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
        __m256i scales = _mm256_broadcastsi128_si256(_mm_and_si128(packed, nibble));
        // Groups g, g + 1 (sub-blocks 2g, 2g + 1, 2g + 2, 2g + 3): words 0-3 take sub-block
        // 2g's scale, 4-7 2g + 2's, 8-11 2g + 1's, 12-15 2g + 3's; a word's high byte is
        // cleared by pshufb's index 0xFF.
        const __m256i pick = _mm256_setr_epi16(-256, -256, -256, -256, -254, -254, -254, -254, -255, -255, -255, -255, -253, -253, -253, -253);
        for (i32 g = 0; g < 8; g += 2)
            unpacked.scales[g / 2] = _mm256_shuffle_epi8(scales, _mm256_add_epi16(pick, _mm256_set1_epi16(i16(2 * g))));
        unpacked.mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), nibble));
        two_halves_to_floats(block + 80, unpacked.d, unpacked.dmin);
        return unpacked;
    }

    // The input's sums over each 16 values as int16 (|sum| <= 16 * 128), sixteen per
    // super-block in order: `blocks` super-blocks.
    static void q2_k_input_sums(i16* out, const i8* xq, i32 blocks)
    {
        for (i32 s = 0; s < 16 * blocks; ++s, xq += 16)
            out[s] = i16(q2_k::sum16(xq));
    }

    // An unpacked Q2_K block's eight group terms against its 256 inputs (xq; their scales
    // xs and q2_k_input_sums sums16): q2_k.h's formula lane for lane. Each group's scaled
    // products (< 15 * 3 * 128 * 32) and scaled input sums (< 15 * 128 * 32) are exact in
    // float, as the reference's integers converted are.
    static __m256 q2_k_terms(Q2Block const& block, const i8* xq, const float* xs, const i16* sums16)
    {
        // Two groups' pair sums added pairwise by phaddw (|word| <= 1536): the low half
        // holds group g's first sub-block, then g + 1's, the high half their second ones;
        // times their scales into int32 lanes, two per sub-block.
        __m256i scaled[4];
        for (i32 g = 0; g < 8; g += 2)
            scaled[g / 2] = _mm256_madd_epi16(_mm256_hadd_epi16(_mm256_maddubs_epi16(block.values[g], load(xq + 32 * g)),
                                                  _mm256_maddubs_epi16(block.values[g + 1], load(xq + 32 * g + 32))),
                block.scales[g / 2]);
        // sub_block_sums' order: groups 0-3's first sub-blocks, then their second ones; the
        // same for groups 4-7; each group's two then added.
        __m256i first = _mm256_hadd_epi32(scaled[0], scaled[1]), second = _mm256_hadd_epi32(scaled[2], scaled[3]);
        __m256i products = _mm256_add_epi32(_mm256_permute2x128_si256(first, second, 0x20), _mm256_permute2x128_si256(first, second, 0x31));
        __m256i sums = _mm256_madd_epi16(block.mins, load(sums16)); // lane g: group g's two sub-blocks
        return _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(products), block.d), _mm256_mul_ps(_mm256_cvtepi32_ps(sums), block.dmin)),
            _mm256_loadu_ps(xs));
    }

    // Q2_K rows of `per_row` blocks; sums16: q2_k_input_sums of the input.
    static float q2_k_row(const i8* xq, const float* xs, const i16* sums16, const u8* block, i32 per_row)
    {
        float value = 0.0f;
        for (i32 b = 0; b < per_row; ++b, xq += 256, xs += 8, sums16 += 16, block += 84) {
            prefetch_ahead(block, 84);
            value += tree_sum(q2_k_terms(q2_k_unpack(block), xq, xs, sums16));
        }
        return value;
    }
};

}
}
