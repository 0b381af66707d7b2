#include <gtest/gtest.h>
#include <rt/format.h>
#include <string>

namespace {

template<typename... Args>
std::string fmt(rt::StringView format, Args const&... args)
{
    char buffer[256];
    rt::BufferSink sink(buffer, sizeof buffer);
    rt::format_to(sink, format, args...);
    return std::string(sink.view().data(), sink.view().length());
}

TEST(Format, Integers)
{
    EXPECT_EQ(fmt("{} {} {}", 0, -42, 4294967295u), "0 -42 4294967295");
    EXPECT_EQ(fmt("{}", INT64_MIN), "-9223372036854775808");
    EXPECT_EQ(fmt("{}", UINT64_MAX), "18446744073709551615");
    EXPECT_EQ(fmt("{:x} {:X} {:#x} {:b}", 255, 255, 255, 5), "ff FF 0xff 101");
    EXPECT_EQ(fmt("{:08x}", 0xBEEFu), "0000beef");
    EXPECT_EQ(fmt("{:#010x}", 0x1234u), "0x00001234");
    EXPECT_EQ(fmt("{:05}", -42), "-0042");
}

TEST(Format, WidthAndAlignment)
{
    EXPECT_EQ(fmt("[{:5}]", 42), "[   42]");
    EXPECT_EQ(fmt("[{:<5}]", 42), "[42   ]");
    EXPECT_EQ(fmt("[{:^6}]", "ab"), "[  ab  ]");
    EXPECT_EQ(fmt("[{:>6}]", "ab"), "[    ab]");
    EXPECT_EQ(fmt("[{:6}]", "ab"), "[ab    ]");
    EXPECT_EQ(fmt("[{:*>4}]", 7), "[***7]");
    EXPECT_EQ(fmt("[{:2}]", "longer"), "[longer]");
}

TEST(Format, Floats)
{
    EXPECT_EQ(fmt("{}", 3.5), "3.500");
    EXPECT_EQ(fmt("{:.2f}", 3.14159f), "3.14");
    EXPECT_EQ(fmt("{:.0f}", 2.5), "3");
    EXPECT_EQ(fmt("{:.3f}", 0.9996), "1.000");
    EXPECT_EQ(fmt("{:.1f}", -0.25), "-0.3");
    EXPECT_EQ(fmt("{:8.2f}", 1.5), "    1.50");
    EXPECT_EQ(fmt("{:.2f}", 1e20), "1.00e+20");
    double zero = 0.0;
    EXPECT_EQ(fmt("{}", zero / zero), "nan");
    EXPECT_EQ(fmt("{}", -1.0 / zero), "-inf");
}

TEST(Format, StringsCharsBools)
{
    EXPECT_EQ(fmt("{} {} {}", "abc", rt::StringView("xyz", 2), 'q'), "abc xy q");
    EXPECT_EQ(fmt("{:.3}", "truncate"), "tru");
    EXPECT_EQ(fmt("{} {}", true, false), "true false");
    const char* null_string = nullptr;
    EXPECT_EQ(fmt("{}", null_string), "(null)");
}

TEST(Format, BracesAndMismatches)
{
    EXPECT_EQ(fmt("{{}} {{{}}}", 1), "{} {1}");
    EXPECT_EQ(fmt("{} {}", 1), "1 {?}");
    EXPECT_EQ(fmt("no fields", 1, 2), "no fields");
    EXPECT_EQ(fmt("open {", 1), "open {");
}

TEST(Format, BufferSinkTruncatesSafely)
{
    char buffer[8];
    rt::BufferSink sink(buffer, sizeof buffer);
    rt::format_to(sink, "{}", "0123456789");
    EXPECT_TRUE(sink.truncated());
    EXPECT_EQ(std::string(buffer), "0123456");
}

TEST(Format, FixedString)
{
    auto s = rt::FixedString<32>::formatted("{}-{}", 1, "two");
    EXPECT_EQ(std::string(s.c_str()), "1-two");
}

}
