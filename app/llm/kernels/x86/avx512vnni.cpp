// AVX-512 variants with VNNI's byte products (vnni_products.h): the float operations are
// avx512.cpp's, the quantised row kernels take vpdpbusd instead of pmaddubsw + pmaddwd.
#include "batch_entry_points.h"
#include "entry_points.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), apply_to = function)
#include "avx512_vectors.h"
#include "groups_batch.h"
#include "paired_groups_batch.h"
#include "batch_rows.h"
#include "q2_k_vnni_row.h"
#include "token_lanes_iq4.h"
#include "token_lanes_q2_k.h"
#include "vnni_products.h"
namespace llm::kernels::avx512vnni {

BAREFLOW_EVERY_SET_BATCH_ENTRY_POINTS(x86::Avx512VnniPieces, x86::PairedGroupsBatch)

static_assert(x86::TokenLanes::held_rows == token_lanes_rows);
void q2_k_token_lanes_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d)
{
    x86::TokenLanes::rows_batch<x86::Q2KLanes>(out, out_stride, inputs, tokens, blocks, n, d);
}
void iq4_nl_token_lanes_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d)
{
    x86::TokenLanes::rows_batch<x86::Iq4NlLanes>(out, out_stride, inputs, tokens, blocks, n, d);
}
void iq4_xs_token_lanes_batch(float* out, size_t out_stride, const llm::MatmulInput* inputs, i32 tokens, const u8* blocks, i32 n, i32 d)
{
    x86::TokenLanes::rows_batch<x86::Iq4XsLanes>(out, out_stride, inputs, tokens, blocks, n, d);
}

namespace {
struct Avx512Vnni : x86::Avx512With<x86::Avx512VnniPieces> {
    // Q2_K's one-token rows on 512-bit vpdpbusd (q2_k_vnni_row.h), hiding LowBitRows's.
    static float q2_k_row(const i8* xq, const float* xs, const i16* sums16, const u8* block, i32 per_row)
    {
        return x86::Q2KVnniRow::q2_k_row(xq, xs, sums16, block, per_row);
    }
};
}

BAREFLOW_SIMD_ENTRY_POINTS(Avx512Vnni)

}
#pragma clang attribute pop
