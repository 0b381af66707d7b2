#include <rt/cmdline.h>
#include <rt/module_check.h>

namespace rt::multiboot2 {

namespace {
constexpr u64 one_mib = 1024 * 1024;
}

u64 usable_memory_bytes(BootInfo const& info)
{
    u64 total = 0;
    for (size_t i = 0; i < info.memory_entry_count; ++i)
        if (info.memory_map[i].type == u32(MemoryType::Available))
            total += info.memory_map[i].length;
    return total;
}

ErrorOr<void> check_modules(BootInfo const& info, StringView recorded)
{
    for (size_t i = 0; i < info.module_count; ++i)
        if (info.modules[i].size() == 0)
            return Error::format("{}: the \"{}\" module is empty: GRUB loaded a file of 0 bytes", info.modules[i].name, info.modules[i].name);

    if (recorded.ends_with(","))
        return Error::format("modules=\"{}\": expected name:bytes[,name:bytes...] (scripts/mkiso.sh writes it)", recorded);
    for (size_t at = 0; at < recorded.length();) {
        size_t comma = recorded.find(',', at);
        StringView item = recorded.substring(at, comma - at);
        at = comma + 1;
        size_t colon = item.find(':');
        if (colon == item.length() || colon == 0)
            return Error::format("modules=\"{}\": expected name:bytes[,name:bytes...] (scripts/mkiso.sh writes it)", recorded);
        StringView name = item.substring(0, colon);
        auto size = parse_integer(item.substring(colon + 1));
        if (size.is_error() || size.value() < 0)
            return Error::format("modules=\"{}\": \"{}\" is not a size in bytes", recorded, item.substring(colon + 1));
        if (info.find_module(name))
            continue;
        u64 file_bytes = u64(size.value());
        u64 memory = usable_memory_bytes(info);
        if (file_bytes >= memory)
            return Error::format("{}: GRUB could not load the \"{}\" module: its file is {} MiB ({} bytes) and this machine has {} MiB of memory",
                name, name, file_bytes / one_mib, file_bytes, memory / one_mib);
        return Error::format("{}: GRUB could not load the \"{}\" module ({} MiB file, {} MiB of memory; GRUB's own message above says why)",
            name, name, file_bytes / one_mib, memory / one_mib);
    }
    return {};
}

}
