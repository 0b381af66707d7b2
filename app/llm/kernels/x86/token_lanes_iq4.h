#pragma once
// IQ4_NL and IQ4_XS for the token-lanes driver (token_lanes.h): block_quants.h's terms,
// lane for lane. Their values (iq4_values, -127..113) are signed, and vpdpbusd multiplies
// unsigned bytes by signed ones, so each value is taken plus 128 (1..241) against the
// signed inputs, and 128 times the group's input sum (the group sums every GGUF input
// carries) comes off: the exact integer dot, as the VNNI one-token kernels make it.
//   - IQ4_NL: float(integer) * d * xs per block, runs of eight blocks added as tree_sum8's
//     tree, the last per_row % 8 one by one.
//   - IQ4_XS: float(integer * (l - 32)) * d * xs per group, made as float(integer) *
//     float(l - 32), the same float (both products are exact: |integer * scale| < 2^24);
//     a super-block's eight terms as tree_sum8's tree.
#include "../../block_quants.h"
#include "token_lanes.h"

namespace llm::kernels::x86 {
namespace {

struct Iq4Lanes {
    // One group's 16 bytes of nibbles as its 32 values plus 128 (low nibbles are values
    // 0..15, high ones 16..31), eight words at `out`.
    static void unpack_group(const u8* nibbles, u32* out)
    {
        struct Shifted {
            u8 values[16];
            constexpr Shifted() : values {}
            {
                for (i32 i = 0; i < 16; ++i)
                    values[i] = u8(block_quants::iq4_values[i] + 128);
            }
        };
        alignas(16) static constexpr Shifted shifted;
        const __m128i table = _mm_load_si128(reinterpret_cast<const __m128i*>(shifted.values)), nibble = _mm_set1_epi8(0x0F);
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nibbles));
        _mm_store_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(table, _mm_and_si128(packed, nibble)));
        _mm_store_si128(reinterpret_cast<__m128i*>(out + 4), _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(packed, 4), nibble)));
    }

    // Each group's -128 times its input sum: where the products start.
    static void summarise(TokenLanes::Inputs& inputs, const MatmulInput* in, i32 count, i32 first, i32 groups)
    {
        __m512i sums[16];
        TokenLanes::transpose_tokens(count, groups, [&](i32 t) { return in[t].sums + first; }, sums);
        for (i32 g = 0; g < groups; ++g)
            inputs.sums[g] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sums[g], 7));
    }

    // Groups [0, groups) of `Rows` rows' weights (words(r, g): eight words) against a pass's
    // inputs: term(r, g, integer products) for each, the terms added to *value[r] as the
    // reference adds them (a whole unit as tree_sum8's tree, a partial one one by one).
    template<i32 Rows, typename Words, typename Term>
    static void add_groups(__m512* const (&value)[Rows], TokenLanes::Inputs const& inputs, i32 groups, Words const& words_of, Term const& term)
    {
        __m512 terms[Rows][8];
        for (i32 g = 0; g < groups; ++g) {
            const u32* words[Rows];
            __m512i start[Rows], products[Rows];
            for (i32 r = 0; r < Rows; ++r) {
                words[r] = words_of(r, g);
                start[r] = inputs.sums[g];
            }
            TokenLanes::products<Rows>(products, words, inputs.words + 8 * g, start);
            for (i32 r = 0; r < Rows; ++r)
                terms[r][g] = _mm512_mul_ps(term(r, g, _mm512_cvtepi32_ps(products[r])), inputs.scales[g]);
        }
        for (i32 r = 0; r < Rows; ++r) {
            if (groups == 8) {
                *value[r] = _mm512_add_ps(*value[r], TokenLanes::tree(terms[r]));
                continue;
            }
            for (i32 g = 0; g < groups; ++g)
                *value[r] = _mm512_add_ps(*value[r], terms[r][g]);
        }
    }
};

// IQ4_NL: 18-byte blocks (f16 d, 16 bytes of nibbles); a unit is eight of them.
struct Iq4NlLanes : Iq4Lanes {
    static constexpr size_t block_bytes = 18, unit_bytes = 8 * block_bytes;
    static size_t row_bytes(i32 n) { return size_t(n / 32) * block_bytes; }

    struct Weights {
        alignas(64) u32 words[8][8];
        float d[8];
    };
    static void unpack(const u8* unit, Weights& w, i32 groups)
    {
        for (i32 g = 0; g < groups; ++g) {
            const u8* block = unit + size_t(g) * block_bytes;
            unpack_group(block + 2, w.words[g]);
            w.d[g] = ops::half_to_float(u16(block[0] | block[1] << 8));
        }
    }
    template<i32 Rows>
    static void add(__m512* const (&value)[Rows], Weights const (&w)[Rows], TokenLanes::Inputs const& inputs, i32 groups)
    {
        add_groups<Rows>(
            value, inputs, groups, [&](i32 r, i32 g) { return w[r].words[g]; },
            [&](i32 r, i32 g, __m512 integers) { return _mm512_mul_ps(integers, _mm512_set1_ps(w[r].d[g])); });
    }
};

// IQ4_XS: 136-byte super-blocks (block_quants.h's iq4_xs).
struct Iq4XsLanes : Iq4Lanes {
    static constexpr size_t unit_bytes = block_quants::iq4_xs::bytes;
    static size_t row_bytes(i32 n) { return size_t(n / 256) * unit_bytes; }

    struct Weights {
        alignas(64) u32 words[8][8];
        float scales[8]; // l - 32
        __m512 d;
    };
    static void unpack(const u8* block, Weights& w, i32)
    {
        for (i32 g = 0; g < 8; ++g) {
            unpack_group(block + block_quants::iq4_xs::nibbles_at + 16 * g, w.words[g]);
            w.scales[g] = float(block_quants::iq4_xs::scale(block, g));
        }
        w.d = _mm512_set1_ps(ops::half_to_float(u16(block[0] | block[1] << 8)));
    }
    template<i32 Rows>
    static void add(__m512* const (&value)[Rows], Weights const (&w)[Rows], TokenLanes::Inputs const& inputs, i32 groups)
    {
        add_groups<Rows>(
            value, inputs, groups, [&](i32 r, i32 g) { return w[r].words[g]; },
            [&](i32 r, i32 g, __m512 integers) { return _mm512_mul_ps(_mm512_mul_ps(integers, _mm512_set1_ps(w[r].scales[g])), w[r].d); });
    }
};

}
}
