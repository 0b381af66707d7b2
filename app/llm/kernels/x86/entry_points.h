#pragma once
// The entry points of each x86 instruction set (sse2.cpp, avx2.cpp, avx512.cpp), declared
// from the list in operations.h; simd_kernels.h defines them from the same list.
#include "../kernels.h"

#define BAREFLOW_DECLARE_ENTRY_POINT(type, result, name, parameters, ...) result name parameters;
#define BAREFLOW_DECLARE_KERNELS(isa)                                        \
    namespace llm::kernels::isa {                                            \
    BAREFLOW_KERNEL_FUNCTIONS(BAREFLOW_DECLARE_ENTRY_POINT, )                \
    constexpr AttentionKernels attention { attention_scores, weighted_sum }; \
    }

BAREFLOW_DECLARE_KERNELS(sse2)
BAREFLOW_DECLARE_KERNELS(avx2)
BAREFLOW_DECLARE_KERNELS(avx2tcg)
BAREFLOW_DECLARE_KERNELS(avxvnni)
BAREFLOW_DECLARE_KERNELS(avx512)
BAREFLOW_DECLARE_KERNELS(avx512vnni)
#undef BAREFLOW_DECLARE_KERNELS
#undef BAREFLOW_DECLARE_ENTRY_POINT
