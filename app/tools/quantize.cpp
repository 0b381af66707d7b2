// Writes a llama2.c version-2 int8 checkpoint from an fp32 (version 0) one, with the same
// group-wise scheme as llama2.c's export, so the output can be compared with its files.
//   bareflow-quantize IN.bin OUT.bin [--group N]    (default 32, halved until it divides dim)
#include "../llm/checkpoint.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <vector>

namespace {

bool write_all(FILE* file, const void* data, size_t bytes) { return fwrite(data, 1, bytes, file) == bytes; }

}

int main(int argc, char** argv)
{
    if (argc != 3 && !(argc == 5 && std::string(argv[3]) == "--group")) {
        fprintf(stderr, "usage: bareflow-quantize IN.bin OUT.bin [--group N]\n");
        return 2;
    }
    FILE* in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    fseek(in, 0, SEEK_END);
    std::vector<u8> bytes(size_t(ftell(in)));
    fseek(in, 0, SEEK_SET);
    bool read_ok = fread(bytes.data(), 1, bytes.size(), in) == bytes.size();
    fclose(in);
    if (!read_ok) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    // The runtime's heap, over an arena big enough for the int8 copy.
    size_t arena_bytes = bytes.size() + (size_t(64) << 20);
    void* arena = mmap(nullptr, arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    rt::MemoryRange usable[] = { { uptr(arena), arena_bytes } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);

    auto loaded = llm::load_checkpoint({ bytes.data(), bytes.size() });
    if (loaded.is_error()) {
        fprintf(stderr, "%.*s\n", int(loaded.error().message().length()), loaded.error().message().data());
        return 1;
    }
    auto checkpoint = loaded.release_value();
    if (checkpoint.format != llm::WeightFormat::Float32) {
        fprintf(stderr, "%s is already an int8 checkpoint\n", argv[1]);
        return 1;
    }
    auto const& c = checkpoint.config;
    i32 group = argc == 5 ? i32(strtol(argv[4], nullptr, 10)) : 32;
    while (argc != 5 && group > 1 && c.dim % group)
        group /= 2;
    auto quantized = llm::quantize_checkpoint(checkpoint, group);
    if (quantized.is_error()) {
        fprintf(stderr, "%.*s\n", int(quantized.error().message().length()), quantized.error().message().data());
        return 1;
    }

    // Header: magic, version 2, the seven config values, shared-classifier byte, group
    // size, zero padding to 256 bytes.
    u8 header[llm::int8_header_bytes] = {};
    u32 magic = llm::int8_magic;
    i32 version = 2;
    i32 values[7] = { c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len };
    memcpy(header, &magic, 4);
    memcpy(header + 4, &version, 4);
    memcpy(header + 8, values, sizeof values);
    header[36] = c.shared_classifier ? 1 : 0;
    memcpy(header + 37, &group, 4);

    FILE* out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    size_t dim = size_t(c.dim), layers = size_t(c.n_layers), g = size_t(group);
    auto const& w = checkpoint.weights;
    bool ok = write_all(out, header, sizeof header);
    for (size_t l = 0; l < layers && ok; ++l)
        ok = write_all(out, w.layers[l].attention_norm.data, dim * 4);
    for (size_t l = 0; l < layers && ok; ++l)
        ok = write_all(out, w.layers[l].ffn_norm.data, dim * 4);
    ok = ok && write_all(out, w.final_norm.data, dim * 4);
    auto matrix = [&](llm::Tensor const& m) {
        size_t count = size_t(m.rows) * size_t(m.cols);
        return write_all(out, m.data, count) && write_all(out, m.scales, count / g * 4);
    };
    ok = ok && matrix(w.embedding);
    // Each matrix kind for every layer, in llama2.c's order.
    for (llm::Tensor llm::Layer::*kind : { &llm::Layer::wq, &llm::Layer::wk, &llm::Layer::wv, &llm::Layer::wo, &llm::Layer::w1,
             &llm::Layer::w2, &llm::Layer::w3 })
        for (size_t l = 0; l < layers && ok; ++l)
            ok = matrix(w.layers[l].*kind);
    if (!c.shared_classifier)
        ok = ok && matrix(w.classifier);
    if (fclose(out) != 0 || !ok) {
        fprintf(stderr, "writing %s failed\n", argv[2]);
        return 1;
    }
    printf("wrote %s: int8, groups of %d\n", argv[2], group);
    return 0;
}
