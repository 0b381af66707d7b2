// The kernel's runtime linked alone, every object of it (meson.build: layer-check-rt.elf):
// the link fails if rt calls into llm or app. Only what a platform must provide is here.
#include <rt/boot.h>

namespace rt {
[[noreturn]] void panic(StringView)
{
    for (;;)
        asm volatile("cli; hlt");
}
}

extern "C" [[noreturn]] void layer_check_entry()
{
    rt::panic("the layer check is linked, never run");
}
