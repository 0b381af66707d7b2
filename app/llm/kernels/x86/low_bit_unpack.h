#pragma once
// Q5_0/Q5_1, Q4_1, Q5_K, Q3_K and Q2_K values to int8 with SSE2, shared by every x86 instruction set
// (simd_low_bit.h). They produce exactly the bytes of q5_quants.h's, q3_k.h's and q2_k.h's scalar
// unpacking, so the integer sums, and the results, are the reference's. Included inside
// each file's target pragma; the anonymous namespace gives each file its own copy (see
// nibbles.h).
#include <immintrin.h>
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct LowBitUnpack {
    static __m128i load(const u8* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
    static void store(i8* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
    // 0xFF in each byte of `bytes` that has all the bits of `mask` set, else 0.
    static __m128i has_bits(__m128i bytes, __m128i mask) { return _mm_cmpeq_epi8(_mm_and_si128(bytes, mask), mask); }

    // A 32-value block's 5-bit values minus `offset`: nibbles of 16 bytes (low ones are
    // values 0..15), fifth bits in a little-endian u32 (bit k for value k).
    static void unpack_five_bits(const u8* high_bits, const u8* nibbles, i32 offset, i8* out)
    {
        i32 high;
        __builtin_memcpy(&high, high_bits, 4);
        // Byte k of `first` (values 0..15) and `second` (16..31) is byte k / 8 of their
        // fifth bits; each byte then keeps the bit k % 8 of the `bit` pattern.
        __m128i bytes = _mm_cvtsi32_si128(high);
        bytes = _mm_unpacklo_epi8(bytes, bytes);   // b0 b0 b1 b1 b2 b2 b3 b3
        bytes = _mm_unpacklo_epi16(bytes, bytes);  // each byte four times
        __m128i first = _mm_unpacklo_epi32(bytes, bytes), second = _mm_unpackhi_epi32(bytes, bytes);
        __m128i bit = _mm_set1_epi64x(0x8040201008040201ll), sixteen = _mm_set1_epi8(16), mask = _mm_set1_epi8(0x0F);
        __m128i packed = load(nibbles), shift = _mm_set1_epi8(i8(offset));
        __m128i low = _mm_and_si128(packed, mask), upper = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
        low = _mm_or_si128(low, _mm_and_si128(has_bits(first, bit), sixteen));
        upper = _mm_or_si128(upper, _mm_and_si128(has_bits(second, bit), sixteen));
        store(out, _mm_sub_epi8(low, shift));
        store(out + 16, _mm_sub_epi8(upper, shift));
    }

    // Q5_K sub-block j's 32 values: nibble j % 2 of 32 bytes, fifth bit j of qh[0..31].
    static void q5_k_values(const u8* block, i32 j, i8* out)
    {
        const u8* high = block + 16;
        const u8* nibbles = block + 48 + 32 * (j / 2);
        __m128i nibble_shift = _mm_cvtsi32_si128(4 * (j % 2)), mask = _mm_set1_epi8(0x0F);
        __m128i bit = _mm_set1_epi8(i8(1 << j)), sixteen = _mm_set1_epi8(16);
        for (i32 half = 0; half < 32; half += 16) {
            __m128i low = _mm_and_si128(_mm_srl_epi16(load(nibbles + half), nibble_shift), mask);
            store(out + half, _mm_or_si128(low, _mm_and_si128(has_bits(load(high + half), bit), sixteen)));
        }
    }

    // Q3_K group g's 32 values (-4..3): bits 2k..2k+1 of 32 bytes of pairs, lowered by 4
    // where bit 4h + k of hmask[0..31] is clear (h = g / 4, k = g % 4).
    static void q3_k_values(const u8* block, i32 g, i8* out)
    {
        i32 half = g / 4, k = g % 4;
        const u8* pairs = block + 32 + 32 * half;
        __m128i pair_shift = _mm_cvtsi32_si128(2 * k), three = _mm_set1_epi8(3), four = _mm_set1_epi8(4);
        __m128i bit = _mm_set1_epi8(i8(1 << (4 * half + k)));
        for (i32 part = 0; part < 32; part += 16) {
            __m128i low = _mm_and_si128(_mm_srl_epi16(load(pairs + part), pair_shift), three);
            __m128i lowered = _mm_andnot_si128(has_bits(load(block + part), bit), four);
            store(out + part, _mm_sub_epi8(low, lowered));
        }
    }

    // Q2_K group g's 32 values (0..3): bits 2k..2k+1 of 32 bytes of pairs (k = g % 4).
    static void q2_k_values(const u8* block, i32 g, i8* out)
    {
        const u8* pairs = block + 16 + 32 * (g / 4);
        __m128i pair_shift = _mm_cvtsi32_si128(2 * (g % 4)), three = _mm_set1_epi8(3);
        for (i32 part = 0; part < 32; part += 16)
            store(out + part, _mm_and_si128(_mm_srl_epi16(load(pairs + part), pair_shift), three));
    }

    // Q4_1's 32 values (0..15): the low nibbles of its 16 bytes, then the high ones.
    static void q4_1_values(const u8* block, i8* out)
    {
        __m128i bytes = load(block + 4), mask = _mm_set1_epi8(0x0F);
        store(out, _mm_and_si128(bytes, mask));
        store(out + 16, _mm_and_si128(_mm_srli_epi16(bytes, 4), mask));
    }
};

}
}
