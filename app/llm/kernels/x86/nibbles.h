#pragma once
// Q4_0's nibble unpacking with SSE2, shared by every x86 instruction set. Included inside
// each file's target pragma; the anonymous namespace gives each file its own copy,
// compiled for its own target (one shared inline copy could be the AVX-512 one).
#include <immintrin.h>
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

struct NibbleUnpack {
    // 16 bytes of nibbles to 32 int8 values minus 8: low nibbles first, then high.
    static void unpack_q4(const u8* packed, i8* out)
    {
        __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed));
        __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
        __m128i low = _mm_sub_epi8(_mm_and_si128(bytes, mask), eight);
        __m128i high = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), low);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), high);
    }
};

}
}
