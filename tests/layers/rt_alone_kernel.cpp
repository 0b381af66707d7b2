// The kernel's runtime linked alone (layer-check-rt.elf), or with llm only
// (layer-check-llm.elf), every object of them: the link fails if a layer calls up into
// llm or app (meson.build). Only what a platform must provide is here.
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
