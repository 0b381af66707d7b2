// libFuzzer target: the chat-template renderer gets a GGUF's template from outside, so any
// byte string must render or be refused without crashing, reading out of bounds or
// recursing without limit. The conversation is fixed: system, user, assistant, user.
#include "../../app/chat/chat_template.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    fuzz::reset_heap(16 << 20);
    fuzz::Part copy(data, size);
    const app::ChatMessage messages[] = { { "system", "Be brief." }, { "user", "Hi" }, { "assistant", "Hello!" }, { "user", "Bye" } };
    app::ChatTemplateInputs inputs { { messages, 4 }, true, "<s>", "</s>" };
    static char out[8192];
    (void)app::render_chat_template(copy.text(), inputs, { out, sizeof out });
    return 0;
}
