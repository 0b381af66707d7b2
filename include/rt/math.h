#pragma once
// The elementary functions inference needs, written here so the kernel and the hosted
// build compute bit-identical results. Each evaluates in double precision and rounds
// once, so the float versions are correctly rounded for all but vanishingly rare inputs.
#include <rt/types.h>

namespace rt::math {

double exp(double);
double log(double); // x > 0
double sin(double);
double cos(double);

inline float expf(float x) { return float(exp(double(x))); }
inline float sinf(float x) { return float(sin(double(x))); }
inline float cosf(float x) { return float(cos(double(x))); }
inline float powf(float base, float exponent) { return float(exp(double(exponent) * log(double(base)))); }
inline float sqrtf(float x) { return __builtin_sqrtf(x); } // one instruction: sqrtss
inline float fabsf(float x) { return x < 0 ? -x : x; }

}
