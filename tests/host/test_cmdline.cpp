#include <gtest/gtest.h>
#include <rt/cmdline.h>
#include <rt/date_time.h>
#include <string>
#include <vector>

namespace {

std::string str(rt::StringView v) { return std::string(v.data(), v.length()); }

TEST(CommandLine, KeyValuePairs)
{
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse("  steps=256 temp=0.8\tmode=bench  ", cl).is_error());
    ASSERT_EQ(cl.entries().size(), 3u);
    EXPECT_EQ(str(cl.get_string("mode", "x").value()), "bench");
    EXPECT_EQ(cl.get_integer("steps", 0, 1, 1000).value(), 256);
    EXPECT_FLOAT_EQ(float(cl.get_number("temp", 1, 0, 2).value()), 0.8f);
    EXPECT_EQ(cl.get_integer("missing", 7, 0, 10).value(), 7);
}

TEST(CommandLine, QuotedValuesAndEscapes)
{
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse(R"(prompt="Once upon a time" name='a b' say="x \"y\"")", cl).is_error());
    EXPECT_EQ(str(cl.get_string("prompt", "").value()), "Once upon a time");
    EXPECT_EQ(str(cl.get_string("name", "").value()), "a b");
    EXPECT_EQ(str(cl.get_string("say", "").value()), "x \"y\"");
}

TEST(CommandLine, GrubQuotesTheWholePair)
{
    // GRUB turns `prompt="Once upon a time"` in grub.cfg into "prompt=Once upon a time".
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse(R"("prompt=Once upon a time" steps=10)", cl).is_error());
    EXPECT_EQ(str(cl.get_string("prompt", "").value()), "Once upon a time");
    EXPECT_EQ(cl.get_integer("steps", 0, 0, 100).value(), 10);
}

TEST(CommandLine, FlagsAndLastOneWins)
{
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse("verbose steps=1 steps=2", cl).is_error());
    EXPECT_TRUE(cl.has("verbose"));
    EXPECT_FALSE(cl.find("verbose")->has_value);
    EXPECT_EQ(cl.get_integer("steps", 0, 0, 10).value(), 2);
    auto needs_value = cl.get_string("verbose", "");
    ASSERT_TRUE(needs_value.is_error());
}

TEST(CommandLine, Malformed)
{
    rt::CommandLine cl;
    auto unterminated = rt::CommandLine::parse("prompt=\"never closed", cl);
    ASSERT_TRUE(unterminated.is_error());
    EXPECT_NE(str(unterminated.error().message()).find("unterminated"), std::string::npos);
    EXPECT_TRUE(rt::CommandLine::parse("=value", cl).is_error());
    EXPECT_TRUE(rt::CommandLine::parse("bad$key=1", cl).is_error());
    std::string many;
    for (int i = 0; i < 40; ++i)
        many += "k" + std::to_string(i) + "=1 ";
    EXPECT_TRUE(rt::CommandLine::parse(many.c_str(), cl).is_error());
    std::string long_value = "k=" + std::string(5000, 'x');
    EXPECT_TRUE(rt::CommandLine::parse(long_value.c_str(), cl).is_error());
}

TEST(CommandLine, BadValuesNameTheKey)
{
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse("steps=abc temp=9 mode=fly seed=-1", cl).is_error());
    auto steps = cl.get_integer("steps", 0, 1, 100);
    ASSERT_TRUE(steps.is_error());
    EXPECT_NE(str(steps.error().message()).find("steps=\"abc\""), std::string::npos);
    auto temp = cl.get_number("temp", 1, 0, 2);
    ASSERT_TRUE(temp.is_error());
    EXPECT_NE(str(temp.error().message()).find("temp"), std::string::npos);
    rt::StringView modes[] = { "generate", "bench" };
    auto mode = cl.get_choice("mode", modes, "generate");
    ASSERT_TRUE(mode.is_error());
    EXPECT_NE(str(mode.error().message()).find("generate, bench"), std::string::npos);
    EXPECT_TRUE(cl.get_integer("seed", 0, 0, 100).is_error());
}

TEST(CommandLine, UnknownKeys)
{
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse("steps=1 stepz=2", cl).is_error());
    rt::StringView known[] = { "steps" };
    auto check = cl.check_known(known);
    ASSERT_TRUE(check.is_error());
    EXPECT_NE(str(check.error().message()).find("stepz"), std::string::npos);
}

TEST(Numbers, StrictParsing)
{
    EXPECT_EQ(rt::parse_integer("-12").value(), -12);
    EXPECT_TRUE(rt::parse_integer("").is_error());
    EXPECT_TRUE(rt::parse_integer("12x").is_error());
    EXPECT_TRUE(rt::parse_integer("99999999999999999999").is_error());
    EXPECT_DOUBLE_EQ(rt::parse_number("0.9").value(), 0.9);
    EXPECT_DOUBLE_EQ(rt::parse_number("-1.25").value(), -1.25);
    EXPECT_DOUBLE_EQ(rt::parse_number("3.").value(), 3.0);
    EXPECT_DOUBLE_EQ(rt::parse_number(".5").value(), 0.5);
    EXPECT_TRUE(rt::parse_number(".").is_error());
    EXPECT_TRUE(rt::parse_number("1.2.3").is_error());
    EXPECT_TRUE(rt::parse_number("nan").is_error());
}

}

#include "../../app/options.h"
#include "models.h"
#include <cstdlib>

namespace {

std::string options_error(const char* text)
{
    rt::CommandLine cl;
    auto parsed = rt::CommandLine::parse(text, cl);
    if (parsed.is_error())
        return "parse: " + str(parsed.error().message());
    auto options = app::parse_options(cl);
    return options.is_error() ? str(options.error().message()) : "";
}

TEST(Options, RuntimeKeysAreCheckedLikeAnyOther)
{
    EXPECT_EQ(options_error("fault=divide end=poweroff cpus=2 x2apic=on screen_test=above-4g serial_color"), "");
    EXPECT_EQ(options_error("fault=garbage"), "command line: fault=\"garbage\" is not one of: divide, opcode, protection, ap-opcode, stack-overflow");
    EXPECT_EQ(options_error("x2apic=yes"), "command line: x2apic=\"yes\" is not one of: auto, on");
    EXPECT_EQ(options_error("screen_test=high"), "command line: screen_test=\"high\" is not one of: none, above-4g");
    EXPECT_EQ(options_error("end=explode"), "command line: end=\"explode\" is not one of: halt, poweroff");
    EXPECT_EQ(options_error("cpus=0"), "command line: cpus=\"0\" is not a whole number from 1 to 64");
}

// date=: the date chat templates write (strftime_now).
TEST(Options, DatesAreCalendarDates)
{
    EXPECT_EQ(options_error("date=2026-11-30 date=clock"), "");
    EXPECT_EQ(options_error("date=none"), "");
    EXPECT_EQ(options_error("date=2024-02-29"), "");
    for (const char* bad : { "2023-02-29", "2026-13-01", "2026-00-10", "2026-11-31", "26-11-30", "2026/11/30", "2026-11-3x", "today", "" })
        EXPECT_EQ(options_error(("date=" + std::string(bad)).c_str()), "date=" + std::string(bad) + " is not a date: give YYYY-MM-DD (e.g. date=2026-11-30), clock or none")
            << bad;
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse("date=1999-12-31", cl).is_error());
    auto options = app::parse_options(cl).release_value();
    EXPECT_EQ(options.date_source, app::Options::DateSource::Given);
    EXPECT_EQ(options.date.year, 1999);
    EXPECT_EQ(options.date.month, 12);
    EXPECT_EQ(options.date.day, 31);
}

// think=: the chat template's enable_thinking.
TEST(Options, ThinkIsOnOffOrTheTemplatesDefault)
{
    auto thinking = [](const char* text) {
        rt::CommandLine cl;
        EXPECT_FALSE(rt::CommandLine::parse(text, cl).is_error());
        return app::parse_options(cl).release_value().thinking;
    };
    EXPECT_EQ(thinking(""), app::Thinking::Undefined);
    EXPECT_EQ(thinking("think=auto"), app::Thinking::Undefined);
    EXPECT_EQ(thinking("think=on"), app::Thinking::On);
    EXPECT_EQ(thinking("think=off"), app::Thinking::Off);
    EXPECT_EQ(options_error("think=no"), "command line: think=\"no\" is not one of: auto, on, off");
}

// The calendar the date comes with, and the PC clock's registers read into it.
TEST(DateTime, WeekdaysLeapYearsAndTheCmosClock)
{
    EXPECT_EQ((rt::DateTime { 2026, 11, 30, 0, 0, 0 }).weekday(), 1); // a Monday
    EXPECT_EQ((rt::DateTime { 2024, 2, 29, 0, 0, 0 }).weekday(), 4);  // a Thursday
    EXPECT_EQ((rt::DateTime { 2000, 1, 1, 0, 0, 0 }).weekday(), 6);   // a Saturday
    EXPECT_EQ((rt::DateTime { 2024, 12, 31, 0, 0, 0 }).day_of_year(), 366);
    EXPECT_EQ((rt::DateTime { 2026, 3, 1, 0, 0, 0 }).day_of_year(), 60);
    EXPECT_FALSE((rt::DateTime { 1900, 2, 29, 0, 0, 0 }).valid());
    EXPECT_TRUE((rt::DateTime { 2000, 2, 29, 23, 59, 59 }).valid());
    EXPECT_FALSE((rt::DateTime { 2026, 4, 31, 0, 0, 0 }).valid());
    // BCD, 24-hour (status B 0x02): 2026-11-30 15:04:05.
    rt::DateTime bcd = rt::date_time_from_cmos({ 0x05, 0x04, 0x15, 0x30, 0x11, 0x26, 0x02 });
    EXPECT_EQ((std::vector<int> { bcd.year, bcd.month, bcd.day, bcd.hour, bcd.minute, bcd.second }), (std::vector<int> { 2026, 11, 30, 15, 4, 5 }));
    // Binary (0x04), 12-hour: 12 AM is hour 0, 12 PM is 12, 3 PM is 15.
    EXPECT_EQ(rt::date_time_from_cmos({ 0, 0, 12, 1, 1, 26, 0x04 }).hour, 0);
    EXPECT_EQ(rt::date_time_from_cmos({ 0, 0, 0x80 | 12, 1, 1, 26, 0x04 }).hour, 12);
    EXPECT_EQ(rt::date_time_from_cmos({ 0, 0, 0x80 | 0x03, 1, 1, 26, 0x00 }).hour, 15);
    EXPECT_FALSE(rt::date_time_from_cmos({ 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }).valid()); // no clock answering
}

TEST(Options, NumbersInRangeAreAcceptedHoweverWritten)
{
    rt::CommandLine cl;
    ASSERT_FALSE(rt::CommandLine::parse("temp=0.000000000000001 topp=0.90000000000000000000000001", cl).is_error());
    auto options = app::parse_options(cl);
    ASSERT_FALSE(options.is_error()) << str(options.error().message());
    EXPECT_EQ(options.value().temperature, 1e-15f);
    EXPECT_EQ(options.value().top_p, 0.9f);
}

TEST(Numbers, LongDecimalsAndExponents)
{
    testing_support::ScopedHeap heap(1 << 20); // std::string allocates from the runtime's heap
    // Every parse must equal the C library's (strtod rounds correctly).
    for (const char* text : { "0.000000000000001", "0.9", "1e-15", "1E3", "2.5e+2", "12345678901234567890123", "0.1234567890123456789",
             "1234567.891e-3", "00000.00000", "-0", "7e22", "1e-300", "123456789012345678", "9007199254740993" }) {
        auto parsed = rt::parse_number(text);
        ASSERT_FALSE(parsed.is_error()) << text << ": " << str(parsed.error().message());
        double expected = std::strtod(text, nullptr);
        EXPECT_NEAR(parsed.value(), expected, std::abs(expected) * 1e-15) << text;
    }
    // Exactness where it matters: short decimals and powers up to 10^22.
    EXPECT_EQ(rt::parse_number("0.000000000000001").value(), 1e-15);
    EXPECT_EQ(rt::parse_number("1e-15").value(), 1e-15);
    EXPECT_EQ(rt::parse_number("0.3").value(), 0.3);
    EXPECT_EQ(rt::parse_number("1.5e10").value(), 1.5e10);
    // Too large for a double, or not a number at all.
    EXPECT_EQ(str(rt::parse_number("1e400").error().message()), "\"1e400\" is too large");
    std::string huge = "1" + std::string(400, '0');
    EXPECT_TRUE(rt::parse_number({ huge.data(), huge.size() }).is_error()); // 10^400 as digits
    EXPECT_EQ(rt::parse_number("1e-400").value(), 0.0);
    EXPECT_EQ(rt::parse_number("1e99999999999999999999").is_error(), true); // exponent digits do not overflow
    for (const char* bad : { "e5", "1e", "1e+", "1.5x", "--1", "1 ", "inf", "0x10", "" })
        EXPECT_TRUE(rt::parse_number(bad).is_error()) << bad;
}

}
