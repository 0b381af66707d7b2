#pragma once
// What nucleus.cpp (the sums and the pick) and nucleus_buckets.cpp (counting and placing
// the candidates) share: a probability's bits, which order non-negative floats, and the
// buckets they are counted into.
#include "candidate_sort.h"

namespace llm::nucleus_bits {

inline u32 bits_of(float value) { return __builtin_bit_cast(u32, value); }
inline float float_of(u32 bits) { return __builtin_bit_cast(float, bits); }

constexpr u32 one_bits = 0x3F800000u; // 1.0f
constexpr u32 mantissa_bits = 23;
constexpr u32 implicit_one = 1u << mantissa_bits;

// At most this many buckets: enough that a flat distribution puts a few dozen tokens in
// each (the ones sorted by insertion), few enough that counting them stays cheap.
constexpr u32 max_buckets = 4096;
static_assert(max_buckets + 8 <= 0x7FFF, "bucket numbers are packed to 16 bits, with signed saturation");

}
