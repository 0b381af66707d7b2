// libFuzzer target: the chat-template renderer gets a GGUF's template from outside, so any
// byte string must render or be refused without crashing, reading out of bounds or
// recursing without limit. The conversation is fixed: system, user, assistant, user.
#include "../../app/chat_template.h"
#include <rt/heap.h>
#include <cstdlib>
#include <cstring>

namespace {
alignas(64) u8 arena[16 << 20];
}

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    rt::MemoryRange usable[] = { { uptr(arena), sizeof arena } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    char* copy = static_cast<char*>(std::malloc(size ? size : 1));
    std::memcpy(copy, data, size);
    const app::ChatMessage messages[] = { { "system", "Be brief." }, { "user", "Hi" }, { "assistant", "Hello!" }, { "user", "Bye" } };
    app::ChatTemplateInputs inputs { { messages, 4 }, true, "<s>", "</s>" };
    static char out[8192];
    (void)app::render_chat_template({ copy, size }, inputs, { out, sizeof out });
    std::free(copy);
    return 0;
}
