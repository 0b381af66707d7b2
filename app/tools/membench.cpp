// Single-thread memory read bandwidth: sums a buffer far larger than any cache with the
// widest loads the CPU has, best of several passes. The benchmark divides its weight
// streaming rates by this figure.
//   bareflow-membench [MiB]   prints {"read_gb_per_s": X, "buffer_mib": N}
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <immintrin.h>
#include <rt/types.h>

namespace {

__attribute__((target("avx2"))) float sum_avx2(const float* data, size_t count)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 32 <= count; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(data + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(data + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(data + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(data + i + 24));
    }
    __m256 total = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    float lanes[8];
    _mm256_storeu_ps(lanes, total);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

}

int main(int argc, char** argv)
{
    size_t mib = argc > 1 ? size_t(strtoul(argv[1], nullptr, 10)) : 1024;
    size_t count = mib * 1024 * 1024 / sizeof(float);
    auto* data = static_cast<float*>(aligned_alloc(64, count * sizeof(float)));
    if (!data) {
        fprintf(stderr, "membench: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < count; ++i)
        data[i] = float(i & 7);
    double best = 0;
    float sink = 0;
    for (int pass = 0; pass < 5; ++pass) {
        auto start = std::chrono::steady_clock::now();
        sink += sum_avx2(data, count);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double rate = double(count * sizeof(float)) / seconds / 1e9;
        if (rate > best)
            best = rate;
    }
    printf("{\"read_gb_per_s\": %.2f, \"buffer_mib\": %zu, \"checksum\": %.0f}\n", best, mib, double(sink));
    free(data);
    return 0;
}
