// libFuzzer target: the GGUF parser, the tokenizer loader and the model loader must accept
// or reject any byte string without crashing, reading out of bounds, or allocating absurd
// amounts (the heap's budget is 64 MiB).
#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_model.h"
#include "../../app/llm/gguf_tokenizer.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    fuzz::reset_heap(64 << 20);
    fuzz::Part copy(data, size);
    auto file = llm::gguf::File::parse(copy.bytes());
    if (file.is_error())
        return 0;
    for (auto const& t : file.value().tensors())
        if (t.bytes)
            (void)*(volatile const u8*)(t.data + t.bytes - 1); // tensors really lie inside
    auto tokenizer = llm::GgufTokenizer::load(file.value());
    if (!tokenizer.is_error()) {
        i32 tokens[3 * 40 + 4];
        auto n = tokenizer.value().encode("Hi there,  42 \xc2\xbd n\xc3\xa9 \xf0\x9f\xa6\x99!", true, { tokens, sizeof tokens / sizeof tokens[0] });
        for (size_t i = 0; !n.is_error() && i < n.value(); ++i) // every token decodes
            (void)tokenizer.value().decode(i ? tokens[i - 1] : -1, tokens[i]);
    }
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    if (!checkpoint.is_error()) {
        // Every row of the embedding the loader accepted must dequantise from inside the file.
        auto const& c = checkpoint.value().config;
        auto row = rt::HeapArray<float>::allocate(size_t(c.dim));
        if (!row.is_error())
            for (i32 token = 0; token < c.vocab_size; token += rt::max(1, c.vocab_size / 8))
                llm::dequantize_row(checkpoint.value().weights.embedding, size_t(token), row.value().data());
    }
    return 0;
}
