#include <rt/multiboot2.h>

namespace rt::multiboot2 {

namespace {

enum TagType : u32 {
    End = 0,
    CommandLine = 1,
    LoaderName = 2,
    ModuleTag = 3,
    BasicMemory = 4,
    BootDevice = 5,
    MemoryMap = 6,
    FramebufferTag = 8,
    Efi32 = 11,
    Efi64 = 12,
    AcpiOld = 14,
    AcpiNew = 15,
    EfiBootServices = 18,
};

u32 read_u32(const u8* p)
{
    return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24;
}

u64 read_u64(const u8* p)
{
    return u64(read_u32(p)) | u64(read_u32(p + 4)) << 32;
}

// The NUL-terminated string at `text`, which must end inside [text, text + available).
ErrorOr<StringView> string_in_tag(const u8* text, size_t available, StringView what, size_t offset)
{
    size_t length = 0;
    while (length < available && text[length])
        ++length;
    if (length == available)
        return Error::format("multiboot2: {} tag at offset {} is not NUL-terminated", what, offset);
    return StringView(reinterpret_cast<const char*>(text), length);
}

// Copies a NUL-terminated string that must end inside [text, text + available).
ErrorOr<void> copy_string(const u8* text, size_t available, char* out, size_t capacity, StringView what, size_t offset)
{
    size_t length = 0;
    while (length < available && text[length])
        ++length;
    if (length == available)
        return Error::format("multiboot2: {} tag at offset {} is not NUL-terminated", what, offset);
    if (length >= capacity)
        length = capacity - 1; // long strings are cut, not overflowed
    for (size_t i = 0; i < length; ++i)
        out[i] = char(text[i]);
    out[length] = 0;
    return {};
}

}

Module const* BootInfo::find_module(StringView name) const
{
    for (size_t i = 0; i < module_count; ++i)
        if (StringView(modules[i].name) == name)
            return &modules[i];
    return nullptr;
}

ErrorOr<void> parse(const u8* info, size_t available, BootInfo& out)
{
    if (!info)
        return Error::format("multiboot2: no boot information (null pointer)");
    if (uptr(info) % 8)
        return Error::format("multiboot2: boot information at {:#x} is not 8-byte aligned", uptr(info));
    if (available < 16)
        return Error::format("multiboot2: boot information is only {} bytes", available);
    u32 total_size = read_u32(info);
    if (total_size < 16 || total_size > available)
        return Error::format("multiboot2: total_size {} is outside 16..{}", total_size, available);
    out.total_size = total_size;

    size_t offset = 8;
    bool saw_end = false;
    while (offset + 8 <= total_size) {
        const u8* tag = info + offset;
        u32 type = read_u32(tag);
        u32 size = read_u32(tag + 4);
        if (size < 8 || size > total_size - offset)
            return Error::format("multiboot2: tag {} at offset {} has size {} (block is {} bytes)", type, offset, size, total_size);
        const u8* body = tag + 8;
        size_t body_size = size - 8;
        switch (type) {
        case End:
            saw_end = true;
            break;
        case CommandLine:
            out.command_line = TRY(string_in_tag(body, body_size, "command line", offset));
            break;
        case LoaderName:
            TRY(copy_string(body, body_size, out.loader_name, sizeof out.loader_name, "boot loader name", offset));
            break;
        case ModuleTag: {
            if (body_size < 8)
                return Error::format("multiboot2: module tag at offset {} is too short ({} bytes)", offset, size);
            if (out.module_count == BootInfo::max_modules)
                return Error::format("multiboot2: more than {} modules", BootInfo::max_modules);
            Module& module = out.modules[out.module_count];
            module.start = read_u32(body);
            module.end = read_u32(body + 4);
            if (module.end < module.start)
                return Error::format("multiboot2: module at offset {} ends ({:#x}) before it starts ({:#x})", offset, module.end, module.start);
            TRY(copy_string(body + 8, body_size - 8, module.name, sizeof module.name, "module", offset));
            ++out.module_count;
            break;
        }
        case BasicMemory:
            if (body_size >= 8) {
                out.basic_lower_kib = read_u32(body);
                out.basic_upper_kib = read_u32(body + 4);
            }
            break;
        case MemoryMap: {
            if (body_size < 8)
                return Error::format("multiboot2: memory map tag at offset {} is too short", offset);
            u32 entry_size = read_u32(body);
            // Entries are stepped by entry_size, which may grow in later spec versions.
            if (entry_size < 24 || entry_size % 8)
                return Error::format("multiboot2: memory map entry size {} at offset {} is invalid", entry_size, offset);
            for (size_t at = 8; at + entry_size <= body_size; at += entry_size) {
                const u8* entry = body + at;
                MemoryMapEntry next { read_u64(entry), read_u64(entry + 8), read_u32(entry + 16) };
                if (next.length > ~u64(0) - next.base)
                    return Error::format("multiboot2: memory map entry at offset {} ({:#x} + {:#x} bytes) runs past the end of the address space",
                        offset + 8 + at, next.base, next.length);
                MemoryMapEntry* last = out.memory_entry_count ? &out.memory_map[out.memory_entry_count - 1] : nullptr;
                if (last && last->type == next.type && last->base + last->length == next.base)
                    last->length += next.length;
                else if (out.memory_entry_count == BootInfo::max_memory_entries)
                    ++out.memory_entries_left_out;
                else
                    out.memory_map[out.memory_entry_count++] = next;
            }
            break;
        }
        case FramebufferTag: {
            if (body_size < 22)
                return Error::format("multiboot2: framebuffer tag at offset {} is too short", offset);
            Framebuffer& fb = out.framebuffer;
            fb.address = read_u64(body);
            fb.pitch = read_u32(body + 8);
            fb.width = read_u32(body + 12);
            fb.height = read_u32(body + 16);
            fb.bpp = body[20];
            fb.type = FramebufferType(body[21]);
            if (fb.type == FramebufferType::Rgb && body_size >= 30) {
                // body[22..23] is reserved; the colour info follows.
                fb.red_position = body[24];
                fb.red_size = body[25];
                fb.green_position = body[26];
                fb.green_size = body[27];
                fb.blue_position = body[28];
                fb.blue_size = body[29];
            }
            fb.present = fb.type == FramebufferType::Rgb || fb.type == FramebufferType::EgaText;
            break;
        }
        case AcpiOld:
        case AcpiNew: {
            // The newer (XSDT) RSDP wins over the old one.
            if (type == AcpiOld && out.rsdp_length > 20)
                break;
            size_t n = min<size_t>(body_size, sizeof out.rsdp);
            for (size_t i = 0; i < n; ++i)
                out.rsdp[i] = body[i];
            out.rsdp_length = n;
            break;
        }
        case Efi32:
        case Efi64:
        case EfiBootServices:
            out.efi_boot = true;
            break;
        default:
            break; // tags we do not use are skipped by size
        }
        if (saw_end)
            break;
        offset += size_t(align_up(size, 8));
    }
    if (!saw_end)
        return Error::format("multiboot2: no end tag within {} bytes", total_size);
    return {};
}

}
