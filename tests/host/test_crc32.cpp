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
