#pragma once
// Q4_0x8, Q4_Kx8, Q6_Kx8 and Q8x8 rows (interleaved_rows.h's kernels) and plain Q8_0 rows
// for an AVX2 that QEMU emulates (TCG, the avx2tcg set). QEMU 7.2 turns and/or/add/sub, 16- and 32-bit multiplies and
// shifts by an immediate into inline host vector code, but calls a C helper for pmaddubsw
// and pmaddwd (a loop over the lanes, ~100 host cycles a call: a quarter of a TinyLlama
// Q4_K_M token's time under TCG), for shifts by a register count, and for every float step.
// Here the byte products come from those inline steps instead: bytes split into int16
// lanes by shifts and masks, products by vpmullw, int16 pairs into int32 by shifts, the
// scales unpacked with immediate shifts only. The integer sums are the same (no step can
// wrap: each int16 sum keeps the bound interleaved_rows.h states for its pmaddubsw pairs),
// and the float steps are interleaved_rows.h's, so the bits are the reference's.
// The f16 scales, too, become floats by integer steps: TCG runs vcvtph2ps as a C helper
// (~100 ns), eight halves by bit moves cost a tenth of that, with the same bits.
// On a real CPU these kernels are slower than pmaddubsw's: the tuner picks them only where
// they win, i.e. under emulation.
#include "interleaved_rows.h"

namespace llm::kernels::x86 {
namespace {

struct EmulatedRows {
    // TCG keeps the guest's vector registers in memory and loads them for each instruction
    // at no cost, but a guest load of 32 bytes costs as much as ten inline instructions:
    // a spilled value or a mask constant taken from memory (vpand mem) undoes the gain.
    // This empty asm pins `v` in a register where it is computed, so the compiler neither
    // reorders the int16 sums into a tree of spilled partial sums nor hoists loads.
    static void in_register(__m256i& v) { asm volatile("" : "+x"(v)); }
    static void in_register(__m256& v) { asm volatile("" : "+x"(v)); }

    // A mask broadcast from memory where it is used (vpbroadcastd, ~1 ns under TCG) rather
    // than kept in one of i686's eight vector registers, which clang then spills and
    // reloads (a 32-byte load, 6-10 ns, at each use). Volatile: not hoisted or merged.
    static __m256i broadcast_here(const u32& pattern)
    {
        __m256i v;
        asm volatile("vpbroadcastd %1, %0" : "=x"(v) : "m"(pattern));
        return v;
    }
    static constexpr u32 low_nibbles = 0x0F0F0F0F, bits_4_and_5 = 0x30303030, low_bytes = 0x00FF00FF, byte_flip = 0x80808080;

    // The four bytes at `at`, broadcast, sign-extended to int16: `even` holds the first and
    // third byte in the low and high int16 of every 32-bit lane, `odd` the second and fourth.
    static void widened_slice(const i8* at, __m256i& even, __m256i& odd)
    {
        i32 word;
        __builtin_memcpy(&word, at, 4);
        __m256i v = _mm256_set1_epi32(word);
        even = _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8);
        odd = _mm256_srai_epi16(v, 8);
    }

    // Bits [low, low + count) of each 16-bit lane, by two shifts (a mask would be a load).
    template<i32 low, i32 count>
    static __m256i bits16(__m256i v)
    {
        if constexpr (low + count == 16)
            return _mm256_srli_epi16(v, low);
        else
            return _mm256_srli_epi16(_mm256_slli_epi16(v, 16 - low - count), 16 - count);
    }
    // The same in 32-bit lanes.
    template<i32 low, i32 count>
    static __m256i bits32(__m256i v)
    {
        if constexpr (low + count == 32)
            return _mm256_srli_epi32(v, low);
        else
            return _mm256_srli_epi32(_mm256_slli_epi32(v, 32 - low - count), 32 - count);
    }

    // Adjacent int16 pairs summed into int32 lanes: pmaddwd(v, 1)'s result.
    static __m256i pair_sums(__m256i v)
    {
        return _mm256_add_epi32(_mm256_srai_epi32(_mm256_slli_epi32(v, 16), 16), _mm256_srai_epi32(v, 16));
    }

    // The input as the int16 pairs widened_slice makes, once per call: for the four values
    // of slice t, word 2t holds the first and third, word 2t + 1 the second and fourth.
    // A broadcast of one word then replaces a broadcast and three shifts per slice.
    static void widen_input(const i8* x, i32 n, i32* wide)
    {
        auto pair = [](i8 a, i8 b) { return i32(u32(u16(i16(a))) | u32(u16(i16(b))) << 16); };
        for (i32 t = 0; t < n / 4; ++t) {
            wide[2 * t] = pair(x[4 * t], x[4 * t + 2]);
            wide[2 * t + 1] = pair(x[4 * t + 1], x[4 * t + 3]);
        }
    }

    // Slice t's widened pairs: from `wide` where the call widened the input, else from x.
    // Which of the two is a template parameter, not tested per slice: under TCG each branch
    // ends a translation block.
    template<bool Widened>
    struct Slices {
        const i8* x;
        const i32* wide; // null unless Widened
        void at(i32 t, __m256i& even, __m256i& odd) const
        {
            if constexpr (Widened) {
                even = _mm256_set1_epi32(wide[2 * t]);
                odd = _mm256_set1_epi32(wide[2 * t + 1]);
            } else {
                widened_slice(x + 4 * t, even, odd);
            }
        }
    };

    // Eight halves (half r in bits 16r..16r+15 of `halves`) spread one to a 32-bit lane, in
    // its high 16 bits (the low 16 zero), by immediate shifts and vpermq (vpmovzxwd,
    // vpunpck* and vpshufb are C helpers under TCG). vpermq takes the zero upper 128 bits in
    // place of the units it leaves out, so an or joins two selections. in_register keeps
    // clang from folding the steps into vpblendd and vpshufb (helpers again).
    static __m256i spread_halves(__m128i halves)
    {
        __m256i x = _mm256_zextsi128_si256(halves); // 64-bit units: halves 0-3, 4-7, 0, 0
        in_register(x);
        __m256i odd_pairs = _mm256_srli_epi64(x, 32); // halves 2-3, 6-7, 0, 0
        in_register(odd_pairs);
        // Unit u's low 32 bits: halves 2u and 2u + 1 (units 0 and 2 carry halves 2u + 2 and
        // 2u + 3 above them, which the shifts below drop).
        __m256i pairs = _mm256_or_si256(_mm256_permute4x64_epi64(x, 0b10'01'10'00), _mm256_permute4x64_epi64(odd_pairs, 0b01'10'00'10));
        __m256i first = _mm256_slli_epi64(pairs, 48), second = _mm256_srli_epi64(pairs, 16);
        in_register(first), in_register(second);
        return _mm256_or_si256(_mm256_srli_epi64(first, 32), _mm256_slli_epi64(second, 48));
    }

    // The floats of spread_halves' halves, vcvtph2ps's bits where each is zero or normal:
    // the sign kept, exponent and mantissa moved to a float's places and the exponent
    // rebased (15 -> 127: + 112), a zero the sign alone. `unusual`: all ones in the lanes
    // of a subnormal, infinite or NaN half, whose float this does not give. The constants
    // come from all ones by shifts (a constant from memory is a 32-byte load under TCG).
    static __m256 halves_to_floats(__m256i spread, __m256i& unusual)
    {
        __m256i zeros = _mm256_setzero_si256(), ones = _mm256_cmpeq_epi32(spread, spread);
        in_register(ones);
        __m256i sign = _mm256_srli_epi32(spread, 31), unsigned_half = _mm256_slli_epi32(spread, 1);
        in_register(sign), in_register(unsigned_half);
        sign = _mm256_slli_epi32(sign, 31);
        __m256i magnitude = _mm256_srli_epi32(unsigned_half, 4); // exponent and mantissa, << 13
        __m256i exponent = _mm256_srli_epi32(unsigned_half, 27);
        in_register(magnitude), in_register(exponent); // else clang tests them with vpminud/vpmaxud against spilled constants
        __m256i bias = _mm256_srli_epi32(ones, 29); // 112 << 23 = 7 << 27
        in_register(bias);
        __m256i rebased = _mm256_add_epi32(magnitude, _mm256_slli_epi32(bias, 27));
        __m256i zero = _mm256_cmpeq_epi32(magnitude, zeros);
        __m256i subnormal = _mm256_andnot_si256(zero, _mm256_cmpeq_epi32(exponent, zeros));
        unusual = _mm256_or_si256(subnormal, _mm256_cmpeq_epi32(exponent, _mm256_srli_epi32(ones, 27)));
        in_register(unusual); // so that clang tests it with vpmovmskb (inline), not vmovmskps
        return _mm256_castsi256_ps(_mm256_or_si256(sign, _mm256_andnot_si256(zero, rebased)));
    }

    // The eight rows' f16 scales at `at` as floats: vcvtph2ps's bits, which it gives itself
    // only when a half is subnormal, infinite or NaN (rare in a model's scales).
    static __m256 scales_to_floats(const u8* at)
    {
        __m256i unusual;
        __m256 floats = halves_to_floats(spread_halves(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at))), unusual);
        in_register(floats);
        if (__builtin_expect(_mm256_movemask_epi8(unusual) != 0, 0))
            return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)));
        return floats;
    }

    // The same for Q4_K's d and dmin, which lie side by side: one 32-byte load, one test.
    static void scale_pair_to_floats(const u8* at, __m256& first, __m256& second)
    {
        __m256i both = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
        in_register(both);
        __m256i unusual_first, unusual_second;
        first = halves_to_floats(spread_halves(_mm256_castsi256_si128(both)), unusual_first);
        in_register(first); // made here, not spilled in pieces past the test
        second = halves_to_floats(spread_halves(_mm256_extracti128_si256(both, 1)), unusual_second);
        in_register(second);
        if (__builtin_expect(_mm256_movemask_epi8(_mm256_or_si256(unusual_first, unusual_second)) != 0, 0)) {
            first = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)));
            second = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 16)));
        }
    }

    // 32 bytes of nibbles, two bytes to a 16-bit lane, times the input: the low nibbles
    // (bits 0-3 and 8-11) with slice `low_slice`'s widened pairs into `low`, the high ones
    // (bits 4-7 and 12-15) with slice `high_slice`'s into `high` (which may be `low`).
    // |product| <= 15 * 128.
    template<typename Input>
    static void add_nibble_products(const u8* at, Input const& input, i32 low_slice, i32 high_slice, __m256i& low, __m256i& high)
    {
        __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
        __m256i x_even, x_odd;
        input.at(low_slice, x_even, x_odd);
        low = _mm256_add_epi16(low, _mm256_mullo_epi16(bits16<0, 4>(w), x_even));
        in_register(low);
        low = _mm256_add_epi16(low, _mm256_mullo_epi16(bits16<8, 4>(w), x_odd));
        in_register(low);
        input.at(high_slice, x_even, x_odd);
        high = _mm256_add_epi16(high, _mm256_mullo_epi16(bits16<4, 4>(w), x_even));
        in_register(high);
        high = _mm256_add_epi16(high, _mm256_mullo_epi16(bits16<12, 4>(w), x_odd));
        in_register(high);
    }

    // interleaved_rows.h's q4_0x8_integers: chunk c holds bytes 4c..4c+3 of each row, their
    // low nibbles values 4c..4c+3 and their high ones 16+4c..16+4c+3, so they pair with the
    // input's slices c and c + 4. Sixteen products per int16 sum. `first`: the slice of the
    // block's first input value.
    template<typename Input>
    static __m256i q4_0x8_integers(const u8* chunks, Input const& input, i32 first)
    {
        __m256i sums = _mm256_setzero_si256();
#pragma clang loop unroll(disable)
        for (i32 c = 0; c < 4; ++c)
            add_nibble_products(chunks + 32 * c, input, first + c, first + 4 + c, sums, sums);
        return pair_sums(sums);
    }

    // interleaved_rows.h's block_terms, step for step, with the scales above.
    static __m256 block_terms(__m256i integers, const u8* scales, float x_scale)
    {
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), scales_to_floats(scales)), _mm256_set1_ps(x_scale));
    }

    // interleaved_rows.h's q4_0x8_terms, step for step, with the scales above.
    template<typename Input>
    static __m256 q4_0x8_terms(const u8* group, i32 per_row, Input const& input, const float* xs, const i32* x_sums, i32 b)
    {
        auto block = q4_0x8::block_of(group, per_row, b);
        __m256i integers = _mm256_sub_epi32(q4_0x8_integers(block.chunks, input, 8 * b), _mm256_set1_epi32(8 * x_sums[b]));
        return block_terms(integers, block.scales, xs[b]);
    }

    // interleaved_rows.h's q4_0x8_group with these terms.
    template<typename Input>
    static void q4_0x8_group(float* out, Input const& input, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
    {
        InterleavedRowsWith<BytePieces>::eight_rows_of_blocks([&](i32 b) { return q4_0x8_terms(group, per_row, input, xs, x_sums, b); }, out, per_row);
    }

    // Plain GGUF Q8_0 rows (not interleaved: the file's layout), eight at a time. Each row's
    // block integer q . x comes from shifts and vpmullw (a byte pair's two products add up
    // to at most 2 * 128 * 127 in int16: ops::quantize keeps the input within +-127, as
    // block_rows.h's bound has it), its eight int32 partial sums then fold with the
    // seven other rows' into one vector, lane r = row r, by 64-bit shifts, vpermq and masks
    // (hadd and vpunpck would be C helpers), and the terms follow block_quants.h's order
    // with the eight rows' f16 scales converted as above.
    //
    // Two rows' partial sums into one vector: lane 2i row a's lanes 2i and 2i+1 added,
    // lane 2i+1 row b's.
    static __m256i fold_pair(__m256i a, __m256i b)
    {
        __m256i ones = _mm256_cmpeq_epi32(a, a);
        __m256i low_halves = _mm256_srli_epi64(ones, 32);
        __m256i a_sums = _mm256_add_epi32(a, _mm256_srli_epi64(a, 32)), b_sums = _mm256_add_epi32(b, _mm256_slli_epi64(b, 32));
        return _mm256_or_si256(_mm256_and_si256(a_sums, low_halves), _mm256_andnot_si256(low_halves, b_sums));
    }
    // Four rows' folded pairs (fold_pair(rows 0, 1) and fold_pair(rows 2, 3)) into the low
    // 128 bits: lane r = row r's whole sum (the high 128 bits hold the same).
    static __m256i fold_quad(__m256i pair01, __m256i pair23)
    {
        __m256i ones = _mm256_cmpeq_epi32(pair01, pair01);
        __m256i low_units = _mm256_permute4x64_epi64(_mm256_zextsi128_si256(_mm256_castsi256_si128(ones)), 0b11'01'10'00); // 64-bit units 0 and 2
        __m256i a = _mm256_add_epi32(pair01, _mm256_permute4x64_epi64(pair01, 0b10'11'00'01)); // units 0+1 twice, 2+3 twice
        __m256i b = _mm256_add_epi32(pair23, _mm256_permute4x64_epi64(pair23, 0b10'11'00'01));
        in_register(a), in_register(b);
        __m256i both = _mm256_or_si256(_mm256_and_si256(a, low_units), _mm256_andnot_si256(low_units, b));
        return _mm256_add_epi32(both, _mm256_permute4x64_epi64(both, 0b01'00'11'10));
    }
    // Row r's block integer (r < 8) for the input's widened block (x_even, x_odd: its even
    // and odd bytes sign-extended to int16), as eight int32 partial sums.
    static __m256i q8_0_partial_sums(const u8* block, __m256i x_even, __m256i x_odd)
    {
        __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
        __m256i products = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), x_even),
            _mm256_mullo_epi16(_mm256_srai_epi16(w, 8), x_odd));
        return pair_sums(products);
    }
    // Block b's terms float(q . x) * d * xs[b] of eight rows `row_bytes` apart, lane r = row r.
    static __m256 q8_0_terms(const u8* rows, size_t row_bytes, const i8* xq, const float* xs, i32 b)
    {
        __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * b));
        __m256i x_even = _mm256_srai_epi16(_mm256_slli_epi16(x, 8), 8), x_odd = _mm256_srai_epi16(x, 8);
        in_register(x_even), in_register(x_odd);
        const u8* first = rows + block_bytes(TensorType::Q8_0) * size_t(b);
        auto pair = [&](size_t r) {
            return fold_pair(q8_0_partial_sums(first + r * row_bytes, x_even, x_odd), q8_0_partial_sums(first + (r + 1) * row_bytes, x_even, x_odd));
        };
        __m256i low = fold_quad(pair(0), pair(2));
        in_register(low);
        __m256i high = fold_quad(pair(4), pair(6));
        __m256i integers = _mm256_or_si256(_mm256_zextsi128_si256(_mm256_castsi256_si128(low)),
            _mm256_permute4x64_epi64(_mm256_zextsi128_si256(_mm256_castsi256_si128(high)), 0b01'00'11'10));
        u16 halves[8];
        for (size_t r = 0; r < 8; ++r)
            __builtin_memcpy(&halves[r], first + r * row_bytes, 2);
        __m256 scales = scales_to_floats(reinterpret_cast<const u8*>(halves));
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), scales), _mm256_set1_ps(xs[b]));
    }
    // simd::matmul_q8_0's rows in groups of eight (d a multiple of 8).
    static void q8_0_rows(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        size_t row_bytes = size_t(per_row) * block_bytes(TensorType::Q8_0);
        for (i32 i = 0; i < d; i += 8) {
            const u8* rows = blocks + size_t(i) * row_bytes;
            InterleavedRowsWith<BytePieces>::eight_rows_of_blocks([&](i32 b) { return q8_0_terms(rows, row_bytes, xq, xs, b); }, out + i, per_row);
        }
    }

    // interleaved_rows.h's q4_kx8_chunk: nibble n of a 16-bit lane (bits 4n..4n+3) times
    // the input byte it pairs with. |product| <= 15 * 128, sixteen of them per int16 sum.
    // `first`: the slice of the chunk's first input value.
    template<typename Input>
    static void q4_kx8_chunk(const u8* slices, Input const& input, i32 first, __m256i& low_sums, __m256i& high_sums)
    {
        __m256i low = _mm256_setzero_si256(), high = _mm256_setzero_si256();
#pragma clang loop unroll(disable)
        for (i32 s = 0; s < 8; ++s)
            add_nibble_products(slices + 32 * s, input, first + s, first + 8 + s, low, high);
        low_sums = pair_sums(low), high_sums = pair_sums(high);
    }

    // k_quants::scale_and_min of group j for eight rows, by shifts alone (j known).
    template<i32 j>
    static void q4_kx8_scale_and_min(__m256i const (&packed)[3], __m256i& scale, __m256i& min)
    {
        if constexpr (j < 4) {
            scale = bits32<8 * j, 6>(packed[0]);
            min = bits32<8 * j, 6>(packed[1]);
        } else {
            constexpr i32 k = j - 4;
            scale = _mm256_or_si256(bits32<8 * k, 4>(packed[2]), _mm256_slli_epi32(bits32<8 * k + 6, 2>(packed[0]), 4));
            min = _mm256_or_si256(bits32<8 * k + 4, 4>(packed[2]), _mm256_slli_epi32(bits32<8 * k + 6, 2>(packed[1]), 4));
        }
    }

    // Group j's term, interleaved_rows.h's q4_kx8_terms step for step.
    template<i32 j>
    static __m256 q4_kx8_term(__m256i const (&packed)[3], __m256i sums, __m256 d, __m256 dmin, const float* xs, const i32* x_sums)
    {
        __m256i scale, min;
        q4_kx8_scale_and_min<j>(packed, scale, min);
        __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(scale, sums)), d);
        __m256 offset = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(min, _mm256_set1_epi32(x_sums[j]))), dmin);
        return _mm256_mul_ps(_mm256_sub_ps(scaled, offset), _mm256_set1_ps(xs[j]));
    }

    template<i32 c, typename Input>
    static void q4_kx8_chunk_terms(const u8* octet, Input const& input, i32 first, const float* xs, const i32* x_sums, __m256i const (&packed)[3],
        __m256 d, __m256 dmin, __m256 (&terms)[8])
    {
        __m256i low, high;
        q4_kx8_chunk(octet + q4_kx8::nibbles_at + 256 * c, input, first + 16 * c, low, high);
        terms[2 * c] = q4_kx8_term<2 * c>(packed, low, d, dmin, xs, x_sums);
        terms[2 * c + 1] = q4_kx8_term<2 * c + 1>(packed, high, d, dmin, xs, x_sums);
    }

    // Super-block terms; `first`: the slice of its first input value.
    template<typename Input>
    static void q4_kx8_terms(const u8* octet, Input const& input, i32 first, const float* xs, const i32* x_sums, __m256 (&terms)[8])
    {
        __m256 d, dmin;
        scale_pair_to_floats(octet, d, dmin);
        __m256i packed[3];
        for (i32 k = 0; k < 3; ++k)
            packed[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(octet + q4_kx8::scales_at + 32 * k));
        q4_kx8_chunk_terms<0>(octet, input, first, xs, x_sums, packed, d, dmin, terms);
        q4_kx8_chunk_terms<1>(octet, input, first, xs, x_sums, packed, d, dmin, terms);
        q4_kx8_chunk_terms<2>(octet, input, first, xs, x_sums, packed, d, dmin, terms);
        q4_kx8_chunk_terms<3>(octet, input, first, xs, x_sums, packed, d, dmin, terms);
    }

    template<typename Input>
    static void q4_kx8_group(float* out, Input const& input, const float* xs, const i32* x_sums, const u8* group, i32 per_row)
    {
        __m256 values = _mm256_setzero_ps();
        for (i32 b = 0; b < per_row; ++b) {
            __m256 t[8];
            q4_kx8_terms(q4_kx8::Octets::octet(group, b), input, 64 * b, xs + 8 * b, x_sums + 8 * b, t);
            // tree_sum8: ((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)).
            __m256 even = _mm256_add_ps(_mm256_add_ps(t[0], t[4]), _mm256_add_ps(t[2], t[6]));
            __m256 odd = _mm256_add_ps(_mm256_add_ps(t[1], t[5]), _mm256_add_ps(t[3], t[7]));
            values = _mm256_add_ps(values, _mm256_add_ps(even, odd));
        }
        _mm256_storeu_ps(out, values);
    }

    // rows(input) with the input widened once on the stack (up to 8192 columns, 16 KiB), or
    // for wider inputs as they come.
    template<typename Rows>
    static void with_widened_input(const i8* xq, i32 n, Rows const& rows)
    {
        constexpr i32 most_columns = 8192;
        if (n > most_columns) {
            rows(Slices<false> { xq, nullptr });
            return;
        }
        i32 wide[most_columns / 2];
        widen_input(xq, n, wide);
        rows(Slices<true> { xq, wide });
    }

    // All of simd::matmul_q4_kx8's rows (d a multiple of 8), the input widened once.
    static void q4_kx8_rows(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        size_t group_bytes = size_t(per_row) * q4_kx8::Octets::octet_bytes;
        auto rows = [&](auto const& input) {
            for (i32 i = 0; i < d; i += q4_kx8::Octets::group_rows)
                q4_kx8_group(out + i, input, xs, x_sums, blocks + size_t(i / q4_kx8::Octets::group_rows) * group_bytes, per_row);
        };
        with_widened_input(xq, n, rows);
    }

    // All of simd::matmul_q4_0x8's rows (d a multiple of 8), the input widened once.
    static void q4_0x8_rows(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        size_t group_bytes = size_t(per_row) * q4_0x8::group_rows * q4_0x8::plain_bytes;
        auto rows = [&](auto const& input) {
            for (i32 i = 0; i < d; i += q4_0x8::group_rows)
                q4_0x8_group(out + i, input, xs, x_sums, blocks + size_t(i / q4_0x8::group_rows) * group_bytes, per_row);
        };
        with_widened_input(xq, n, rows);
    }

    // All of simd::matmul_q8_0x8's rows (d a multiple of 8): each block's integers as Q8x8's
    // below, the terms and tree as Q4_0x8's above. The input widened once.
    static void q8_0x8_rows(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        size_t group_bytes = size_t(per_row) * q8_0x8::group_rows * q8_0x8::plain_bytes;
        auto rows = [&](auto const& input) {
            for (i32 i = 0; i < d; i += q8_0x8::group_rows) {
                const u8* group = blocks + size_t(i / q8_0x8::group_rows) * group_bytes;
                InterleavedRowsWith<BytePieces>::eight_rows_of_blocks([&](i32 b) {
                    auto block = q8_0x8::Layout::block_of(group, per_row, b);
                    return block_terms(q8x8_integers(block.chunks, input, 8 * b), block.scales, xs[b]);
                }, out + i, per_row);
            }
        };
        with_widened_input(xq, n, rows);
    }

    // interleaved_rows.h's q6_kx8_half: the stored values (0..63, one a byte) times the
    // input, |product| <= 63 * 128, four of them per int16 sum (at most 32256).
    static void q6_kx8_half(const u8* half, const i8* x, __m256i (&first)[4], __m256i (&second)[4])
    {
        auto values = [&](i32 s, __m256i (&v)[4]) {
            __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 96 * s));
            __m256i odd = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 96 * s + 32));
            __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 96 * s + 64));
            __m256i nibble = broadcast_here(low_nibbles), top = broadcast_here(bits_4_and_5);
            v[0] = _mm256_or_si256(_mm256_and_si256(low, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 4), top));
            v[1] = _mm256_or_si256(_mm256_and_si256(odd, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 2), top));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low, 4), nibble), _mm256_and_si256(high, top));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(odd, 4), nibble), _mm256_and_si256(_mm256_srli_epi16(high, 2), top));
        };
        // Bytes (0..63) times one widened slice: the int16 pair sums pmaddubsw gives.
        auto products = [&](__m256i bytes, const i8* at) {
            __m256i x_even, x_odd;
            widened_slice(at, x_even, x_odd);
            __m256i low_byte = broadcast_here(low_bytes);
            return _mm256_add_epi16(_mm256_mullo_epi16(_mm256_and_si256(bytes, low_byte), x_even), _mm256_mullo_epi16(_mm256_srli_epi16(bytes, 8), x_odd));
        };
        for (i32 part = 0; part < 2; ++part) {
            __m256i (&sums)[4] = part ? second : first;
            for (auto& sum : sums)
                sum = _mm256_setzero_si256();
            for (i32 s = 4 * part; s < 4 * part + 4; s += 2) {
                __m256i a[4], b[4];
                values(s, a);
                values(s + 1, b);
                for (i32 k = 0; k < 4; ++k) {
                    const i8* at = x + 32 * k + 4 * s;
                    sums[k] = _mm256_add_epi32(sums[k], pair_sums(_mm256_add_epi16(products(a[k], at), products(b[k], at + 4))));
                }
            }
        }
    }

    // Q8x8 (llama2.c int8, interleaved_blocks.h): one 32-value group of eight rows, lane r =
    // row r's exact integer sum, without pmaddubsw and pmaddwd. Chunk c holds each row's
    // values 4c..4c+3 in its 32-bit lane, stored as w xor 0x80: flipped back, split into
    // the even and odd bytes' int16 lanes by shifts, each times the input's widened slice
    // by vpmullw (a product is at most 128 * 128, so it fits), and each product pair into
    // int32 apart (two such products could reach 32768).
    template<typename Input>
    static __m256i q8x8_integers(const u8* chunks, Input const& input, i32 first_slice)
    {
        __m256i sums = _mm256_setzero_si256();
        for (i32 c = 0; c < 8; ++c) {
            __m256i w = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunks + 32 * c)), broadcast_here(byte_flip));
            __m256i x_even, x_odd;
            input.at(first_slice + c, x_even, x_odd);
            __m256i even = _mm256_mullo_epi16(_mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), x_even);
            __m256i odd = _mm256_mullo_epi16(_mm256_srai_epi16(w, 8), x_odd);
            sums = _mm256_add_epi32(sums, _mm256_add_epi32(pair_sums(even), pair_sums(odd)));
        }
        return sums;
    }

    // All of simd::matmul_q8x8's rows (d a multiple of 8): per group of rows, each 32-value
    // group's sums, then value += float(sum) * ws * xs lane for lane in group order, as
    // interleaved_rows.h's q8x8_group does. The input widened once, as for Q4_Kx8.
    static void q8x8_rows(float* out, const i8* xq, const float* xs, const u8* wq, const float* ws, i32 n, i32 d)
    {
        i32 groups = n / q8x8::values_per_group;
        size_t rows_bytes = size_t(q8x8::group_rows) * size_t(n), scales_count = size_t(q8x8::group_rows) * size_t(groups);
        auto rows = [&](auto const& input) {
            for (i32 i = 0; i < d; i += q8x8::group_rows) {
                const u8* group = wq + size_t(i / q8x8::group_rows) * rows_bytes;
                const float* scales = ws + size_t(i / q8x8::group_rows) * scales_count;
                __m256 values = _mm256_setzero_ps();
                for (i32 g = 0; g < groups; ++g) {
                    __m256i sums = q8x8_integers(group + q8x8::group_bytes * size_t(g), input, 8 * g);
                    __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_loadu_ps(scales + 8 * g));
                    values = _mm256_add_ps(values, _mm256_mul_ps(scaled, _mm256_set1_ps(xs[g])));
                }
                _mm256_storeu_ps(out + i, values);
            }
        };
        with_widened_input(xq, n, rows);
    }

    // interleaved_rows.h's Q6_Kx8 terms and tree with the half and the scales above.
    static void q6_kx8_group(float* out, const i8* xq, const float* xs, const i32* x_sums16, const u8* group, i32 per_row)
    {
        auto half = [](const u8* at, const i8* x, __m256i (&first)[4], __m256i (&second)[4]) { q6_kx8_half(at, x, first, second); };
        auto floats = [](const u8* at) { return scales_to_floats(at); };
        InterleavedRowsWith<BytePieces>::q6_kx8_group_with(half, floats, out, xq, xs, x_sums16, group, per_row);
    }
};

}
}
