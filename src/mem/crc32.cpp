#include <rt/crc32.h>

namespace rt {

namespace {
struct Table {
    u32 entries[256];
    constexpr Table() : entries()
    {
        for (u32 i = 0; i < 256; ++i) {
            u32 value = i;
            for (int bit = 0; bit < 8; ++bit)
                value = (value & 1) ? (value >> 1) ^ 0xEDB88320u : value >> 1;
            entries[i] = value;
        }
    }
};
constexpr Table table;
}

u32 crc32(Bytes data, u32 crc)
{
    crc = ~crc;
    for (u8 byte : data)
        crc = table.entries[(crc ^ byte) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

}
