#include <gtest/gtest.h>
#include <rt/stack_watch.h>
#include <vector>

namespace {

TEST(StackWatch, ReportsHowDeepAStackWent)
{
    rt::StackWatch watch;
    std::vector<u32> stack(16 * 1024 / 4);
    u8* bottom = reinterpret_cast<u8*>(stack.data());
    watch.watch(0, bottom, 16 * 1024, bottom + 16 * 1024);
    EXPECT_EQ(watch.use(0).deepest, 0u); // painted, untouched
    // A call chain 3 KiB deep: the top 3 KiB written.
    for (size_t i = (16 - 3) * 1024 / 4; i < stack.size(); ++i)
        stack[i] = u32(i);
    auto use = watch.use(0);
    EXPECT_EQ(use.deepest, 3u * 1024);
    EXPECT_EQ(use.size, 16u * 1024);
    EXPECT_FALSE(use.reached_guard);
}

TEST(StackWatch, ALiveStackIsPaintedOnlyBelowItsLivePart)
{
    rt::StackWatch watch;
    std::vector<u32> stack(8 * 1024 / 4, 0x11111111u);
    u8* bottom = reinterpret_cast<u8*>(stack.data());
    watch.watch(1, bottom, 8 * 1024, bottom + 6 * 1024); // the top 2 KiB in use
    EXPECT_EQ(stack.back(), 0x11111111u);                 // not painted over
    EXPECT_EQ(watch.use(1).deepest, 2u * 1024);
    EXPECT_EQ(watch.watched(), 2u);
    EXPECT_EQ(watch.use(0).size, 0u); // core 0 not watched
}

TEST(StackWatch, ReachingTheGuardIsNoticed)
{
    rt::StackWatch watch;
    std::vector<u32> stack(32 * 1024 / 4);
    u8* bottom = reinterpret_cast<u8*>(stack.data());
    watch.watch(0, bottom, 32 * 1024, bottom + 32 * 1024);
    stack[rt::StackWatch::guard_bytes / 4] = 1; // just above the guard: not yet
    EXPECT_FALSE(watch.use(0).reached_guard);
    stack[rt::StackWatch::guard_bytes / 4 - 1] = 1; // its top word
    auto use = watch.use(0);
    EXPECT_TRUE(use.reached_guard);
    EXPECT_EQ(use.deepest, 32u * 1024 - rt::StackWatch::guard_bytes + 4);
}

}
