#pragma once
// llama2.c's int8 rows (groups of 32 values, one float scale per group for W and for x)
// on the integer units (AVX2, also compiled into AVX-512), in runq.c's float order: each
// row adds float(integer) * ws * xs group after group. Eight groups' integer sums are
// gathered into the lanes of one vector and their terms computed lane for lane; only the
// running sum stays serial, in group order, so the bits are those of ops::matmul_q8.
// One row streams at a time: eight rows side by side (the older path, simd::matmul_q8's
// group_sums8) streamed from memory at about half the rate.
//
// Saturation bound of pmaddubsw: |w| * sign(x, w), |w| <= 128 and |x| <= 127
// (ops::quantize's range): |pair| <= 2 * 128 * 127 = 32512.
#include "byte_products.h"
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

// Pieces: BytePieces (pmaddubsw) or a VNNI variant of it (vnni_products.h).
template<typename Pieces>
struct Int8RowsWith : Pieces {
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
    static constexpr bool has_int8_rows = true;

    static __m256i products32(const i8* w, const i8* x)
    {
        __m256i wv = load(w);
        return byte_products(_mm256_abs_epi8(wv), _mm256_sign_epi8(load(x), wv));
    }

    // Rows [0, Rows) of W (n values each, n a multiple of 32; their scales ws, n / 32 a row).
    template<i32 Rows>
    static void int8_rows(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n)
    {
        i32 groups = n / 32;
        float values[Rows] {};
        i32 g = 0;
        for (; g + 8 <= groups; g += 8) {
            __m256 input_scales = _mm256_loadu_ps(xs + g);
            for (i32 r = 0; r < Rows; ++r) {
                const i8* w = wq + size_t(r) * size_t(n) + size_t(g) * 32;
                const i8* x = xq + g * 32;
                __m256i pairs[4];
                for (i32 k = 0; k < 8; k += 2)
                    pairs[k / 2] = pair(products32(w + 32 * k, x + 32 * k), products32(w + 32 * k + 32, x + 32 * k + 32));
                __m256 integers = _mm256_cvtepi32_ps(finish(pairs[0], pairs[1], pairs[2], pairs[3]));
                __m256 terms = _mm256_mul_ps(_mm256_mul_ps(integers, _mm256_loadu_ps(ws + size_t(r) * size_t(groups) + size_t(g))), input_scales);
                alignas(32) float lanes[8];
                _mm256_store_ps(lanes, terms);
                float value = values[r];
                for (float lane : lanes)
                    value += lane;
                values[r] = value;
            }
        }
        for (; g < groups; ++g)
            for (i32 r = 0; r < Rows; ++r) {
                i32 integer = horizontal_sum(products32(wq + size_t(r) * size_t(n) + size_t(g) * 32, xq + g * 32));
                values[r] += float(integer) * ws[size_t(r) * size_t(groups) + size_t(g)] * xs[g];
            }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }
};
using Int8Rows = Int8RowsWith<BytePieces>;

}
}
