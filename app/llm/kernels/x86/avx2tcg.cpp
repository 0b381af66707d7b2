// AVX2 variants for QEMU's TCG: avx2.cpp's kernels, except the Q8_0, Q4_0x8, Q8_0x8, Q4_Kx8, Q6_Kx8 and Q8x8 rows,
// whose byte products come from the integer steps TCG emulates inline (emulated_rows.h)
// instead of pmaddubsw and pmaddwd, which it runs as C helpers. Same bits as every set.
#include "entry_points.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#include "avx2_vectors.h"
#include "emulated_rows.h"
namespace llm::kernels::avx2tcg {

namespace {
struct Avx2Tcg : x86::Avx2With<x86::BytePieces> {
    // TCG runs an FMA as a C helper call, as it does a division: one division is cheaper
    // than simd::divide_all's three steps there.
    static constexpr bool fused_quotients = false;
    // simd::matmul_q4_0x8 and matmul_q4_kx8 hand the whole call to these (they widen the
    // input once), simd::matmul_q8_0 its rows in groups of eight; q6_kx8_group hides
    // Avx2With's (InterleavedRowsWith's).
    static void q8_0_rows(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d)
    {
        x86::EmulatedRows::q8_0_rows(out, xq, xs, blocks, n, d);
    }
    static void q4_0x8_rows(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* blocks, i32 n, i32 d)
    {
        x86::EmulatedRows::q4_0x8_rows(out, xq, xs, x_sums, blocks, n, d);
    }
    static void q4_kx8_rows(float* out, const i8* xq, const float* xs, const i32* x_sums, const u8* blocks, i32 n, i32 d)
    {
        x86::EmulatedRows::q4_kx8_rows(out, xq, xs, x_sums, blocks, n, d);
    }
    // simd::matmul_q8_0x8 and matmul_q8x8 hand the whole call to these too.
    static void q8_0x8_rows(float* out, const i8* xq, const float* xs, const i32*, const u8* blocks, i32 n, i32 d)
    {
        x86::EmulatedRows::q8_0x8_rows(out, xq, xs, blocks, n, d);
    }
    static void q8x8_rows(float* out, const i8* xq, const float* xs, const u8* wq, const float* ws, i32 n, i32 d)
    {
        x86::EmulatedRows::q8x8_rows(out, xq, xs, wq, ws, n, d);
    }
    static void q6_kx8_group(float* out, const i8* xq, const float* xs, const i32* x_sums16, const u8* group, i32 per_row)
    {
        x86::EmulatedRows::q6_kx8_group(out, xq, xs, x_sums16, group, per_row);
    }
};
}

BAREFLOW_SIMD_ENTRY_POINTS(Avx2Tcg)

}
#pragma clang attribute pop
