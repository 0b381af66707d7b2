#pragma once
// Q2_K for the token-lanes driver (token_lanes.h): q2_k.h's block_dot, lane for lane.
//   - A group's products: each 2-bit value times its sub-block's 4-bit scale is at most
//     45, one unsigned byte (a pshufb of the 16-byte table {0, s, 2s, 3s} of the value's
//     sub-block), so eight vpdpbusd over the group's 32 values give
//     scale_first * dot(first 16) + scale_second * dot(second 16), the reference's integer.
//   - Its input sums: the tokens' two 16-value sums packed as an int16 pair (|sum| <= 2048),
//     one pmaddwd with the pair of mins gives min_first * sum_first + min_second * sum_second.
//   - Then (float(products) * d - float(sums) * dmin) * xs and tree_sum8's tree.
#include "../../q2_k.h"
#include "token_lanes.h"

namespace llm::kernels::x86 {
namespace {

struct Q2KLanes {
    static constexpr size_t unit_bytes = q2_k::q2_k_bytes;
    static size_t row_bytes(i32 n) { return size_t(n / 256) * unit_bytes; }

    // Each group's two 16-value input sums (four vpdpbusd of ones, unsigned, against the
    // tokens' bytes), as an int16 pair, the first low.
    static void summarise(TokenLanes::Inputs& inputs, const MatmulInput*, i32, i32, i32)
    {
        const __m512i ones = _mm512_set1_epi8(1), low_half = _mm512_set1_epi32(0xFFFF);
        for (i32 g = 0; g < 8; ++g) {
            __m512i first_sum = _mm512_setzero_si512(), second_sum = _mm512_setzero_si512();
            for (i32 s = 0; s < 4; ++s) {
                first_sum = _mm512_dpbusd_epi32(first_sum, ones, inputs.words[8 * g + s]);
                second_sum = _mm512_dpbusd_epi32(second_sum, ones, inputs.words[8 * g + 4 + s]);
            }
            inputs.sums[g] = _mm512_or_si512(_mm512_and_si512(first_sum, low_half), _mm512_slli_epi32(second_sum, 16));
        }
    }

    // A super-block's weights times their scales, as bytes (q2_k.h's layout: group 4h + k
    // is bits 2k..2k+1 of the 32 bytes from 16 + 32h), in four vectors: vector k holds
    // groups k (bytes 0..31) and 4 + k (32..63), one sub-block per 128-bit lane, whose
    // scale table the lane's pshufb reads. Then each group's pair of mins, int16 each.
    struct Weights {
        alignas(64) u32 words[4][16];
        alignas(32) u32 mins[8];
        __m512 d, dmin;
    };
    static void unpack(const u8* block, Weights& w, i32)
    {
        __m512i values = _mm512_loadu_si512(block + q2_k::values_at);
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
        __m512i scales = _mm512_broadcast_i32x4(_mm_and_si128(packed, _mm_set1_epi8(0x0F)));
        const __m512i three = _mm512_set1_epi8(3);
        const __m512i once = _mm512_set1_epi32(i32(0xFF00FF00)), twice = _mm512_set1_epi32(i32(0xFFFF0000));
        // Lane L's sub-block for k = 0 in every byte: 0, 1, 8, 9 (2k more for k).
        const __m512i sub_blocks = _mm512_set_epi32(0x09090909, 0x09090909, 0x09090909, 0x09090909, 0x08080808, 0x08080808, 0x08080808,
            0x08080808, 0x01010101, 0x01010101, 0x01010101, 0x01010101, 0, 0, 0, 0);
        for (i32 k = 0; k < 4; ++k) {
            __m512i scale = _mm512_shuffle_epi8(scales, _mm512_add_epi8(sub_blocks, _mm512_set1_epi8(char(2 * k)))); // the lane's scale in every byte
            // Bytes 0..3 of each lane: 0, s, 2s, 3s.
            __m512i table = _mm512_add_epi8(_mm512_and_si512(scale, once), _mm512_and_si512(_mm512_add_epi8(scale, scale), twice));
            __m512i two_bits = _mm512_and_si512(_mm512_srli_epi16(values, 2 * k), three);
            _mm512_store_si512(w.words[k], _mm512_shuffle_epi8(table, two_bits));
        }
        _mm256_store_si256(reinterpret_cast<__m256i*>(w.mins), _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F))));
        u32 halves; // d and dmin, converted as ops::half_to_float does (exactly)
        __builtin_memcpy(&halves, block + q2_k::d_at, 4);
        __m128 both = _mm_cvtph_ps(_mm_cvtsi32_si128(i32(halves)));
        w.d = _mm512_broadcastss_ps(both);
        w.dmin = _mm512_broadcastss_ps(_mm_movehdup_ps(both));
    }

    // One super-block of `Rows` rows (their unpacked weights) against a pass's inputs,
    // added to *value[r].
    template<i32 Rows>
    static void add(__m512* const (&value)[Rows], Weights const (&w)[Rows], TokenLanes::Inputs const& inputs, i32)
    {
        __m512 terms[Rows][8];
        for (i32 g = 0; g < 8; ++g) {
            const u32* words[Rows];
            __m512i start[Rows], products[Rows];
            for (i32 r = 0; r < Rows; ++r) {
                words[r] = w[r].words[g % 4] + 8 * (g / 4);
                start[r] = _mm512_setzero_si512();
            }
            TokenLanes::products<Rows>(products, words, inputs.words + 8 * g, start);
            for (i32 r = 0; r < Rows; ++r) {
                __m512i sums = _mm512_madd_epi16(inputs.sums[g], _mm512_set1_epi32(i32(w[r].mins[g])));
                terms[r][g] = _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(products[r]), w[r].d), _mm512_mul_ps(_mm512_cvtepi32_ps(sums), w[r].dmin)),
                    inputs.scales[g]);
            }
        }
        for (i32 r = 0; r < Rows; ++r)
            *value[r] = _mm512_add_ps(*value[r], TokenLanes::tree(terms[r]));
    }
};

}
}
