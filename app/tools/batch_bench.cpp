// What a batch of prompt tokens saves in the matrix products. For each interleaved type
// (the layouts a GGUF model's Q4_0, Q4_K, Q6_K, Q8_0 and Q5_K matrices and llama2.c int8 matrices of
// group 32 get at load) a TinyLlama-shape
// ffn_down matrix (2048 rows of 5632) multiplies `tokens` inputs, in every instruction set
// this CPU runs: one token at a time with the set's one-token kernel, and as one batch with
// its batch kernel. The two alternate, so a busy machine slows both alike, and each is
// timed in the thread's CPU time; medians of the rounds. Prints one JSON line per (type, set): µs per token each way, their ratio, and
// whether the batch gave the one-token results' bits.
//   bareflow-batch-bench [--rounds N] [--tokens T]
#include "block_quantize.h"
#include "../llm/batch_state.h"
#include "../llm/interleave.h"
#include "../llm/kernels/kernels.h"
#include "../llm/kernels/x86/batch_entry_points.h"
#include "../llm/kernels/x86/entry_points.h"
#include "../llm/ops.h"
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <time.h>
#include <rt/cpu_features.h>
#include <vector>

namespace {

constexpr i32 rows = 2048, cols = 5632;

using OneToken = llm::kernels::MatmulKBlocks;
using Batch = void (*)(float*, size_t, const llm::MatmulInput*, i32, const u8*, i32, i32);

using Int8OneToken = llm::kernels::MatmulQ8x8;
using Int8Batch = void (*)(float*, size_t, const llm::MatmulInput*, i32, const u8*, const float*, i32, i32);

struct Set {
    const char* name;
    llm::kernels::Isa isa;
    OneToken one_token[5]; // Q4_0x8, Q4_Kx8, Q6_Kx8, Q8_0x8, Q5_Kx8
    Batch batch[5];
    Int8OneToken int8_one_token; // Q8x8
    Int8Batch int8_batch;
};
#define BAREFLOW_BENCH_SET(isa, set_isa)                                                                                                 \
    Set { #isa, llm::kernels::Isa::set_isa,                                                                                              \
        { llm::kernels::isa::matmul_q4_0x8, llm::kernels::isa::matmul_q4_kx8, llm::kernels::isa::matmul_q6_kx8, llm::kernels::isa::matmul_q8_0x8, \
            llm::kernels::isa::matmul_q5_kx8 },                                                                                              \
        { llm::kernels::isa::q4_0x8_rows_batch, llm::kernels::isa::q4_kx8_rows_batch, llm::kernels::isa::q6_kx8_rows_batch,                   \
            llm::kernels::isa::q8_0x8_rows_batch, llm::kernels::isa::q5_kx8_rows_batch },                                                    \
        llm::kernels::isa::matmul_q8x8, llm::kernels::isa::q8x8_rows_batch }
const Set sets[] = { BAREFLOW_BENCH_SET(avx2, Avx2), BAREFLOW_BENCH_SET(avxvnni, AvxVnni), BAREFLOW_BENCH_SET(avx512, Avx512),
    BAREFLOW_BENCH_SET(avx512vnni, Avx512Vnni) };
#undef BAREFLOW_BENCH_SET

struct Type {
    const char* name;
    llm::TensorType plain;
    llm::gguf::TensorType file_type;
};
const Type types[] = { { "Q4_0x8", llm::TensorType::Q4_0, llm::gguf::TensorType::Q4_0 }, { "Q4_Kx8", llm::TensorType::Q4_K, llm::gguf::TensorType::Q4_K },
    { "Q6_Kx8", llm::TensorType::Q6_K, llm::gguf::TensorType::Q6_K }, { "Q8_0x8", llm::TensorType::Q8_0, llm::gguf::TensorType::Q8_0 },
    { "Q5_Kx8", llm::TensorType::Q5_K, llm::gguf::TensorType::Q5_K }, { "Q8x8", llm::TensorType::Q8, llm::gguf::TensorType::F32 } };
constexpr i32 int8_kind = 5; // Q8x8, whose kernels take the scales apart

// The product's weights as `type` after the load-time repacking (interleave.h): the
// bytes, and for int8 the group scales.
struct Matrix {
    std::vector<u8> bytes;
    std::vector<float> scales;
};

Matrix repacked(Type const& type, std::vector<float> const& weights)
{
    Matrix m;
    if (type.plain == llm::TensorType::Q8) {
        m.bytes.resize(weights.size()), m.scales.resize(weights.size() / 32);
        llm::ops::quantize(reinterpret_cast<i8*>(m.bytes.data()), m.scales.data(), weights.data(), i32(weights.size()), 32);
        llm::Tensor tensor { llm::TensorType::Q8, rows, cols, m.bytes.data(), m.scales.data(), 32 };
        std::vector<u8> scratch(llm::scratch_bytes(tensor));
        llm::interleave_q8(tensor, m.bytes.data(), m.scales.data(), { scratch.data(), scratch.size() });
        return m;
    }
    m.bytes = tools::quantize_blocks(u32(type.file_type), weights.data(), weights.size());
    llm::Tensor tensor { type.plain, rows, cols, m.bytes.data() };
    std::vector<u8> scratch(llm::scratch_bytes(tensor));
    llm::interleave(tensor, m.bytes.data(), { scratch.data(), scratch.size() });
    return m;
}

// The tokens' quantised inputs, as Transformer::quantize_input makes them.
struct Inputs {
    std::vector<std::vector<i8>> q;
    std::vector<std::vector<float>> s;
    std::vector<std::vector<i32>> sums, sums16;
    std::vector<llm::MatmulInput> inputs;
};

Inputs random_inputs(i32 tokens, std::mt19937& rng)
{
    std::normal_distribution<float> normal(0.0f, 1.0f);
    Inputs in;
    std::vector<float> x(cols);
    for (i32 t = 0; t < tokens; ++t) {
        for (float& v : x)
            v = normal(rng);
        in.q.emplace_back(cols), in.s.emplace_back(cols / 32), in.sums.emplace_back(cols / 32), in.sums16.emplace_back(cols / 16);
        llm::ops::quantize(in.q.back().data(), in.s.back().data(), x.data(), cols, 32);
        llm::ops::group_sums(in.sums.back().data(), in.q.back().data(), cols, 32);
        llm::ops::group_sums(in.sums16.back().data(), in.q.back().data(), cols, 16);
    }
    for (size_t t = 0; t < size_t(tokens); ++t)
        in.inputs.push_back({ nullptr, in.q[t].data(), in.s[t].data(), in.sums[t].data(), in.sums16[t].data() });
    return in;
}

// The thread's CPU time, not the wall clock: time the scheduler gives another process
// does not count (the products are single-threaded and compute-bound).
double seconds_of(auto const& work)
{
    auto now = [] {
        timespec t;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
    };
    double start = now();
    work();
    return now() - start;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}

int main(int argc, char** argv)
{
    i32 rounds = 7, tokens = 32;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--tokens") && i + 1 < argc)
            tokens = std::atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--rounds N] [--tokens T]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || tokens < 1 || tokens > llm::max_batch) {
        fprintf(stderr, "--rounds must be at least 1 and --tokens from 1 to %d\n", llm::max_batch);
        return 2;
    }
    rt::CpuFeatures cpu = rt::detect_cpu_features();
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> weights(size_t(rows) * cols);
    for (float& w : weights)
        w = normal(rng);
    Inputs in = random_inputs(tokens, rng);
    std::vector<float> out(size_t(tokens) * rows), batch_out(out.size());
    for (i32 kind = 0; kind <= int8_kind; ++kind) {
        Type const& type = types[kind];
        Matrix matrix = repacked(type, weights);
        const u8* blocks = matrix.bytes.data();
        for (Set const& set : sets) {
            if (!llm::kernels::can_run(set.isa, cpu))
                continue;
            auto one_token = [&](i32 t) {
                auto const& x = in.inputs[size_t(t)];
                float* at = out.data() + size_t(t) * rows;
                if (kind == int8_kind)
                    set.int8_one_token(at, x.q, x.s, x.sums, blocks, matrix.scales.data(), cols, rows);
                else
                    set.one_token[kind](at, x.q, x.s, x.sums, blocks, cols, rows);
            };
            auto batch = [&] {
                if (kind == int8_kind)
                    set.int8_batch(batch_out.data(), rows, in.inputs.data(), tokens, blocks, matrix.scales.data(), cols, rows);
                else
                    set.batch[kind](batch_out.data(), rows, in.inputs.data(), tokens, blocks, cols, rows);
            };
            std::vector<double> one_by_one, batched;
            for (i32 round = 0; round < rounds; ++round) {
                one_by_one.push_back(seconds_of([&] {
                    for (i32 t = 0; t < tokens; ++t)
                        one_token(t);
                }));
                batched.push_back(seconds_of(batch));
            }
            double one = median(one_by_one) / tokens * 1e6, batch_us = median(batched) / tokens * 1e6;
            bool same_bits = std::memcmp(out.data(), batch_out.data(), out.size() * sizeof(float)) == 0;
            printf("{\"type\":\"%s\",\"set\":\"%s\",\"rows\":%d,\"cols\":%d,\"tokens\":%d,\"one_token_us\":%.1f,\"batch_us\":%.1f,\"speedup\":%.2f,\"same_bits\":%s}\n",
                type.name, set.name, rows, cols, tokens, one, batch_us, one / batch_us, same_bits ? "true" : "false");
        }
    }
    return 0;
}
