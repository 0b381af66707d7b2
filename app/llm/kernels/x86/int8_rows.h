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
#include "prefetch.h"
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

    // With exact byte products (VNNI) and the input's group sums: w + 128 (w xor 0x80)
    // against x, 128 * sum(x) taken off each group's sum; one xor instead of pabsb and
    // psignb.
    static __m256i offset_products32(const i8* w, const i8* x)
    {
        return byte_products(_mm256_xor_si256(load(w), _mm256_set1_epi8(char(0x80))), load(x));
    }

    // Rows [0, Rows) of W (n values each, n a multiple of 32; their scales ws, n / 32 a row).
    template<i32 Rows>
    static void int8_rows(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n)
    {
        int8_rows_offset<Rows>(out, xq, xs, nullptr, wq, ws, n);
    }
    // The same with x_sums, the input's group sums (Pieces::exact_byte_products only).
    template<i32 Rows>
    static void int8_rows(float* out, const i8* xq, const float* xs, const i32* x_sums, const i8* wq, const float* ws, i32 n)
    {
        static_assert(Pieces::exact_byte_products);
        int8_rows_offset<Rows>(out, xq, xs, x_sums, wq, ws, n);
    }

private:
    static __m256i group_products(const i8* w, const i8* x, const i32* x_sums)
    {
        if constexpr (Pieces::exact_byte_products)
            if (x_sums)
                return offset_products32(w, x);
        return products32(w, x);
    }
    template<i32 Rows>
    static void int8_rows_offset(float* out, const i8* xq, const float* xs, const i32* x_sums, const i8* wq, const float* ws, i32 n)
    {
        i32 groups = n / 32;
        float values[Rows] {};
        i32 g = 0;
        for (; g + 8 <= groups; g += 8) {
            __m256 input_scales = _mm256_loadu_ps(xs + g);
            for (i32 r = 0; r < Rows; ++r) {
                const i8* w = wq + size_t(r) * size_t(n) + size_t(g) * 32;
                prefetch_ahead(w, 256);
                const i8* x = xq + g * 32;
                __m256i pairs[4];
                for (i32 k = 0; k < 8; k += 2)
                    pairs[k / 2] = pair(group_products(w + 32 * k, x + 32 * k, x_sums), group_products(w + 32 * k + 32, x + 32 * k + 32, x_sums));
                __m256i sums = finish(pairs[0], pairs[1], pairs[2], pairs[3]);
                if (x_sums)
                    sums = _mm256_sub_epi32(sums, _mm256_slli_epi32(load(x_sums + g), 7));
                __m256 integers = _mm256_cvtepi32_ps(sums);
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
                i32 integer = horizontal_sum(group_products(wq + size_t(r) * size_t(n) + size_t(g) * 32, xq + g * 32, x_sums));
                if (x_sums)
                    integer -= 128 * x_sums[g];
                values[r] += float(integer) * ws[size_t(r) * size_t(groups) + size_t(g)] * xs[g];
            }
        for (i32 r = 0; r < Rows; ++r)
            out[r] = values[r];
    }
};
using Int8Rows = Int8RowsWith<BytePieces>;

}
}
