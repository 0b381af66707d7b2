// Writes llama2.c-format (version 0, fp32) checkpoints with random weights at the standard
// TinyStories shapes, or any shape, for tests and speed work. Real weights are not needed
// to measure speed: every shape streams the same bytes whatever their values.
//   bareflow-make-checkpoint --shape 260K|15M|42M|110M -o FILE [--seed N]
//   bareflow-make-checkpoint --dim D --hidden H --layers L --heads N --kv-heads K
//                            --vocab V --seq-len S -o FILE [--seed N]
#include "../llm/checkpoint.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Shape {
    const char* name;
    i32 header[7]; // dim, hidden, layers, heads, kv heads, vocab, seq_len
};

// The shapes of Karpathy's TinyStories models.
constexpr Shape standard_shapes[] = {
    { "260K", { 64, 172, 5, 8, 4, 512, 512 } },
    { "15M", { 288, 768, 6, 6, 6, 32000, 256 } },
    { "42M", { 512, 1376, 8, 8, 8, 32000, 1024 } },
    { "110M", { 768, 2048, 12, 12, 12, 32000, 1024 } },
};

int usage()
{
    fprintf(stderr, "usage: bareflow-make-checkpoint (--shape 260K|15M|42M|110M | --dim D --hidden H --layers L --heads N\n"
                    "       --kv-heads K --vocab V --seq-len S) -o FILE [--seed N]\n");
    return 2;
}

}

int main(int argc, char** argv)
{
    i32 header[7] = { 0, 0, 0, 0, 0, 0, 0 };
    const char* output = nullptr;
    u64 seed = 1;
    const char* custom_flags[] = { "--dim", "--hidden", "--layers", "--heads", "--kv-heads", "--vocab", "--seq-len" };
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc)
            return usage();
        const char* value = argv[++i];
        if (flag == "-o") {
            output = value;
        } else if (flag == "--seed") {
            seed = strtoull(value, nullptr, 10);
        } else if (flag == "--shape") {
            bool found = false;
            for (auto const& shape : standard_shapes)
                if (std::string(shape.name) == value) {
                    memcpy(header, shape.header, sizeof header);
                    found = true;
                }
            if (!found)
                return usage();
        } else {
            bool found = false;
            for (int k = 0; k < 7; ++k)
                if (flag == custom_flags[k]) {
                    header[k] = i32(strtol(value, nullptr, 10));
                    found = true;
                }
            if (!found)
                return usage();
        }
    }
    if (!output)
        return usage();
    auto config = llm::validate_config(header);
    if (config.is_error()) {
        fprintf(stderr, "%.*s\n", int(config.error().message().length()), config.error().message().data());
        return 1;
    }
    auto const& c = config.value();
    FILE* file = fopen(output, "wb");
    if (!file) {
        perror(output);
        return 1;
    }
    fwrite(header, sizeof header, 1, file);

    // Tensors in file order; norms are ones, everything else small uniform noise.
    u64 dim = u64(c.dim), hidden = u64(c.hidden_dim), layers = u64(c.n_layers), kv_dim = u64(c.kv_dim());
    struct Tensor {
        u64 count;
        bool is_norm;
    };
    std::vector<Tensor> tensors = {
        { u64(c.vocab_size) * dim, false }, { layers * dim, true }, { layers * dim * dim, false },
        { layers * kv_dim * dim, false }, { layers * kv_dim * dim, false }, { layers * dim * dim, false },
        { layers * dim, true }, { layers * hidden * dim, false }, { layers * dim * hidden, false },
        { layers * hidden * dim, false }, { dim, true }, { u64(c.seq_len) * u64(c.head_size()), false },
    };
    u64 state = seed * 0x9E3779B97F4A7C15ull + 1;
    std::vector<float> chunk(1 << 16);
    for (auto const& tensor : tensors) {
        for (u64 done = 0; done < tensor.count;) {
            size_t n = size_t(std::min<u64>(chunk.size(), tensor.count - done));
            for (size_t i = 0; i < n; ++i) {
                state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
                float unit = float((state * 0x2545F4914F6CDD1Dull) >> 40) / 16777216.0f; // [0, 1)
                chunk[i] = tensor.is_norm ? 1.0f : (unit - 0.5f) * 0.1f;
            }
            fwrite(chunk.data(), sizeof(float), n, file);
            done += n;
        }
    }
    if (fclose(file) != 0) {
        perror(output);
        return 1;
    }
    printf("wrote %s: dim %d, hidden %d, %d layers, %d heads (%d kv), vocab %d, context %d, %.1fM parameters\n", output, c.dim,
        c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len, double(c.parameter_count()) / 1e6);
    return 0;
}
