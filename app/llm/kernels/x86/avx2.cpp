// AVX2 variants: 8 floats per vector; F16C converts halves. (FMA only where integer or
// quantised kernels use it: the float operations round products first, see fp32_order.h.)
#include "batch_entry_points.h"
#include "entry_points.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#include "avx2_vectors.h"
#include "groups_batch.h"
#include "batch_rows.h"
namespace llm::kernels::avx2 {

BAREFLOW_EVERY_SET_BATCH_ENTRY_POINTS(x86::BytePieces, x86::GroupsBatchWith<x86::BytePieces>)

namespace {
using Avx2 = x86::Avx2With<x86::BytePieces>;
}

BAREFLOW_BATCH_ENTRY_POINTS

BAREFLOW_SIMD_ENTRY_POINTS(Avx2)

#define BAREFLOW_FLOAT_BATCH_V Avx2
BAREFLOW_FLOAT_BATCH_ENTRY_POINTS
#undef BAREFLOW_FLOAT_BATCH_V

}
#pragma clang attribute pop
