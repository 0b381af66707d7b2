// What one pick of the default sampler (temp=1, topp=0.9) costs at a 32000-token vocabulary,
// on two kinds of logits: flat ones, as a random-weight model gives (tens of thousands of
// tokens in the nucleus), and peaked ones, as a trained model gives (a few hundred).
//   bareflow-sampler-bench [CHECKPOINT.bin] [--picks N]
// With a llama2.c checkpoint, the flat logits are that model's own, from its first positions
// (greedy); without, normal logits with the spread a random 15M checkpoint's have. The peaked
// ones are normal with a wider spread. Prints one JSON line: medians in µs per pick, and the
// mean nucleus size of each kind; the flat logits with top-k 40 before top-p; and both kinds
// with cold caches (more memory than they hold touched before each pick), as in generation.
#include "read_file.h"
#include "../llm/checkpoint.h"
#include "../llm/kernels/tuner.h"
#include "../llm/sampler.h"
#include "../llm/transformer.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <rt/cpu_features.h>
#include <sys/mman.h>
#include <vector>

namespace {

constexpr i32 vocabulary = 32000;
constexpr float temperature = 1.0f, top_p = 0.9f;

// The spread (standard deviation) of a random 15M checkpoint's logits
// (bareflow-make-checkpoint --shape 15M; this tool prints it when given the checkpoint).
constexpr float random_model_spread = 0.49f;
// Wide enough that top-p 0.9 keeps a few hundred tokens, as a trained model's would.
constexpr float peaked_spread = 4.0f;

using Logits = std::vector<float>;

std::vector<Logits> normal_logits(float spread, size_t count, u32 seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, spread);
    std::vector<Logits> sets(count, Logits(size_t(vocabulary)));
    for (auto& logits : sets)
        for (float& x : logits)
            x = normal(rng);
    return sets;
}

// The model's logits at its first `count` positions, feeding back its greedy choice.
bool model_logits(const char* path, size_t count, std::vector<Logits>& sets)
{
    static std::vector<u8> bytes = tools::read_file(path);
    if (bytes.empty()) {
        fprintf(stderr, "cannot read %s\n", path);
        return false;
    }
    auto checkpoint = llm::load_checkpoint({ bytes.data(), bytes.size() });
    if (checkpoint.is_error() || checkpoint.value().config.vocab_size != vocabulary) {
        fprintf(stderr, "%s: not a llama2.c checkpoint with a vocabulary of %d\n", path, vocabulary);
        return false;
    }
    auto transformer = llm::Transformer::create(checkpoint.value(), 1);
    if (transformer.is_error()) {
        fprintf(stderr, "not enough memory for the model's state\n");
        return false;
    }
    i32 token = 1;
    for (size_t position = 0; position < count && i32(position) < checkpoint.value().config.seq_len; ++position) {
        const float* out = transformer.value().forward(token, i32(position));
        sets.emplace_back(out, out + vocabulary);
        token = i32(std::max_element(out, out + vocabulary) - out);
    }
    return true;
}

double spread_of(std::vector<Logits> const& sets)
{
    double sum = 0, squares = 0, n = 0;
    for (auto const& logits : sets)
        for (float x : logits) {
            sum += x;
            squares += double(x) * x;
            n += 1;
        }
    double mean = sum / n;
    return std::sqrt(squares / n - mean * mean);
}

// How many tokens top-p keeps (the most probable until their sum passes top_p), in double.
double nucleus_size(std::vector<Logits> const& sets)
{
    double total = 0;
    for (auto const& logits : sets) {
        std::vector<double> p(logits.begin(), logits.end());
        double largest = *std::max_element(p.begin(), p.end()), sum = 0;
        for (double& x : p)
            sum += x = std::exp(x - largest);
        std::sort(p.begin(), p.end(), [](double a, double b) { return a > b; });
        double cumulative = 0;
        size_t kept = 0;
        while (kept < p.size() && cumulative <= top_p * sum)
            cumulative += p[kept++];
        total += double(kept);
    }
    return total / double(sets.size());
}

// Touched between the picks of a cold measurement: more than the caches hold, as a forward
// pass's weights are (60 MB for the 15M model), so the sampler starts with cold caches as
// it does in generation.
std::vector<u64>& cache_flusher()
{
    static std::vector<u64> lines((size_t(64) << 20) / sizeof(u64));
    return lines;
}

void flush_caches()
{
    auto& lines = cache_flusher();
    for (size_t i = 0; i < lines.size(); i += 8)
        lines[i] += i;
}

// The median over `picks` samples (cycling through the sets) of one Sampler::sample call,
// with warm caches or (cold) after touching more memory than they hold.
double median_us(std::vector<Logits> const& sets, size_t picks, i32 top_k = 0, bool cold = false)
{
    auto sampler = llm::Sampler::create(vocabulary, temperature, top_p, 42, top_k).release_value();
    Logits work(static_cast<size_t>(vocabulary));
    std::vector<double> times;
    i64 checksum = 0;
    for (size_t i = 0; i < picks + picks / 10; ++i) {
        std::memcpy(work.data(), sets[i % sets.size()].data(), sizeof(float) * size_t(vocabulary));
        if (cold)
            flush_caches();
        auto start = std::chrono::steady_clock::now();
        checksum += sampler.sample(work.data()).value();
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
        if (i >= picks / 10) // the first tenth warms the caches and the branch predictors
            times.push_back(us);
    }
    std::sort(times.begin(), times.end());
    if (checksum < 0)
        fprintf(stderr, "impossible\n");
    return times[times.size() / 2];
}

}

int main(int argc, char** argv)
{
    const char* model = nullptr;
    size_t picks = 2000;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--picks") && i + 1 < argc)
            picks = size_t(strtoul(argv[++i], nullptr, 10));
        else if (argv[i][0] != '-' && !model)
            model = argv[i];
        else {
            fprintf(stderr, "usage: bareflow-sampler-bench [CHECKPOINT.bin] [--picks N]\n");
            return 2;
        }
    }
    size_t arena_bytes = size_t(2) << 30;
    void* arena = mmap(nullptr, arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    rt::MemoryRange usable[] = { { uptr(arena), arena_bytes } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    // The widest variants, as the tuner picks for the softmax at this size (all give the same bits).
    llm::kernels::activate(llm::kernels::widest_plan(rt::detect_cpu_features()));

    std::vector<Logits> flat;
    if (model ? !model_logits(model, 32, flat) : false)
        return 1;
    if (!model)
        flat = normal_logits(random_model_spread, 32, 1);
    auto peaked = normal_logits(peaked_spread, 32, 2);
    double flat_us = median_us(flat, picks), peaked_us = median_us(peaked, picks);
    double flat_top_k_us = median_us(flat, picks / 4, 40);
    double flat_cold_us = median_us(flat, picks / 10, 0, true), peaked_cold_us = median_us(peaked, picks / 10, 0, true);
    printf("{\"sampler\": {\"vocabulary\": %d, \"temp\": %.1f, \"topp\": %.1f, \"flat_us\": %.1f, \"peaked_us\": %.1f, "
           "\"flat_nucleus\": %.0f, \"peaked_nucleus\": %.0f, \"flat_spread\": %.3f, \"flat_source\": \"%s\", "
           "\"flat_top_k_40_us\": %.1f, \"flat_cold_us\": %.1f, \"peaked_cold_us\": %.1f}}\n",
        vocabulary, double(temperature), double(top_p), flat_us, peaked_us, nucleus_size(flat), nucleus_size(peaked),
        spread_of(flat), model ? "checkpoint" : "normal", flat_top_k_us, flat_cold_us, peaked_cold_us);
    return 0;
}
