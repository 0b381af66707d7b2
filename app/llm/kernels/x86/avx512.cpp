// AVX-512 variants: 16 floats per vector (AVX-512F, BW for the int8 products, F16C for halves).
#include "batch_entry_points.h"
#include "entry_points.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx2,fma,f16c"))), apply_to = function)
#include "avx512_vectors.h"
#include "groups_batch.h"
#include "batch_rows.h"
namespace llm::kernels::avx512 {

BAREFLOW_EVERY_SET_BATCH_ENTRY_POINTS(x86::BytePieces, x86::GroupsBatchWith<x86::BytePieces>)

namespace {
using Avx512 = x86::Avx512With<x86::BytePieces>;
}

BAREFLOW_BATCH_ENTRY_POINTS

BAREFLOW_SIMD_ENTRY_POINTS(Avx512)

#define BAREFLOW_FLOAT_BATCH_V Avx512
BAREFLOW_FLOAT_BATCH_ENTRY_POINTS
#undef BAREFLOW_FLOAT_BATCH_V

}
#pragma clang attribute pop
