#pragma once
// IQ4_NL's and IQ4_XS's values and IQ4_XS's group scales as AVX2 vectors, for the one-token
// rows (block_rows.h) and the batch rows (batch_rows.h). Included inside a target pragma
// that enables AVX2.
#include "../../block_quants.h"
#include <immintrin.h>
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

// The 32 values of 16 bytes of nibbles (low nibbles first, as Q4_0's), looked up in the
// 16-value table with pshufb: signed bytes, |w| <= 127.
inline __m256i iq4_lookup(const u8* nibbles)
{
    __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nibbles));
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block_quants::iq4_values)));
    return _mm256_shuffle_epi8(table, _mm256_and_si256(both, _mm256_set1_epi8(0x0F)));
}

// An IQ4_XS super-block's eight group scales, l - 32, lane k group k's: the low nibbles
// from bytes 4-7, the two high bits from bytes 2-3 (block_quants::iq4_xs::scale).
inline __m256i iq4_xs_scales(const u8* block)
{
    u32 high = u32(block[2] | block[3] << 8), low;
    __builtin_memcpy(&low, block + 4, 4);
    __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    __m256i low_nibbles = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(i32(low)), shifts), _mm256_set1_epi32(0xF));
    __m256i high_bits = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(i32(high)), _mm256_srli_epi32(shifts, 1)), _mm256_set1_epi32(3));
    return _mm256_sub_epi32(_mm256_or_si256(low_nibbles, _mm256_slli_epi32(high_bits, 4)), _mm256_set1_epi32(32));
}

}
}
