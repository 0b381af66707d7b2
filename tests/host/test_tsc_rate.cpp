#include <gtest/gtest.h>
#include <rt/tsc_rate.h>

namespace {

rt::CpuidResult leaf(u32 eax, u32 ebx = 0, u32 ecx = 0) { return { eax, ebx, ecx, 0 }; }

TEST(TscRate, CrystalRatioComesFirst)
{
    // A Skylake-X: 25 MHz crystal, TSC 2300 MHz = 25 MHz * 184 / 2.
    EXPECT_EQ(rt::tsc_hz_from_cpuid(0x16, leaf(2, 184, 25'000'000), leaf(2300)), 2'300'000'000u);
}

TEST(TscRate, BaseFrequencyWhenTheCrystalIsNotStated)
{
    // Client parts leave ECX 0: leaf 0x16's base MHz stands in.
    EXPECT_EQ(rt::tsc_hz_from_cpuid(0x16, leaf(2, 200, 0), leaf(3600)), 3'600'000'000u);
    EXPECT_EQ(rt::tsc_hz_from_cpuid(0x16, leaf(0, 0, 0), leaf(0x0E10'0E10)), 3'600'000'000u); // bits 16-31 reserved
}

TEST(TscRate, LeavesAboveTheHighestAreNotRead)
{
    // Beyond the highest leaf a CPU returns another leaf's values: never taken for these.
    EXPECT_EQ(rt::tsc_hz_from_cpuid(0x0D, leaf(2, 184, 25'000'000), leaf(2300)), 0u);
    EXPECT_EQ(rt::tsc_hz_from_cpuid(0x15, leaf(2, 200, 0), leaf(3600)), 0u);
    EXPECT_EQ(rt::tsc_hz_from_cpuid(0x16, leaf(0), leaf(0)), 0u);
}

TEST(TscRate, MeasurementsArePlausibleOrRefused)
{
    // QEMU without a PIT: the one-shot "ended" at once, 10 ms read as 56,480 cycles.
    u64 pitless = rt::rate_against(56'480, 11'931, 1'193'182);
    EXPECT_EQ(pitless, 5'648'388u);
    EXPECT_FALSE(rt::plausible_tsc_hz(pitless));
    EXPECT_TRUE(rt::plausible_tsc_hz(rt::rate_against(23'134'840, 35'795, 3'579'545)));
    EXPECT_FALSE(rt::plausible_tsc_hz(rt::rate_against(1, 0, 3'579'545))); // the clock never moved
    EXPECT_FALSE(rt::plausible_tsc_hz(40'000'000'000u));
}

}
