#pragma once
// Q2_K rows against a batch of tokens with one token per 32-bit lane (AVX-512 VNNI): the
// prompt's inputs are transposed, sixteen tokens at a time, so that one vector holds the
// same four input bytes of sixteen tokens, and each of a row's weight words is broadcast
// to all sixteen. vpdpbusd then adds four products per token in every lane, and a group's
// integer sums, its float term and the tree over a super-block's eight terms are vertical
// operations, token for token: no horizontal sum anywhere, where the token-by-token rows
// (low_bit_rows.h) reduce every 32-value group of every token across a vector.
//
// The arithmetic is q2_k.h's block_dot, lane for lane:
//   - A group's products: each 2-bit value times its sub-block's 4-bit scale is at most
//     45, one unsigned byte (a pshufb of the 16-byte table {0, s, 2s, 3s} of the value's
//     sub-block), so eight vpdpbusd over the group's 32 values give
//     scale_first * dot(first 16) + scale_second * dot(second 16), the reference's integer.
//   - Its input sums: the tokens' two 16-value sums packed as an int16 pair (|sum| <= 2048),
//     one pmaddwd with the pair of mins gives min_first * sum_first + min_second * sum_second.
//   - Then (float(products) * d - float(sums) * dmin) * xs and tree_sum8's tree, per lane.
// So every (row, token) has the reference's bits.
//
// Each super-block's inputs are transposed for up to 64 tokens (four passes, 20 KB) once
// for every 32 rows of a call, and each row's weights are unpacked once for all four.
#include "../../q2_k.h"
#include "../../tensor.h"
#include <rt/utility.h>
#include <immintrin.h>

namespace llm::kernels::x86 {
namespace {

struct TokenLanes {
    static constexpr i32 lanes = 16; // tokens per pass
    static constexpr i32 passes = 4; // passes held at once: 64 tokens, a whole batch (max_batch)

    // The inputs of a pass's tokens for one super-block, lane t = token t (zero for lanes
    // past the batch).
    struct Chunk {
        __m512i words[64]; // the four input bytes 4k..4k+3, k = 0..63
        __m512 scales[8];  // each group's input scale
        __m512i sums[8];   // each group's two 16-value input sums, int16 each (first low)
    };

    // rows[c] = column c of the 16 x 16 matrix of 32-bit elements rows[0..15] (in place).
    static void transpose(__m512i (&rows)[16])
    {
        __m512i pairs[16], quads[16];
        for (i32 i = 0; i < 16; i += 2) {
            pairs[i] = _mm512_unpacklo_epi32(rows[i], rows[i + 1]);
            pairs[i + 1] = _mm512_unpackhi_epi32(rows[i], rows[i + 1]);
        }
        // quads[4G + m], 128-bit lane L: element 4L + m of rows 4G..4G+3.
        for (i32 g = 0; g < 16; g += 4) {
            quads[g] = _mm512_unpacklo_epi64(pairs[g], pairs[g + 2]);
            quads[g + 1] = _mm512_unpackhi_epi64(pairs[g], pairs[g + 2]);
            quads[g + 2] = _mm512_unpacklo_epi64(pairs[g + 1], pairs[g + 3]);
            quads[g + 3] = _mm512_unpackhi_epi64(pairs[g + 1], pairs[g + 3]);
        }
        // Column 4L + m: lane L of quads[m], quads[4 + m], quads[8 + m], quads[12 + m].
        for (i32 m = 0; m < 4; ++m) {
            __m512i even_low = _mm512_shuffle_i32x4(quads[m], quads[4 + m], _MM_SHUFFLE(2, 0, 2, 0));
            __m512i odd_low = _mm512_shuffle_i32x4(quads[m], quads[4 + m], _MM_SHUFFLE(3, 1, 3, 1));
            __m512i even_high = _mm512_shuffle_i32x4(quads[8 + m], quads[12 + m], _MM_SHUFFLE(2, 0, 2, 0));
            __m512i odd_high = _mm512_shuffle_i32x4(quads[8 + m], quads[12 + m], _MM_SHUFFLE(3, 1, 3, 1));
            rows[m] = _mm512_shuffle_i32x4(even_low, even_high, _MM_SHUFFLE(2, 0, 2, 0));
            rows[8 + m] = _mm512_shuffle_i32x4(even_low, even_high, _MM_SHUFFLE(3, 1, 3, 1));
            rows[4 + m] = _mm512_shuffle_i32x4(odd_low, odd_high, _MM_SHUFFLE(2, 0, 2, 0));
            rows[12 + m] = _mm512_shuffle_i32x4(odd_low, odd_high, _MM_SHUFFLE(3, 1, 3, 1));
        }
    }

    // Transposes `elements` (at most 16) 32-bit elements of each of `count` tokens, token
    // t's at at(t), into out[0..15], lane t; lanes from count on and elements past
    // `elements` are zero (and not read).
    template<typename At>
    static void transpose_tokens(i32 count, i32 elements, At const& at, __m512i* out)
    {
        __mmask16 present = __mmask16((1u << elements) - 1);
        __m512i rows[16];
        for (i32 t = 0; t < 16; ++t)
            rows[t] = t < count ? _mm512_maskz_loadu_epi32(present, at(t)) : _mm512_setzero_si512();
        transpose(rows);
        for (i32 c = 0; c < 16; ++c)
            out[c] = rows[c];
    }

    // Super-block b of `count` tokens' inputs.
    static void fill(Chunk& chunk, const MatmulInput* in, i32 count, i32 b)
    {
        for (i32 k = 0; k < 64; k += 16)
            transpose_tokens(count, 16, [&](i32 t) { return in[t].q + 256 * b + 4 * k; }, chunk.words + k);
        __m512i scales[16];
        transpose_tokens(count, 8, [&](i32 t) { return in[t].s + 8 * b; }, scales);
        for (i32 g = 0; g < 8; ++g)
            chunk.scales[g] = _mm512_castsi512_ps(scales[g]);
        // A 16-value sum: four vpdpbusd of ones (unsigned) against the tokens' bytes.
        const __m512i ones = _mm512_set1_epi8(1), low_half = _mm512_set1_epi32(0xFFFF);
        for (i32 g = 0; g < 8; ++g) {
            __m512i first_sum = _mm512_setzero_si512(), second_sum = _mm512_setzero_si512();
            for (i32 s = 0; s < 4; ++s) {
                first_sum = _mm512_dpbusd_epi32(first_sum, ones, chunk.words[8 * g + s]);
                second_sum = _mm512_dpbusd_epi32(second_sum, ones, chunk.words[8 * g + 4 + s]);
            }
            chunk.sums[g] = _mm512_or_si512(_mm512_and_si512(first_sum, low_half), _mm512_slli_epi32(second_sum, 16));
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
    static void unpack(const u8* block, Weights& w)
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

    // Group g's term of one row (its unpacked weights) against a pass's chunk.
    static __m512 term(Weights const& w, __m512i products, Chunk const& chunk, i32 g)
    {
        __m512i sums = _mm512_madd_epi16(chunk.sums[g], _mm512_set1_epi32(i32(w.mins[g])));
        return _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(products), w.d), _mm512_mul_ps(_mm512_cvtepi32_ps(sums), w.dmin)),
            chunk.scales[g]);
    }

    // One super-block of `Rows` rows (their unpacked weights) against a pass's chunk,
    // added to value[r]. The rows share each input load; each group's products run in two
    // chains (even and odd words, added at the end: exact integers) so that vpdpbusd's
    // latency overlaps.
    template<i32 Rows>
    static void block(__m512* value, Weights const (&w)[Rows], Chunk const& chunk)
    {
        __m512 terms[Rows][8];
        for (i32 g = 0; g < 8; ++g) {
            const __m512i* inputs = chunk.words + 8 * g;
            __m512i even[Rows], odd[Rows];
            for (i32 r = 0; r < Rows; ++r)
                even[r] = odd[r] = _mm512_setzero_si512();
            for (i32 s = 0; s < 8; s += 2)
                for (i32 r = 0; r < Rows; ++r) {
                    const u32* words = w[r].words[g % 4] + 8 * (g / 4);
                    even[r] = _mm512_dpbusd_epi32(even[r], _mm512_set1_epi32(i32(words[s])), inputs[s]);
                    odd[r] = _mm512_dpbusd_epi32(odd[r], _mm512_set1_epi32(i32(words[s + 1])), inputs[s + 1]);
                }
            for (i32 r = 0; r < Rows; ++r)
                terms[r][g] = term(w[r], _mm512_add_epi32(even[r], odd[r]), chunk, g);
        }
        for (i32 r = 0; r < Rows; ++r) {
            __m512 const* t = terms[r];
            __m512 tree = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[0], t[4]), _mm512_add_ps(t[2], t[6])),
                _mm512_add_ps(_mm512_add_ps(t[1], t[5]), _mm512_add_ps(t[3], t[7])));
            value[r * passes] = _mm512_add_ps(value[r * passes], tree);
        }
    }

    // Super-block b of `Rows` rows (at rows[r]) against every pass: each row's weights
    // unpacked once for all of them. sums[r * passes + p]: row r's running sums, pass p.
    template<i32 Rows>
    static void rows_block(__m512* sums, const u8* const (&rows)[Rows], Chunk const* chunks, i32 passes_now)
    {
        Weights w[Rows];
        for (i32 r = 0; r < Rows; ++r)
            unpack(rows[r], w[r]);
        for (i32 p = 0; p < passes_now; ++p)
            block<Rows>(sums + p, w, chunks[p]);
    }

    // `d` Q2_K rows of n values (n / 256 super-blocks of 84 bytes each), token t's row i
    // at out[t * out_stride + i]: up to `held_rows` rows at a time against up to 64 tokens,
    // whose running sums stay on the stack from super-block to super-block, two rows a
    // step.
    static constexpr i32 held_rows = 32;
    static void q2_k_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        size_t row_bytes = size_t(per_row) * q2_k::q2_k_bytes;
        Chunk chunks[passes];
        __m512 sums[held_rows * passes];
        for (i32 first_token = 0; first_token < tokens; first_token += passes * lanes) {
            i32 tokens_now = tokens - first_token < passes * lanes ? tokens - first_token : passes * lanes;
            i32 passes_now = (tokens_now + lanes - 1) / lanes;
            for (i32 first_row = 0; first_row < d; first_row += held_rows) {
                i32 rows_now = d - first_row < held_rows ? d - first_row : held_rows;
                for (auto& sum : sums)
                    sum = _mm512_setzero_ps();
                for (i32 b = 0; b < per_row; ++b) {
                    for (i32 p = 0; p < passes_now; ++p)
                        fill(chunks[p], in + first_token + p * lanes, rt::min(lanes, tokens_now - p * lanes), b);
                    const u8* at = blocks + size_t(first_row) * row_bytes + size_t(b) * q2_k::q2_k_bytes;
                    i32 r = 0;
                    for (; r + 2 <= rows_now; r += 2)
                        rows_block<2>(sums + r * passes, { at + size_t(r) * row_bytes, at + size_t(r + 1) * row_bytes }, chunks, passes_now);
                    if (r < rows_now)
                        rows_block<1>(sums + r * passes, { at + size_t(r) * row_bytes }, chunks, passes_now);
                }
                for (i32 r = 0; r < rows_now; ++r)
                    for (i32 p = 0; p < passes_now; ++p) {
                        alignas(64) float values[lanes];
                        _mm512_store_ps(values, sums[r * passes + p]);
                        for (i32 t = 0; t < rt::min(lanes, tokens_now - p * lanes); ++t)
                            out[size_t(first_token + p * lanes + t) * out_stride + size_t(first_row + r)] = values[t];
                    }
            }
        }
    }
};

}
}
