// The malloc-backed heap of the sanitizer and fuzz builds (BAREFLOW_HEAP_MALLOC): each
// allocation is its own block, so AddressSanitizer reports what the kernel's arena would
// hide, while the usable ranges still bound what may be allocated. Built only there.
#include <gtest/gtest.h>
#include <rt/heap.h>
#include <string>

namespace {

void give_heap(u64 bytes)
{
    rt::MemoryRange budget[] = { { 4096, bytes } };
    rt::Heap::the().initialize(budget, {}, UINT64_MAX);
}

// Out of line and through a volatile pointer, so the compiler keeps the bad access.
__attribute__((noinline)) void write_at(float* data, size_t index)
{
    *static_cast<float volatile*>(data + index) = 1.0f;
}

TEST(HeapMalloc, WritePastTheEndIsReported)
{
    give_heap(1 << 20);
    auto array = rt::HeapArray<float>::allocate(10).release_value();
    write_at(array.data(), 9); // the last element is fine
    EXPECT_DEATH(write_at(array.data(), 10), "heap-buffer-overflow");
}

TEST(HeapMalloc, UseAfterFreeIsReported)
{
    give_heap(1 << 20);
    float* data = rt::Heap::the().allocate_array<float>(4).release_value();
    rt::Heap::the().free(data);
    EXPECT_DEATH(write_at(data, 0), "heap-use-after-free");
}

TEST(HeapMalloc, TheUsableRangesStillBoundAllocations)
{
    give_heap(1 << 20);
    EXPECT_EQ(rt::Heap::the().total_bytes(), 1u << 20);
    auto big = rt::Heap::the().allocate(900 << 10);
    ASSERT_FALSE(big.is_error());
    EXPECT_LE(rt::Heap::the().free_bytes(), 124u << 10);
    auto refused = rt::Heap::the().allocate(200 << 10);
    ASSERT_TRUE(refused.is_error());
    EXPECT_NE(std::string(refused.error().message().data(), refused.error().message().length()).find("out of memory"), std::string::npos);
    rt::Heap::the().free(big.value());
    EXPECT_EQ(rt::Heap::the().free_bytes(), 1u << 20);
    auto now_fits = rt::Heap::the().allocate(200 << 10);
    ASSERT_FALSE(now_fits.is_error());
    rt::Heap::the().free(now_fits.value());
}

TEST(HeapMalloc, AlignmentIsHonoured)
{
    give_heap(1 << 20);
    for (size_t alignment : { 16, 64, 4096 }) {
        void* p = rt::Heap::the().allocate(100, alignment).release_value();
        EXPECT_EQ(uptr(p) % alignment, 0u);
        rt::Heap::the().free(p);
    }
}

}
