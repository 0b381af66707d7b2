// Runs two GGUF models of the same shape on the same tokens and says how far the second's
// logits are from the first's: for checking a quantised file (BareFlow's or llama.cpp's)
// against its float original. The tokens are BOS and then the first model's greedy
// choices, fed to both (so one early difference cannot send them down different texts).
//   bareflow-compare-logits REFERENCE.gguf OTHER.gguf [--positions N] [--max-mean-error E]
// Prints one line per position and a summary; exits 1 when the mean over the positions of
// the relative error (|other - reference| / |reference| over the vocabulary) exceeds E.
// (The mean, not the largest: a position whose logits are all small has a large relative
// error from the same absolute one.)
#include "read_file.h"
#include "../llm/gguf.h"
#include "../llm/gguf_model.h"
#include "../llm/interleave.h"
#include "../llm/kernels/tuner.h"
#include "../llm/transformer.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <rt/cpu_features.h>
#include <string>
#include <sys/mman.h>
#include <vector>

namespace {

using tools::read_file;

std::string text(rt::Error const& error) { return std::string(error.message().data(), error.message().length()); }

// A loaded model: its file's bytes, the parsed file and the checkpoint that points into it.
struct Model {
    std::vector<u8> bytes;
    llm::gguf::File file;
    llm::Checkpoint checkpoint;
};

bool load(const char* path, Model& model)
{
    model.bytes = read_file(path);
    if (model.bytes.empty()) {
        fprintf(stderr, "cannot read %s\n", path);
        return false;
    }
    auto file = llm::gguf::File::parse({ model.bytes.data(), model.bytes.size() });
    if (file.is_error()) {
        fprintf(stderr, "%s: %s\n", path, text(file.error()).c_str());
        return false;
    }
    model.file = file.release_value();
    auto checkpoint = llm::load_gguf_checkpoint(model.file);
    if (checkpoint.is_error()) {
        fprintf(stderr, "%s: %s\n", path, text(checkpoint.error()).c_str());
        return false;
    }
    model.checkpoint = checkpoint.release_value();
    // As the program does at load (interleave.h), so the logits are the ones it computes.
    auto repacked = llm::interleave_weights(model.checkpoint.weights, { model.bytes.data(), model.bytes.size() });
    if (repacked.is_error()) {
        fprintf(stderr, "%s: %s\n", path, text(repacked.error()).c_str());
        return false;
    }
    std::map<std::string, int> types;
    for (auto const& t : model.file.tensors())
        ++types[llm::gguf::tensor_type_name(u32(t.type))];
    printf("%s:", path);
    for (auto const& [name, count] : types)
        printf(" %d %s", count, name.c_str());
    printf("\n");
    return true;
}

}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bareflow-compare-logits REFERENCE.gguf OTHER.gguf [--positions N] [--max-mean-error E]\n");
        return 2;
    }
    i32 positions = 16;
    double max_error = 1e30;
    for (int i = 3; i + 1 < argc; i += 2) {
        std::string option = argv[i];
        if (option == "--positions")
            positions = atoi(argv[i + 1]);
        else if (option == "--max-mean-error")
            max_error = atof(argv[i + 1]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    size_t arena_bytes = size_t(4) << 30;
    void* arena = mmap(nullptr, arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    rt::MemoryRange usable[] = { { uptr(arena), arena_bytes } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    // The widest SIMD variants: bit-identical to the reference, and faster.
    llm::kernels::activate(llm::kernels::widest_plan(rt::detect_cpu_features()));

    Model reference, other;
    if (!load(argv[1], reference) || !load(argv[2], other))
        return 1;
    auto const& a = reference.checkpoint.config;
    auto const& b = other.checkpoint.config;
    if (a.dim != b.dim || a.vocab_size != b.vocab_size || a.n_layers != b.n_layers) {
        fprintf(stderr, "the models differ in shape\n");
        return 1;
    }
    auto first = llm::Transformer::create(reference.checkpoint);
    auto second = llm::Transformer::create(other.checkpoint);
    if (first.is_error() || second.is_error()) {
        fprintf(stderr, "not enough memory for the two models' state\n");
        return 1;
    }
    auto one = first.release_value(), two = second.release_value();
    positions = positions < a.seq_len ? positions : a.seq_len;
    i32 token = 1, same_choice = 0;
    double worst = 0, total = 0;
    for (i32 position = 0; position < positions; ++position) {
        const float* x = one.forward(token, position);
        const float* y = two.forward(token, position);
        double difference = 0, size = 0;
        i32 best_x = 0, best_y = 0;
        for (i32 i = 0; i < a.vocab_size; ++i) {
            difference += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
            size += double(x[i]) * x[i];
            best_x = x[i] > x[best_x] ? i : best_x;
            best_y = y[i] > y[best_y] ? i : best_y;
        }
        double error = std::sqrt(difference / (size > 0 ? size : 1));
        worst = error > worst ? error : worst;
        total += error;
        same_choice += best_x == best_y;
        printf("position %3d token %5d: relative error %.4f, greedy choice %5d vs %5d\n", position, token, error, best_x, best_y);
        token = best_x;
    }
    printf("summary: %d positions, relative error mean %.4f max %.4f, same greedy choice at %d of %d\n", positions, total / positions,
        worst, same_choice, positions);
    if (total / positions > max_error) {
        printf("FAIL: mean relative error %.4f is above %.4f\n", total / positions, max_error);
        return 1;
    }
    return 0;
}
