// AVX2 variants with AVX-VNNI's byte products (vnni_products.h), for CPUs that have
// AVX-VNNI but no AVX-512: the float operations are avx2.cpp's, the quantised row kernels
// take vpdpbusd (VEX) instead of pmaddubsw + pmaddwd.
#include "batch_entry_points.h"
#include "entry_points.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avxvnni"))), apply_to = function)
#include "avx2_vectors.h"
#include "groups_batch.h"
#include "batch_rows.h"
#include "vnni_products.h"
namespace llm::kernels::avxvnni {

BAREFLOW_EVERY_SET_BATCH_ENTRY_POINTS(x86::AvxVnniPieces, x86::GroupsBatchWith<x86::AvxVnniPieces>)

namespace {
using AvxVnni = x86::Avx2With<x86::AvxVnniPieces>;
}

BAREFLOW_SIMD_ENTRY_POINTS(AvxVnni)

}
#pragma clang attribute pop
