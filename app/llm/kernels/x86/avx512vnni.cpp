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
#include "vnni_products.h"
namespace llm::kernels::avx512vnni {

BAREFLOW_EVERY_SET_BATCH_ENTRY_POINTS(x86::Avx512VnniPieces, x86::PairedGroupsBatch)

namespace {
using Avx512Vnni = x86::Avx512With<x86::Avx512VnniPieces>;
}

BAREFLOW_SIMD_ENTRY_POINTS(Avx512Vnni)

}
#pragma clang attribute pop
