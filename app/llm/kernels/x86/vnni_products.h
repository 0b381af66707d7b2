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
