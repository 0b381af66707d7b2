// libFuzzer target: the GGUF parser and the tokenizer loader must reject or accept any
// byte string without crashing, reading out of bounds, or allocating absurd amounts.
#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_tokenizer.h"
#include <cstdlib>
#include <cstring>

namespace {
alignas(64) u8 arena[64 << 20];
}

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    rt::MemoryRange usable[] = { { uptr(arena), sizeof arena } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    // A private, exactly-sized copy, so AddressSanitizer catches any read past the end.
    u8* copy = static_cast<u8*>(std::malloc(size ? size : 1));
    std::memcpy(copy, data, size);
    auto file = llm::gguf::File::parse({ copy, size });
    if (!file.is_error()) {
        for (auto const& t : file.value().tensors())
            if (t.bytes)
                (void)*(volatile const u8*)(t.data + t.bytes - 1); // tensors really lie inside
        auto tokenizer = llm::GgufTokenizer::load(file.value());
        if (!tokenizer.is_error()) {
            i32 tokens[64];
            (void)tokenizer.value().encode("Hi there", true, { tokens, 64 });
        }
    }
    std::free(copy);
    return 0;
}
