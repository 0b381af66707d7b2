// The kernel's application entry: find the model and tokenizer modules and run inference.
#include "inference_app.h"
#include <rt/boot.h>
#include <rt/console.h>
#include <rt/crc32.h>
#include <rt/cycles.h>
#include <rt/module_check.h>

namespace {

rt::Span<u8> module_bytes(rt::multiboot2::BootInfo const& info, rt::StringView name)
{
    auto const* module = info.find_module(name);
    if (!module)
        return {};
    // A checksum lets a user compare with `crc32 FILE`; large models would take seconds.
    constexpr u32 checksum_limit = 64 << 20;
    if (module->size() <= checksum_limit)
        rt::println("[mod] {:<10} {:>10} bytes at {:#010x}, crc32 {:08x}", module->name, module->size(), module->start, rt::crc32(module->bytes()));
    else
        rt::println("[mod] {:<10} {:>10} bytes at {:#010x}", module->name, module->size(), module->start);
    // A present but empty module must still count as present.
    return module->size() ? module->writable_bytes() : rt::Span<u8>(reinterpret_cast<u8*>(uptr(module->start)), 0);
}

}

rt::ErrorOr<void> app_main(rt::BootContext const& boot)
{
    for (size_t i = 0; i < boot.info.module_count; ++i) {
        rt::StringView name = boot.info.modules[i].name;
        if (!(name == "model") && !(name == "tokenizer"))
            rt::println("[mod] ignoring module \"{}\" (expected \"model\" and \"tokenizer\")", name);
    }
    rt::Span<u8> model = module_bytes(boot.info, "model");
    rt::Bytes tokenizer = module_bytes(boot.info, "tokenizer");
    // An empty module, or one the menu entry names but GRUB could not load, is named here:
    // without this it would read as "no model given".
    auto recorded = TRY(boot.command_line.get_string("modules", ""));
    TRY(rt::multiboot2::check_modules(boot.info, recorded));
    return app::run({ model, tokenizer, boot.command_line, boot.cpu, rt::read_cycles(), boot.wall_clock });
}
