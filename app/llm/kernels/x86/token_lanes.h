#pragma once
// Rows against a batch of tokens with one token per 32-bit lane (AVX-512 VNNI): the
// prompt's inputs are transposed, sixteen tokens at a time, so that one vector holds the
// same four input bytes of sixteen tokens, and each of a row's weight words (four byte
// values) is broadcast to all sixteen. vpdpbusd then adds four products per token in every
// lane, and a group's integer sums, its float term and the tree over the group terms are
// vertical operations, token for token: no horizontal sum anywhere, where the token-by-token
// rows reduce every 32-value group of every token across a vector.
//
// The driver here is shared; a kind (token_lanes_q2_k.h, token_lanes_iq4.h) unpacks a
// row's 256 values (a super-block, or eight 32-value blocks) into unsigned bytes, adds the
// tokens' input summary its terms need, and computes the terms in its reference's order
// and arithmetic, lane for lane, so every (row, token) has the reference's bits.
//
// Each unit of 256 inputs is transposed for up to 64 tokens (four passes, 20 KB) once for
// every 32 rows of a call, and each row's weights are unpacked once for all four passes.
#include "../../tensor.h"
#include <immintrin.h>
#include <rt/utility.h>

namespace llm::kernels::x86 {
namespace {

struct TokenLanes {
    static constexpr i32 lanes = 16;     // tokens per pass
    static constexpr i32 passes = 4;     // passes held at once: 64 tokens, a whole batch (max_batch)
    static constexpr i32 held_rows = 32; // rows whose running sums are held at once

    // The inputs of a pass's tokens for one unit of 256 values, lane t = token t (zero for
    // lanes past the batch).
    struct Inputs {
        __m512i words[64]; // the four input bytes 4k..4k+3, k = 0..63
        __m512 scales[8];  // each group's input scale
        __m512i sums[8];   // each group's input summary, as the kind makes it
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

    // Groups [first, first + groups) (at most 8) of `count` tokens' inputs: their bytes and
    // their scales.
    static void fill(Inputs& inputs, const MatmulInput* in, i32 count, i32 first, i32 groups)
    {
        for (i32 k = 0; k < 8 * groups; k += 16)
            transpose_tokens(count, rt::min(16, 8 * groups - k), [&](i32 t) { return in[t].q + 32 * first + 4 * k; }, inputs.words + k);
        __m512i scales[16];
        transpose_tokens(count, groups, [&](i32 t) { return in[t].s + first; }, scales);
        for (i32 g = 0; g < groups; ++g)
            inputs.scales[g] = _mm512_castsi512_ps(scales[g]);
    }

    // One group's products for `Rows` rows: words[r] are row r's eight weight words
    // (unsigned bytes), each broadcast against the inputs' words; from start[r]. Two
    // chains a row (even and odd words, added at the end: exact integers), so that
    // vpdpbusd's latency overlaps; the rows share each input load.
    template<i32 Rows>
    static void products(__m512i (&out)[Rows], const u32* const (&words)[Rows], const __m512i* inputs, __m512i const (&start)[Rows])
    {
        __m512i even[Rows], odd[Rows];
        for (i32 r = 0; r < Rows; ++r) {
            even[r] = start[r];
            odd[r] = _mm512_setzero_si512();
        }
        for (i32 s = 0; s < 8; s += 2)
            for (i32 r = 0; r < Rows; ++r) {
                even[r] = _mm512_dpbusd_epi32(even[r], _mm512_set1_epi32(i32(words[r][s])), inputs[s]);
                odd[r] = _mm512_dpbusd_epi32(odd[r], _mm512_set1_epi32(i32(words[r][s + 1])), inputs[s + 1]);
            }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = _mm512_add_epi32(even[r], odd[r]);
    }

    // tree_sum8's tree over eight term vectors (block_sum.h), lane for lane.
    static __m512 tree(__m512 const (&t)[8])
    {
        return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[0], t[4]), _mm512_add_ps(t[2], t[6])),
            _mm512_add_ps(_mm512_add_ps(t[1], t[5]), _mm512_add_ps(t[3], t[7])));
    }

    // `d` rows of n values (n / 32 groups) of Kind's blocks, token t's row i at
    // out[t * out_stride + i]: up to `held_rows` rows at a time against up to 64 tokens,
    // whose running sums stay on the stack from unit to unit, two rows a step. Kind has
    // Weights, unit_bytes (the bytes of 256 values), row_bytes(n), summarise(inputs, in,
    // count, first group, groups), unpack(unit, weights, groups) and add<Rows>(running
    // sums, weights, inputs, groups) (one unit of `Rows` rows against one pass).
    template<typename Kind>
    static void rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 groups = n / 32;
        size_t row_bytes = Kind::row_bytes(n);
        Inputs chunks[passes];
        __m512 sums[held_rows * passes];
        for (i32 first_token = 0; first_token < tokens; first_token += passes * lanes) {
            i32 tokens_now = rt::min(passes * lanes, tokens - first_token);
            i32 passes_now = (tokens_now + lanes - 1) / lanes;
            for (i32 first_row = 0; first_row < d; first_row += held_rows) {
                i32 rows_now = rt::min(held_rows, d - first_row);
                for (auto& sum : sums)
                    sum = _mm512_setzero_ps();
                for (i32 g = 0; g < groups; g += 8) {
                    i32 groups_now = rt::min(8, groups - g);
                    for (i32 p = 0; p < passes_now; ++p) {
                        const MatmulInput* first = in + first_token + p * lanes;
                        i32 count = rt::min(lanes, tokens_now - p * lanes);
                        fill(chunks[p], first, count, g, groups_now);
                        Kind::summarise(chunks[p], first, count, g, groups_now);
                    }
                    const u8* at = blocks + size_t(first_row) * row_bytes + size_t(g / 8) * Kind::unit_bytes;
                    i32 r = 0;
                    for (; r + 2 <= rows_now; r += 2)
                        rows_unit<Kind, 2>(sums + r * passes, { at + size_t(r) * row_bytes, at + size_t(r + 1) * row_bytes }, chunks, passes_now, groups_now);
                    if (r < rows_now)
                        rows_unit<Kind, 1>(sums + r * passes, { at + size_t(r) * row_bytes }, chunks, passes_now, groups_now);
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

    // One unit of `Rows` rows (at rows[r]) against every pass: each row's weights unpacked
    // once for all of them. sums[r * passes + p]: row r's running sums, pass p.
    template<typename Kind, i32 Rows>
    static void rows_unit(__m512* sums, const u8* const (&rows)[Rows], Inputs const* chunks, i32 passes_now, i32 groups)
    {
        typename Kind::Weights w[Rows];
        for (i32 r = 0; r < Rows; ++r)
            Kind::unpack(rows[r], w[r], groups);
        for (i32 p = 0; p < passes_now; ++p) {
            __m512* running[Rows];
            for (i32 r = 0; r < Rows; ++r)
                running[r] = sums + r * passes + p;
            Kind::template add<Rows>(running, w, chunks[p], groups);
        }
    }
};

}
}
