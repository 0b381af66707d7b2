#pragma once
// The per-instruction-set entry points (sse2.cpp, avx2.cpp, avx512.cpp).
#include <rt/types.h>

#define BAREFLOW_DECLARE_KERNELS(isa)                                                                              \
    namespace llm::kernels::isa {                                                                                  \
    void matmul(float* out, const float* x, const float* w, i32 n, i32 d);                                         \
    void matmul_q8(float* out, const i8* xq, const float* xs, const i8* wq, const float* ws, i32 n, i32 d, i32 group); \
    void rmsnorm(float* out, const float* x, const float* weight, i32 size, float epsilon);                        \
    void softmax(float* x, i32 size);                                                                              \
    float dot(const float* a, const float* b, i32 n);                                                              \
    void axpy(float* y, float a, const float* x, i32 n);                                                           \
    void swiglu(float* hb, const float* hb2, i32 size);                                                            \
    void matmul_q8_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);                   \
    void matmul_q4_0(float* out, const i8* xq, const float* xs, const u8* blocks, i32 n, i32 d);                   \
    void matmul_q4_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d); \
    void matmul_q6_k(float* out, const i8* xq, const float* xs, const i32* xsums, const u8* blocks, i32 n, i32 d); \
    }

BAREFLOW_DECLARE_KERNELS(sse2)
BAREFLOW_DECLARE_KERNELS(avx2)
BAREFLOW_DECLARE_KERNELS(avx512)
