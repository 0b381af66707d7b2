#include <gtest/gtest.h>
#include <rt/profile.h>
#include <string>

namespace {

std::string render(void (rt::Profiler::*report)(rt::TextSink&) const, rt::Profiler const& p)
{
    static char buffer[8192];
    rt::BufferSink sink(buffer, sizeof buffer);
    (p.*report)(sink);
    return std::string(sink.view().data(), sink.view().length());
}

TEST(Profiler, Statistics)
{
    rt::Profiler p;
    auto* matmul = p.probe("matmul");
    p.record(matmul, 100);
    p.record(matmul, 50);
    p.record(matmul, 300);
    auto* softmax = p.probe("softmax");
    p.record(softmax, 7);
    ASSERT_EQ(p.probes().size(), 2u);
    EXPECT_EQ(p.probe("matmul"), matmul);
    EXPECT_EQ(matmul->calls, 3u);
    EXPECT_EQ(matmul->total, 450u);
    EXPECT_EQ(matmul->min, 50u);
    EXPECT_EQ(matmul->max, 300u);
    EXPECT_EQ(softmax->min, 7u);
}

TEST(Profiler, NamesAreComparedByContent)
{
    rt::Profiler p;
    char name[] = "attention";
    auto* a = p.probe("attention");
    EXPECT_EQ(p.probe(name), a);
}

TEST(Profiler, ReportIsSortedAndJsonIsOneLine)
{
    rt::CycleClock::set_frequency(1'000'000'000);
    rt::Profiler p;
    p.record(p.probe("small"), 10);
    p.record(p.probe("big"), 1'000'000);
    auto table = render(&rt::Profiler::report, p);
    EXPECT_LT(table.find("big"), table.find("small"));
    EXPECT_NE(table.find("1.00"), std::string::npos); // 1e6 cycles at 1 GHz = 1.00 ms
    auto json = render(&rt::Profiler::report_json, p);
    EXPECT_EQ(json, "{\"profile\":{\"tsc_hz\":1000000000,\"probes\":[{\"name\":\"small\",\"calls\":1,\"total\":10,\"min\":10,\"max\":10},"
                    "{\"name\":\"big\",\"calls\":1,\"total\":1000000,\"min\":1000000,\"max\":1000000}]}}\n");
}

TEST(Profiler, TableFitsEightyColumnsWithReadableUnits)
{
    rt::CycleClock::set_frequency(1'000'000'000);
    rt::Profiler p;
    auto* slow = p.probe("a probe with a name longer than the column");
    for (int i = 0; i < 3; ++i)
        p.record(slow, 40'000'000'000ull); // 40 s each: totals in seconds
    p.record(p.probe("fast"), 1234);        // 1.23 us
    p.record(p.probe("middle"), 2'500'000); // 2.50 ms
    auto table = render(&rt::Profiler::report, p);
    size_t start = 0, lines = 0;
    while (start < table.size()) {
        size_t end = table.find('\n', start);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end - start, 80u) << table.substr(start, end - start);
        start = end + 1;
        ++lines;
    }
    EXPECT_EQ(lines, 4u);
    EXPECT_NE(table.find("120.00 s"), std::string::npos) << table;
    EXPECT_NE(table.find("40.00 s"), std::string::npos) << table;
    EXPECT_NE(table.find("1.23 us"), std::string::npos) << table;
    EXPECT_NE(table.find("2.50 ms"), std::string::npos) << table;
}

TEST(Profiler, HugeCallCountsStayInTheirColumn)
{
    rt::CycleClock::set_frequency(1'000'000'000);
    rt::Profiler p;
    auto* probe = p.probe("many");
    probe->calls = 12'345'678'901ull;
    probe->total = 1;
    auto table = render(&rt::Profiler::report, p);
    EXPECT_NE(table.find(" 12345M "), std::string::npos) << table;
}

TEST(Profiler, ScopedCyclesRecordsOneCall)
{
    rt::Profiler::the().reset();
    {
        rt::ScopedCycles probe { "scope" };
    }
    auto* stats = rt::Profiler::the().probe("scope");
    EXPECT_EQ(stats->calls, 1u);
    EXPECT_GT(stats->total, 0u);
}

TEST(Profiler, FullTableDropsNewProbesSafely)
{
    rt::Profiler p;
    static char names[rt::Profiler::max_probes + 1][8];
    for (size_t i = 0; i <= rt::Profiler::max_probes; ++i) {
        names[i][0] = 'p';
        names[i][1] = char('0' + i / 10);
        names[i][2] = char('0' + i % 10);
    }
    for (size_t i = 0; i < rt::Profiler::max_probes; ++i)
        ASSERT_NE(p.probe(names[i]), nullptr);
    EXPECT_EQ(p.probe(names[rt::Profiler::max_probes]), nullptr);
    p.record(nullptr, 5); // must not crash
}

}
