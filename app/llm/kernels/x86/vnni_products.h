#pragma once
// VNNI's byte products for the row kernels (block_rows.h, k_quant_rows.h, int8_rows.h):
// vpdpbusd multiplies unsigned by signed bytes and adds each four adjacent products into
// an int32 lane in one instruction, where BytePieces takes pmaddubsw and pmaddwd. The
// lanes hold the same sums, and with no int16 stage nothing can saturate, so the results
// are the same integers (and the same bits after the float steps). Two encodings:
// AVX512-VNNI with AVX512VL (EVEX, avx512vnni.cpp) and AVX-VNNI (VEX, avxvnni.cpp); each
// is used only inside its file's target pragma (an unused inline function is never
// compiled, so each file may see both).
#include "byte_products.h"

namespace llm::kernels::x86 {
namespace {

struct Avx512VnniPieces : BytePieces {
    static __m256i byte_products(__m256i unsigned_bytes, __m256i signed_bytes)
    {
        return _mm256_dpbusd_epi32(_mm256_setzero_si256(), unsigned_bytes, signed_bytes);
    }
    // sums + byte_products(...), in the one instruction.
    static __m256i add_byte_products(__m256i sums, __m256i unsigned_bytes, __m256i signed_bytes)
    {
        return _mm256_dpbusd_epi32(sums, unsigned_bytes, signed_bytes);
    }
    static constexpr bool exact_byte_products = true;

    // Two neighbouring 32-byte slices of interleaved rows (eight rows' four bytes each, as
    // interleaved_rows.h lays them) in one 512-bit vector: the first slice's rows in the
    // low half, the second's in the high half, each half against its own four input bytes
    // (`words`: the two slices' eight). Rows stay in their lanes, so fold() adding the
    // halves gives each row's sum over both slices: the same exact integers as two
    // 256-bit steps, in half the instructions, reading the rows in memory order.
    static constexpr bool pairs_slices = true;
    static __m512i load_pair(const void* p) { return _mm512_loadu_si512(p); }
    static __m512i add_slice_pair(__m512i sums, __m512i unsigned_bytes, const i8* words)
    {
        __m128i both = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(words));
        __m512i halves = _mm512_permutexvar_epi32(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), _mm512_castsi128_si512(both));
        return _mm512_dpbusd_epi32(sums, unsigned_bytes, halves);
    }
    static __m256i fold(__m512i sums) { return _mm256_add_epi32(_mm512_castsi512_si256(sums), _mm512_extracti64x4_epi64(sums, 1)); }
};

struct AvxVnniPieces : BytePieces {
    static __m256i byte_products(__m256i unsigned_bytes, __m256i signed_bytes)
    {
        return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), unsigned_bytes, signed_bytes);
    }
    static __m256i add_byte_products(__m256i sums, __m256i unsigned_bytes, __m256i signed_bytes)
    {
        return _mm256_dpbusd_avx_epi32(sums, unsigned_bytes, signed_bytes);
    }
    static constexpr bool exact_byte_products = true;
};

}
}
