#pragma once
// Rows against a batch of tokens on the integer units (AVX2, also compiled into AVX-512):
// each weight block is loaded and unpacked once (nibbles split, six-bit values assembled
// and centred, scales decoded, halves converted) and then multiplied with `Tokens` tokens'
// inputs, instead of once per token as the one-token kernels (int8_rows.h, k_quant_rows.h,
// block_rows.h, low_bit_rows.h) do. The one-token kernels are compute-bound, so the unpacking, not the
// memory traffic, is what a batch saves; the independent float sums of several tokens
// also hide each other's latency.
//
// Each (row, token) result keeps its one-token kernel's arithmetic: the same exact integer
// group sums (int16 pair sums that never saturate, see the bounds below), the same float
// terms lane for lane and the same order of adding them (runq.c's serial order for
// llama2.c int8, tree_sum8's tree for the GGUF types), so a batch gives the one-token bits.
//
// Saturation bounds of pmaddubsw (int16 pair sums), with |x| <= 127 (ops::quantize):
//   int8, Q8_0: |w| * sign(x, w), |w| <= 128: |pair| <= 2 * 128 * 127 = 32512.
//   Q4_K, Q4_0: nibble (0..15) * x: |pair| <= 3840.
//   Q6_K: |q - 32| * sign(x, q - 32), |q - 32| <= 32: |pair| <= 8128. Its pairs are
//         (q0 - 32) x0 + (q1 - 32) x1, the one-token kernel's q . x - 32 . x pair for pair.
//   Q5_K, Q3_K, Q2_K: low_bit_rows.h's bounds, the same steps.
//   IQ4_XS: its table's values as Q8_0's, |w| <= 127.
// Included inside a target pragma that enables AVX2, after tensor.h (for MatmulInput).
#include "byte_products.h"
#include "low_bit_rows.h"
#include "iq4_values.h"
#include "token_blocks.h"
#include "../../ops.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct BatchRows : BytePieces {
    // llama2.c int8 rows (groups of 32, n a multiple of 32): one row, `Tokens` tokens.
    template<i32 Tokens>
    static void int8_row(float* out, size_t out_stride, const MatmulInput* in, const i8* w, const float* ws, i32 n)
    {
        i32 groups = n / 32;
        float values[Tokens] {};
        i32 g = 0;
        for (; g + 8 <= groups; g += 8) {
            __m256i pairs[Tokens][4];
            for (i32 k = 0; k < 8; k += 2) {
                __m256i w0 = load(w + size_t(g + k) * 32), w1 = load(w + size_t(g + k + 1) * 32);
                __m256i a0 = _mm256_abs_epi8(w0), a1 = _mm256_abs_epi8(w1);
                for (i32 t = 0; t < Tokens; ++t) {
                    const i8* x = in[t].q + (g + k) * 32;
                    pairs[t][k / 2] = pair(pair_sums(_mm256_maddubs_epi16(a0, _mm256_sign_epi8(load(x), w0))),
                        pair_sums(_mm256_maddubs_epi16(a1, _mm256_sign_epi8(load(x + 32), w1))));
                }
            }
            __m256 weight_scales = _mm256_loadu_ps(ws + g);
            for (i32 t = 0; t < Tokens; ++t) {
                __m256 integers = _mm256_cvtepi32_ps(finish(pairs[t][0], pairs[t][1], pairs[t][2], pairs[t][3]));
                __m256 terms = _mm256_mul_ps(_mm256_mul_ps(integers, weight_scales), _mm256_loadu_ps(in[t].s + g));
                alignas(32) float lanes[8];
                _mm256_store_ps(lanes, terms);
                float value = values[t];
                for (float lane : lanes)
                    value += lane;
                values[t] = value;
            }
        }
        for (; g < groups; ++g) {
            __m256i wv = load(w + size_t(g) * 32), absolute = _mm256_abs_epi8(wv);
            for (i32 t = 0; t < Tokens; ++t) {
                i32 integer = horizontal_sum(pair_sums(_mm256_maddubs_epi16(absolute, _mm256_sign_epi8(load(in[t].q + g * 32), wv))));
                values[t] += float(integer) * ws[g] * in[t].s[g];
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }

    // Q4_K (144-byte blocks, `per_row` a row): one row, `Tokens` tokens.
    template<i32 Tokens>
    static void q4_k_row(float* out, size_t out_stride, const MatmulInput* in, const u8* row, i32 per_row)
    {
        const __m256i nibble = _mm256_set1_epi8(0x0F);
        float values[Tokens] {};
        for (i32 b = 0; b < per_row; ++b) {
            const u8* block = row + size_t(b) * 144;
            __m256i low[4], high[4];
            for (i32 chunk = 0; chunk < 4; ++chunk) {
                __m256i bytes = load(block + 16 + 32 * chunk);
                low[chunk] = _mm256_and_si256(bytes, nibble);
                high[chunk] = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble);
            }
            // k_quant_rows.h's decoding of the scales and mins.
            u32 w0, w1, w2;
            __builtin_memcpy(&w0, block + 4, 4);
            __builtin_memcpy(&w1, block + 8, 4);
            __builtin_memcpy(&w2, block + 12, 4);
            __m128i packed = _mm_setr_epi32(i32(w0 & 0x3F3F3F3F), i32((w2 & 0x0F0F0F0F) | ((w0 >> 2) & 0x30303030)), i32(w1 & 0x3F3F3F3F),
                i32(((w2 >> 4) & 0x0F0F0F0F) | ((w1 >> 2) & 0x30303030)));
            __m256 scales = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(packed));
            __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(packed, 8)));
            __m256 d, dmin;
            two_halves_to_floats(block, d, dmin);
            for (i32 t = 0; t < Tokens; ++t) {
                const i8* xq = in[t].q + 256 * b;
                __m256i pairs[4];
                for (i32 chunk = 0; chunk < 4; ++chunk)
                    pairs[chunk] = pair(pair_sums(_mm256_maddubs_epi16(low[chunk], load(xq + 64 * chunk))),
                        pair_sums(_mm256_maddubs_epi16(high[chunk], load(xq + 64 * chunk + 32))));
                __m256 products = _mm256_cvtepi32_ps(finish(pairs[0], pairs[1], pairs[2], pairs[3]));
                __m256 input_sums = _mm256_cvtepi32_ps(load(in[t].sums + 8 * b));
                __m256 terms = _mm256_mul_ps(
                    _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(scales, products), d), _mm256_mul_ps(_mm256_mul_ps(mins, input_sums), dmin)),
                    _mm256_loadu_ps(in[t].s + 8 * b));
                values[t] += tree_sum(terms);
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }

    // Q6_K (210-byte blocks): one row, `Tokens` tokens. A half block (four groups of 32)
    // is unpacked at a time, to stay within the registers.
    template<i32 Tokens>
    static void q6_k_row(float* out, size_t out_stride, const MatmulInput* in, const u8* row, i32 per_row)
    {
        const __m256i nibble = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30), thirty_two = _mm256_set1_epi8(32);
        float values[Tokens] {};
        for (i32 b = 0; b < per_row; ++b) {
            const u8* block = row + size_t(b) * 210;
            __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 192));
            __m256i pairs[Tokens][4];
            for (i32 half = 0; half < 2; ++half) {
                __m256i low0 = load(block + 64 * half), low1 = load(block + 64 * half + 32), high = load(block + 128 + 32 * half);
                // k_quant_rows.h's six-bit values, centred: q - 32 in [-32, 31].
                __m256i centred[4] = {
                    _mm256_or_si256(_mm256_and_si256(low0, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 4), bits45)),
                    _mm256_or_si256(_mm256_and_si256(low1, nibble), _mm256_and_si256(_mm256_slli_epi16(high, 2), bits45)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low0, 4), nibble), _mm256_and_si256(high, bits45)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low1, 4), nibble), _mm256_and_si256(_mm256_srli_epi16(high, 2), bits45)),
                };
                __m256i magnitude[4], scale[4];
                for (i32 k = 0; k < 4; ++k) {
                    centred[k] = _mm256_sub_epi8(centred[k], thirty_two);
                    magnitude[k] = _mm256_abs_epi8(centred[k]);
                    i32 g = 4 * half + k;
                    __m128i which = _mm_setr_epi8(char(2 * g), char(2 * g), char(2 * g), char(2 * g), char(2 * g), char(2 * g), char(2 * g),
                        char(2 * g), char(2 * g + 1), char(2 * g + 1), char(2 * g + 1), char(2 * g + 1), char(2 * g + 1), char(2 * g + 1),
                        char(2 * g + 1), char(2 * g + 1));
                    scale[k] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scale_bytes, which));
                }
                for (i32 t = 0; t < Tokens; ++t) {
                    const i8* xq = in[t].q + 256 * b + 128 * half;
                    __m256i groups[4];
                    for (i32 k = 0; k < 4; ++k)
                        groups[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude[k], _mm256_sign_epi8(load(xq + 32 * k), centred[k])), scale[k]);
                    pairs[t][2 * half] = pair(groups[0], groups[1]);
                    pairs[t][2 * half + 1] = pair(groups[2], groups[3]);
                }
            }
            __m256 d = half_to_floats(block + 208);
            for (i32 t = 0; t < Tokens; ++t) {
                __m256 products = _mm256_cvtepi32_ps(finish(pairs[t][0], pairs[t][1], pairs[t][2], pairs[t][3]));
                values[t] += tree_sum(_mm256_mul_ps(_mm256_mul_ps(products, d), _mm256_loadu_ps(in[t].s + 8 * b)));
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }

    // GGUF Q8_0 (34-byte blocks), Q4_0 and IQ4_NL (18-byte blocks) rows, `per_row` blocks:
    // one row, `Tokens` tokens, in block_rows.h's order (eight blocks' sums in the lanes of a
    // vector, then the last per_row % 8 blocks one by one). Q4_0's stored offset, 8 * sum(x),
    // comes off each block's integer sum with the input's group sums (MatmulInput::sums).
    // IQ4_NL's nibbles are looked up in its table and multiplied as Q8_0's values.
    // Q8_0 with exact byte products (`Pieces`, VNNI: in[t].sums needed): the weights plus
    // 128 as unsigned bytes against x, 128 times the block's input sum taken off after.
    enum class Blocks { Q8_0, Q4_0, IQ4_NL };
    template<Blocks Kind, i32 Tokens, typename Pieces = BytePieces>
    static void block_row(float* out, size_t out_stride, const MatmulInput* in, const u8* row, i32 per_row)
    {
        constexpr bool Q4 = Kind == Blocks::Q4_0;
        constexpr size_t bytes = Kind == Blocks::Q8_0 ? 34 : 18;
        constexpr bool offset_q8 = Kind == Blocks::Q8_0 && Pieces::exact_byte_products;
        const __m256i nibble = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8(char(0x80));
        // A block's weights, ready for the products: Q8_0's magnitudes and values (the sign
        // goes onto x) or, offset, the weights plus 128; Q4_0's nibbles, low ones first.
        struct Weights {
            __m256i magnitude, values;
        };
        auto unpack = [&](const u8* block) {
            if constexpr (Q4) {
                __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
                __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
                return Weights { _mm256_and_si256(both, nibble), _mm256_setzero_si256() };
            } else if constexpr (offset_q8) {
                return Weights { _mm256_xor_si256(load(block + 2), flip), _mm256_setzero_si256() };
            } else if constexpr (Kind == Blocks::IQ4_NL) {
                __m256i w = iq4_lookup(block + 2);
                return Weights { _mm256_abs_epi8(w), w };
            } else {
                __m256i w = load(block + 2);
                return Weights { _mm256_abs_epi8(w), w };
            }
        };
        auto products = [](Weights const& w, const i8* x) {
            if constexpr (Q4)
                return pair_sums(_mm256_maddubs_epi16(w.magnitude, load(x)));
            else if constexpr (offset_q8)
                return Pieces::byte_products(w.magnitude, load(x));
            else
                return pair_sums(_mm256_maddubs_epi16(w.magnitude, _mm256_sign_epi8(load(x), w.values)));
        };
        float values[Tokens] {};
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8) {
            const u8* blocks = row + size_t(b) * bytes;
            __m256i pairs[Tokens][4];
            for (i32 k = 0; k < 8; k += 2) {
                Weights w0 = unpack(blocks + size_t(k) * bytes), w1 = unpack(blocks + size_t(k + 1) * bytes);
                for (i32 t = 0; t < Tokens; ++t) {
                    const i8* x = in[t].q + 32 * (b + k);
                    pairs[t][k / 2] = pair(products(w0, x), products(w1, x + 32));
                }
            }
            const u8* scales[8];
            for (i32 k = 0; k < 8; ++k)
                scales[k] = blocks + size_t(k) * bytes;
            __m256 d = halves_to_floats(scales);
            for (i32 t = 0; t < Tokens; ++t) {
                __m256i integers = finish(pairs[t][0], pairs[t][1], pairs[t][2], pairs[t][3]);
                if constexpr (Q4)
                    integers = _mm256_sub_epi32(integers, _mm256_mullo_epi32(load(in[t].sums + b), _mm256_set1_epi32(8)));
                if constexpr (offset_q8)
                    integers = _mm256_sub_epi32(integers, _mm256_slli_epi32(load(in[t].sums + b), 7));
                values[t] += tree_sum(_mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), d), _mm256_loadu_ps(in[t].s + b)));
            }
        }
        for (; b < per_row; ++b) {
            const u8* block = row + size_t(b) * bytes;
            Weights w = unpack(block);
            float d = ops::half_to_float(u16(block[0] | block[1] << 8));
            for (i32 t = 0; t < Tokens; ++t) {
                i32 integer = horizontal_sum(products(w, in[t].q + 32 * b));
                if constexpr (Q4)
                    integer -= 8 * in[t].sums[b];
                if constexpr (offset_q8)
                    integer -= 128 * in[t].sums[b];
                values[t] += float(integer) * d * in[t].s[b];
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }

    // The entry points (batch_entry_points.h): `d` rows against `tokens` inputs, token t's
    // row i at out[t * out_stride + i]; four tokens a pass over each row.
    template<typename RowKernel>
    static void rows(i32 tokens, i32 d, RowKernel const& row_kernel)
    {
        in_token_blocks(tokens, [&](auto count, i32 first) {
            for (i32 i = 0; i < d; ++i)
                row_kernel(count, first, i);
        });
    }
    static void q8_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const i8* wq, const float* ws, i32 n, i32 d)
    {
        rows(tokens, d, [&](auto count, i32 first, i32 i) {
            int8_row<decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first, wq + size_t(i) * size_t(n),
                ws + size_t(i) * size_t(n / 32), n);
        });
    }
    static void q4_k_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        rows(tokens, d, [&](auto count, i32 first, i32 i) {
            q4_k_row<decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first,
                blocks + size_t(i) * size_t(per_row) * 144, per_row);
        });
    }
    // IQ4_XS (136-byte super-blocks, block_quants.h): block_rows.h's iq4_xs_rows with each
    // super-block's values looked up and its scales decoded once for `Tokens` tokens.
    template<i32 Tokens>
    static void iq4_xs_row(float* out, size_t out_stride, const MatmulInput* in, const u8* row, i32 per_row)
    {
        constexpr size_t bytes = block_quants::iq4_xs::bytes;
        float values[Tokens] {};
        for (i32 b = 0; b < per_row; ++b) {
            const u8* block = row + size_t(b) * bytes;
            prefetch_ahead(block, bytes);
            __m256i w[8], magnitudes[8];
            for (i32 k = 0; k < 8; ++k) {
                w[k] = iq4_lookup(block + block_quants::iq4_xs::nibbles_at + 16 * k);
                magnitudes[k] = _mm256_abs_epi8(w[k]);
            }
            __m256i scales = iq4_xs_scales(block);
            __m256 d = _mm256_set1_ps(ops::half_to_float(u16(block[0] | block[1] << 8)));
            for (i32 t = 0; t < Tokens; ++t) {
                const i8* x = in[t].q + 256 * b;
                __m256i pairs[4];
                for (i32 k = 0; k < 8; k += 2)
                    pairs[k / 2] = pair(pair_sums(_mm256_maddubs_epi16(magnitudes[k], _mm256_sign_epi8(load(x + 32 * k), w[k]))),
                        pair_sums(_mm256_maddubs_epi16(magnitudes[k + 1], _mm256_sign_epi8(load(x + 32 * (k + 1)), w[k + 1]))));
                __m256 terms = _mm256_cvtepi32_ps(_mm256_mullo_epi32(finish(pairs[0], pairs[1], pairs[2], pairs[3]), scales));
                values[t] += tree_sum(_mm256_mul_ps(_mm256_mul_ps(terms, d), _mm256_loadu_ps(in[t].s + 8 * b)));
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }
    static void iq4_xs_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        rows(tokens, d, [&](auto count, i32 first, i32 i) {
            iq4_xs_row<decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first,
                blocks + size_t(i) * size_t(per_row) * block_quants::iq4_xs::bytes, per_row);
        });
    }

    // Q5_K (176-byte blocks): low_bit_rows.h's q5_k_rows with each block's five-bit values
    // assembled once for `Tokens` tokens, then every token's products, terms and sum by
    // the same steps.
    template<i32 Tokens>
    static void q5_k_row(float* out, size_t out_stride, const MatmulInput* in, const u8* row, i32 per_row)
    {
        const __m256i nibble = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
        float values[Tokens] {};
        for (i32 b = 0; b < per_row; ++b) {
            const u8* block = row + size_t(b) * 176;
            __m256i high = load(block + 16);
            __m256i first[4], second[4];
            for (i32 chunk = 0; chunk < 4; ++chunk) {
                __m256i bytes = load(block + 48 + 32 * chunk);
                first[chunk] = _mm256_or_si256(_mm256_and_si256(bytes, nibble), _mm256_and_si256(LowBitRows::move_bit(high, 2 * chunk, 4), sixteen));
                second[chunk] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble),
                    _mm256_and_si256(LowBitRows::move_bit(high, 2 * chunk + 1, 4), sixteen));
            }
            __m256 scales, mins, d, dmin;
            LowBitRows::scales_and_mins(block + 4, scales, mins);
            two_halves_to_floats(block, d, dmin);
            for (i32 t = 0; t < Tokens; ++t) {
                const i8* xq = in[t].q + 256 * b;
                __m256i pairs[4];
                for (i32 chunk = 0; chunk < 4; ++chunk)
                    pairs[chunk] = LowBitRows::pair_of_products(_mm256_maddubs_epi16(first[chunk], load(xq + 64 * chunk)),
                        _mm256_maddubs_epi16(second[chunk], load(xq + 64 * chunk + 32)));
                __m256 products = _mm256_cvtepi32_ps(finish(pairs[0], pairs[1], pairs[2], pairs[3]));
                __m256 input_sums = _mm256_cvtepi32_ps(load(in[t].sums + 8 * b));
                __m256 terms = _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(scales, products), d),
                                                 _mm256_mul_ps(_mm256_mul_ps(mins, input_sums), dmin)),
                    _mm256_loadu_ps(in[t].s + 8 * b));
                values[t] += tree_sum(terms);
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }

    static void q5_k_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        rows(tokens, d, [&](auto count, i32 first, i32 i) {
            q5_k_row<decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first,
                blocks + size_t(i) * size_t(per_row) * 176, per_row);
        });
    }
    // Q5_0 and Q5_1 (22- and 24-byte blocks of 32 values): low_bit_rows.h's block_row with
    // each block's five-bit values unpacked once for `Tokens` tokens, then every token's
    // products, terms and sums by the same steps (eight blocks at a time, the rest one by
    // one). Gemma 3's Q4_K_M files hold many: llama-quantize's Q4_K rows of 1152 values,
    // not a multiple of 256, become Q5_0.
    template<typename Type, i32 Tokens>
    static void five_bit_row(float* out, size_t out_stride, const MatmulInput* in, const u8* row, i32 per_row)
    {
        float values[Tokens] {};
        const u8* block = row;
        i32 b = 0;
        for (; b + 8 <= per_row; b += 8, block += 8 * Type::bytes) {
            const u8* at[8];
            __m256i unpacked[8];
            for (i32 k = 0; k < 8; ++k) {
                at[k] = block + size_t(k) * Type::bytes;
                unpacked[k] = Type::values(at[k]);
            }
            for (i32 t = 0; t < Tokens; ++t) {
                const i8* xq = in[t].q + 32 * b;
                __m256i pairs[4];
                for (i32 k = 0; k < 8; k += 2)
                    pairs[k / 2] = LowBitRows::pair_of_products(_mm256_maddubs_epi16(unpacked[k], load(xq + 32 * k)),
                        _mm256_maddubs_epi16(unpacked[k + 1], load(xq + 32 * (k + 1))));
                values[t] += tree_sum(Type::terms(at, finish(pairs[0], pairs[1], pairs[2], pairs[3]), load(in[t].sums + b), _mm256_loadu_ps(in[t].s + b)));
            }
        }
        for (; b < per_row; ++b, block += Type::bytes) {
            __m256i unpacked = Type::values(block);
            for (i32 t = 0; t < Tokens; ++t) {
                i32 products = horizontal_sum(pair_sums(_mm256_maddubs_epi16(unpacked, load(in[t].q + 32 * b))));
                values[t] += Type::term(block, products, in[t].sums[b], in[t].s[b]);
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }
    template<typename Type>
    static void five_bit_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        rows(tokens, d, [&](auto count, i32 first, i32 i) {
            five_bit_row<Type, decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first,
                blocks + size_t(i) * size_t(per_row) * Type::bytes, per_row);
        });
    }
    // Both need the inputs' group sums (GGUF models have them).
    static void q5_0_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        five_bit_rows_batch<LowBitRows::Q5_0>(out, out_stride, in, tokens, blocks, n, d);
    }
    static void q5_1_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        five_bit_rows_batch<LowBitRows::Q5_1>(out, out_stride, in, tokens, blocks, n, d);
    }
    static void q4_1_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        five_bit_rows_batch<LowBitRows::Q4_1>(out, out_stride, in, tokens, blocks, n, d);
    }

    // Q3_K (110-byte blocks): low_bit_rows.h's q3_k_row with each block's three-bit values
    // and scales unpacked once for `Tokens` tokens, then every token's products, offsets,
    // terms and sum by the same steps; token t's offsets (q3_k_offsets) at offsets[t].
    template<i32 Tokens>
    static void q3_k_row(float* out, size_t out_stride, const MatmulInput* in, const i32* const* offsets, const u8* row, i32 per_row)
    {
        const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
        float values[Tokens] {};
        for (i32 b = 0; b < per_row; ++b) {
            const u8* block = row + size_t(b) * 110;
            __m128i scale_bytes = LowBitRows::q3_k_scales(block);
            __m256i first_scales = _mm256_cvtepi8_epi32(scale_bytes), second_scales = _mm256_cvtepi8_epi32(_mm_srli_si128(scale_bytes, 8));
            __m256i high = load(block);
            __m256i u[8];
            for (i32 g = 0; g < 8; ++g) {
                __m256i bit_pairs = load(block + 32 + 32 * (g / 4));
                u[g] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bit_pairs, 2 * (g % 4)), three),
                    _mm256_and_si256(LowBitRows::move_bit(high, g, 2), four));
            }
            __m256 d = half_to_floats(block + 108);
            for (i32 t = 0; t < Tokens; ++t) {
                const i8* xq = in[t].q + 256 * b;
                __m256i groups[8];
                for (i32 g = 0; g < 8; ++g)
                    groups[g] = _mm256_maddubs_epi16(u[g], load(xq + 32 * g));
                __m256i first, second;
                LowBitRows::sub_block_sums(groups, first, second);
                first = _mm256_mullo_epi32(_mm256_sub_epi32(first, load(offsets[t] + 16 * b)), first_scales);
                second = _mm256_mullo_epi32(_mm256_sub_epi32(second, load(offsets[t] + 16 * b + 8)), second_scales);
                __m256i integers = _mm256_add_epi32(_mm256_permute2x128_si256(first, second, 0x20), _mm256_permute2x128_si256(first, second, 0x31));
                values[t] += tree_sum(_mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(integers), d), _mm256_loadu_ps(in[t].s + 8 * b)));
            }
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }

    // Rows of at most `summary_most_blocks` super-blocks (the caller checks) whose row
    // kernel reads a summary of each token's input, `summarise(summary, xq, super-blocks)`:
    // each block of tokens' summaries once, on the stack, then `row(count, first token,
    // row, the tokens' summaries)` for every row.
    static constexpr i32 summary_most_blocks = 32;
    template<typename Summary, typename Summarise, typename Row>
    static void rows_with_input_summaries(const MatmulInput* in, i32 tokens, i32 per_row, i32 d, Summarise const& summarise, Row const& row)
    {
        in_token_blocks(tokens, [&](auto count, i32 first) {
            constexpr i32 block_tokens = decltype(count)::value;
            Summary summaries[block_tokens][16 * summary_most_blocks];
            const Summary* token_summaries[block_tokens];
            for (i32 t = 0; t < block_tokens; ++t) {
                summarise(summaries[t], in[first + t].q, per_row);
                token_summaries[t] = summaries[t];
            }
            for (i32 i = 0; i < d; ++i)
                row(count, first, i, token_summaries);
        });
    }
    static void q3_k_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        rows_with_input_summaries<i32>(in, tokens, per_row, d, LowBitRows::q3_k_offsets, [&](auto count, i32 first, i32 i, const i32* const* offsets) {
            q3_k_row<decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first, offsets,
                blocks + size_t(i) * size_t(per_row) * 110, per_row);
        });
    }
    // Q2_K: each block unpacked once (low_bit_rows.h's q2_k_unpack) for `Tokens` tokens,
    // then every token's terms and sum as the one-token kernel computes them; token t's
    // 16-value input sums at sums16[t].
    template<i32 Tokens>
    static void q2_k_row(float* out, size_t out_stride, const MatmulInput* in, const i16* const* sums16, const u8* row, i32 per_row)
    {
        float values[Tokens] {};
        for (i32 b = 0; b < per_row; ++b) {
            auto block = LowBitRows::q2_k_unpack(row + size_t(b) * 84);
            for (i32 t = 0; t < Tokens; ++t)
                values[t] += tree_sum(LowBitRows::q2_k_terms(block, in[t].q + 256 * b, in[t].s + 8 * b, sums16[t] + 16 * b));
        }
        for (i32 t = 0; t < Tokens; ++t)
            out[size_t(t) * out_stride] = values[t];
    }

    static void q2_k_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        rows_with_input_summaries<i16>(in, tokens, per_row, d, LowBitRows::q2_k_input_sums, [&](auto count, i32 first, i32 i, const i16* const* sums16) {
            q2_k_row<decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first, sums16,
                blocks + size_t(i) * size_t(per_row) * 84, per_row);
        });
    }
    static void q6_k_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 256;
        rows(tokens, d, [&](auto count, i32 first, i32 i) {
            q6_k_row<decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first,
                blocks + size_t(i) * size_t(per_row) * 210, per_row);
        });
    }
    template<Blocks Kind>
    static void blocks_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        i32 per_row = n / 32;
        rows(tokens, d, [&](auto count, i32 first, i32 i) {
            block_row<Kind, decltype(count)::value>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first,
                blocks + size_t(i) * size_t(per_row) * (Kind == Blocks::Q8_0 ? 34 : 18), per_row);
        });
    }
    // Every set's (batch_entry_points.h), with its byte products: VNNI's where the inputs
    // come with their block sums (GGUF's always do).
    template<typename Pieces>
    static void q8_0_rows_batch_with(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        if constexpr (Pieces::exact_byte_products)
            if (in[0].sums) {
                i32 per_row = n / 32;
                rows(tokens, d, [&](auto count, i32 first, i32 i) {
                    block_row<Blocks::Q8_0, decltype(count)::value, Pieces>(out + size_t(first) * out_stride + size_t(i), out_stride, in + first,
                        blocks + size_t(i) * size_t(per_row) * 34, per_row);
                });
                return;
            }
        blocks_rows_batch<Blocks::Q8_0>(out, out_stride, in, tokens, blocks, n, d);
    }
    // Needs the inputs' group sums (GGUF models have them).
    static void q4_0_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        blocks_rows_batch<Blocks::Q4_0>(out, out_stride, in, tokens, blocks, n, d);
    }
    static void iq4_nl_rows_batch(float* out, size_t out_stride, const MatmulInput* in, i32 tokens, const u8* blocks, i32 n, i32 d)
    {
        blocks_rows_batch<Blocks::IQ4_NL>(out, out_stride, in, tokens, blocks, n, d);
    }
};

}
}
