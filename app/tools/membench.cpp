// Memory read bandwidth: sums a buffer far larger than any cache with the widest loads the
// CPU has, best of several passes; with --threads N, N threads each sum their own part at
// once (the figure a many-core run's weight streaming can reach). The benchmark divides its
// weight streaming rates by these figures.
//   bareflow-membench [MiB] [--threads N]   prints {"read_gb_per_s": X, "buffer_mib": M, "threads": N}
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <immintrin.h>
#include <sys/mman.h>
#include <rt/types.h>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// How a pass asks for lines ahead: not at all, into the first-level cache, into the second,
// or into both (the second far ahead, the first nearer), as the row kernels' modes do
// (kernels/x86/prefetch.h).
enum class Prefetch { none, first_level, second_level, both_levels };

// With a prefetch, each step also asks for the lines `ahead` bytes on: on some machines a
// single thread reads much faster that way, and the kernels' rates are to be compared
// with what a thread can read.
template<Prefetch prefetch>
__attribute__((target("avx2"))) float sum_avx2(const float* data, size_t count, size_t ahead)
{
    constexpr int hint = prefetch == Prefetch::first_level ? _MM_HINT_T0 : _MM_HINT_T1;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 32 <= count; i += 32) {
        if constexpr (prefetch != Prefetch::none) {
            _mm_prefetch(reinterpret_cast<const char*>(data + i) + ahead, hint);
            _mm_prefetch(reinterpret_cast<const char*>(data + i) + ahead + 64, hint);
            if constexpr (prefetch == Prefetch::both_levels) {
                _mm_prefetch(reinterpret_cast<const char*>(data + i) + 2048, _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(data + i) + 2048 + 64, _MM_HINT_T0);
            }
        }
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
    size_t mib = 1024, threads = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = size_t(strtoul(argv[++i], nullptr, 10));
        else
            mib = size_t(strtoul(argv[i], nullptr, 10));
    }
    if (threads == 0 || mib == 0) {
        fprintf(stderr, "usage: bareflow-membench [MiB] [--threads N]\n");
        return 2;
    }
    size_t count = mib * 1024 * 1024 / sizeof(float);
    // In 2 MiB pages where the kernel gives them, as bareflow-host reads its weights.
    auto* data = static_cast<float*>(aligned_alloc(size_t(2) << 20, count * sizeof(float)));
    if (data)
        madvise(data, count * sizeof(float), MADV_HUGEPAGE);
    if (!data) {
        fprintf(stderr, "membench: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < count; ++i)
        data[i] = float(i & 7);
    // Each thread's part, in whole 32-float steps.
    size_t part = count / threads / 32 * 32;
    std::vector<float> sinks(threads);
    double best = 0;
    // Passes without software prefetch, with it into the first-level cache, into the
    // second and into both, in turn; the best of any.
    auto sum = [](Prefetch prefetch, const float* from, size_t count) {
        constexpr size_t ahead = 8192;
        switch (prefetch) {
        case Prefetch::none: return sum_avx2<Prefetch::none>(from, count, ahead);
        case Prefetch::first_level: return sum_avx2<Prefetch::first_level>(from, count, ahead);
        case Prefetch::second_level: return sum_avx2<Prefetch::second_level>(from, count, ahead);
        case Prefetch::both_levels: break;
        }
        return sum_avx2<Prefetch::both_levels>(from, count, ahead);
    };
    for (int pass = 0; pass < 12; ++pass) {
        auto prefetch = Prefetch(pass % 4);
        auto start = std::chrono::steady_clock::now();
        std::vector<std::thread> workers;
        for (size_t t = 1; t < threads; ++t)
            workers.emplace_back([&, t] { sinks[t] += sum(prefetch, data + t * part, part); });
        sinks[0] += sum(prefetch, data, part);
        for (auto& w : workers)
            w.join();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double rate = double(threads * part * sizeof(float)) / seconds / 1e9;
        if (rate > best)
            best = rate;
    }
    float sink = 0;
    for (float s : sinks)
        sink += s;
    printf("{\"read_gb_per_s\": %.2f, \"buffer_mib\": %zu, \"threads\": %zu, \"checksum\": %.0f}\n", best, mib, threads, double(sink));
    free(data);
    return 0;
}
