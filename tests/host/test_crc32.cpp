#include <gtest/gtest.h>
#include <rt/crc32.h>

TEST(Crc32, KnownVectors)
{
    const char* text = "123456789";
    EXPECT_EQ(rt::crc32({ reinterpret_cast<const u8*>(text), 9 }), 0xCBF43926u);
    EXPECT_EQ(rt::crc32({}), 0u);
    // Incremental use gives the same result as one pass.
    u32 first = rt::crc32({ reinterpret_cast<const u8*>(text), 4 });
    EXPECT_EQ(rt::crc32({ reinterpret_cast<const u8*>(text) + 4, 5 }, first), 0xCBF43926u);
}

namespace {
// The definition, one bit at a time: the oracle for the sliced implementation.
u32 bitwise_crc32(const u8* data, size_t size)
{
    u32 crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}
}

TEST(Crc32, LongerKnownVector)
{
    const char* text = "The quick brown fox jumps over the lazy dog";
    EXPECT_EQ(rt::crc32({ reinterpret_cast<const u8*>(text), 43 }), 0x414FA339u);
}

TEST(Crc32, SlicedMatchesBitwiseAtEveryLengthAndOffset)
{
    u8 data[300];
    u32 state = 12345;
    for (auto& byte : data) {
        state = state * 1103515245u + 12345u;
        byte = u8(state >> 16);
    }
    for (size_t offset = 0; offset < 8; ++offset)
        for (size_t size = 0; size + offset <= sizeof data; size += 7)
            ASSERT_EQ(rt::crc32({ data + offset, size }), bitwise_crc32(data + offset, size)) << "offset " << offset << " size " << size;
}
