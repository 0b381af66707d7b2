#pragma once
// Reproducible random test data: a linear congruential generator, so a failing case gives
// the same values on every run and machine.
#include <rt/types.h>
#include <vector>

// n floats uniform in [-scale, scale).
inline std::vector<float> random_floats(size_t n, u32 seed, float scale = 1.0f)
{
    std::vector<float> v(n);
    for (auto& x : v) {
        seed = seed * 1664525u + 1013904223u;
        x = (float(seed >> 8) / 16777216.0f - 0.5f) * 2.0f * scale;
    }
    return v;
}
