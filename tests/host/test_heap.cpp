#include <gtest/gtest.h>
#include <cstdlib>
#include <cstring>
#include <rt/heap.h>
#include <string>
#include <vector>

namespace {

// A heap over a real host buffer, with the middle of it reserved.
class HeapTest : public ::testing::Test {
protected:
    static constexpr size_t arena_size = 1 << 20;
    void SetUp() override
    {
        arena = static_cast<u8*>(std::aligned_alloc(4096, arena_size));
        base = uptr(arena);
        rt::MemoryRange usable[] = { { base, arena_size } };
        rt::MemoryRange reserved[] = { { base + 256 * 1024, 256 * 1024 } };
        heap.initialize(usable, reserved, UINT64_MAX);
    }
    void TearDown() override { std::free(arena); }
    bool in_reserved(uptr p, size_t n) const { return p < base + 512 * 1024 && p + n > base + 256 * 1024; }

    u8* arena {};
    uptr base {};
    rt::Heap heap;
};

TEST_F(HeapTest, RegionsExcludeReservedMemory)
{
    ASSERT_EQ(heap.regions().size(), 2u);
    for (auto const& r : heap.regions())
        EXPECT_FALSE(in_reserved(uptr(r.base), size_t(r.length)));
    EXPECT_EQ(heap.total_bytes(), arena_size - 256 * 1024);
}

TEST_F(HeapTest, AllocationsAreAlignedAndDisjoint)
{
    std::vector<std::pair<uptr, size_t>> blocks;
    for (size_t i = 0; i < 200; ++i) {
        size_t size = 1 + (i * 37) % 3000;
        size_t alignment = size_t(16) << (i % 4); // 16..128
        auto r = heap.allocate(size, alignment);
        ASSERT_FALSE(r.is_error());
        uptr p = uptr(r.value());
        EXPECT_EQ(p % alignment, 0u);
        EXPECT_FALSE(in_reserved(p, size));
        EXPECT_GE(p, base);
        EXPECT_LE(p + size, base + arena_size);
        std::memset(r.value(), 0xAB, size);
        for (auto const& [q, n] : blocks)
            EXPECT_TRUE(p + size <= q || q + n <= p) << "overlap";
        blocks.push_back({ p, size });
    }
}

TEST_F(HeapTest, FreeCoalescesBackToOneBlockPerRegion)
{
    u64 before = heap.free_bytes();
    std::vector<void*> pointers;
    for (int i = 0; i < 50; ++i)
        pointers.push_back(heap.allocate(1000 + i, 64).value());
    // Free in an interleaved order to exercise merging on both sides.
    for (size_t i = 0; i < pointers.size(); i += 2)
        heap.free(pointers[i]);
    for (size_t i = 1; i < pointers.size(); i += 2)
        heap.free(pointers[i]);
    EXPECT_EQ(heap.free_bytes(), before);
    EXPECT_EQ(heap.largest_free_block(), 512u * 1024); // the region above the reserved hole
    // A double free is ignored rather than corrupting the list.
    heap.free(pointers[0]);
    EXPECT_EQ(heap.free_bytes(), before);
}

TEST_F(HeapTest, ExhaustionReportsTheRequestedSize)
{
    auto r = heap.allocate(600 * 1024);
    ASSERT_TRUE(r.is_error());
    std::string message(r.error().message().data(), r.error().message().length());
    EXPECT_NE(message.find("614400 bytes requested"), std::string::npos) << message;
    EXPECT_NE(message.find("largest free block"), std::string::npos);
    // Memory is still usable after a failed request.
    EXPECT_FALSE(heap.allocate(100 * 1024).is_error());
}

TEST_F(HeapTest, RejectsBadAlignment)
{
    EXPECT_TRUE(heap.allocate(10, 48).is_error());
}

TEST_F(HeapTest, HeapArrayReleasesOnScopeExit)
{
    // HeapArray uses the global heap: give it this arena.
    rt::MemoryRange usable[] = { { base, arena_size } };
    rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    u64 before = rt::Heap::the().free_bytes();
    {
        auto array = rt::HeapArray<float>::allocate(1000).release_value();
        EXPECT_EQ(uptr(array.data()) % 64, 0u);
        EXPECT_LT(rt::Heap::the().free_bytes(), before);
    }
    EXPECT_EQ(rt::Heap::the().free_bytes(), before);
}

TEST(HeapClamp, IgnoresMemoryAboveTheAddressLimit)
{
    rt::Heap heap;
    // Ranges that are only described, never touched: they are above the limit.
    rt::MemoryRange usable[] = { { 0x1'0000'0000ull, 0x1000'0000ull } };
    heap.initialize(usable, {}, 0x1'0000'0000ull);
    EXPECT_EQ(heap.regions().size(), 0u);
    EXPECT_EQ(heap.total_bytes(), 0u);
    EXPECT_TRUE(heap.allocate(16).is_error());
}

}
