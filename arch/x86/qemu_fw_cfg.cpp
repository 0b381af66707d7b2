#include <arch/x86/io.h>
#include <arch/x86/qemu_fw_cfg.h>

namespace x86::fw_cfg {

namespace {
constexpr u16 selector_port = 0x510;
constexpr u16 data_port = 0x511;
constexpr u16 signature_key = 0x0000;
constexpr u16 file_directory_key = 0x0019;

void select(u16 key) { out16(selector_port, key); }

u32 read_big_endian32()
{
    u32 value = 0;
    for (int i = 0; i < 4; ++i)
        value = (value << 8) | in8(data_port);
    return value;
}

u16 read_big_endian16()
{
    u16 high = in8(data_port);
    return u16((high << 8) | in8(data_port));
}
}

i64 read_file(rt::StringView name, char* out, size_t capacity)
{
    select(signature_key);
    char signature[4];
    for (char& c : signature)
        c = char(in8(data_port));
    if (rt::StringView(signature, 4) != "QEMU")
        return -1;

    select(file_directory_key);
    u32 count = read_big_endian32();
    for (u32 i = 0; i < count && i < 4096; ++i) {
        u32 size = read_big_endian32();
        u16 key = read_big_endian16();
        read_big_endian16(); // reserved
        char entry_name[56];
        for (char& c : entry_name)
            c = char(in8(data_port));
        entry_name[55] = 0;
        if (rt::StringView(entry_name) != name)
            continue;
        if (size > capacity)
            return i64(size);
        select(key);
        for (size_t k = 0; k < size; ++k)
            out[k] = char(in8(data_port));
        return i64(size);
    }
    return -1;
}

}
