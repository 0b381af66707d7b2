#include <rt/profile.h>

namespace rt {

Profiler& Profiler::the()
{
    static Profiler profiler;
    return profiler;
}

ProbeStats* Profiler::probe(const char* name)
{
    for (size_t i = 0; i < m_count; ++i) {
        // Names are usually the same literal, so the pointer test settles most lookups.
        if (m_probes[i].name == name || StringView(m_probes[i].name) == StringView(name))
            return &m_probes[i];
    }
    if (m_count == max_probes)
        return nullptr;
    m_probes[m_count] = ProbeStats { name, 0, 0, 0, 0 };
    return &m_probes[m_count++];
}

void Profiler::record(ProbeStats* probe, u64 cycles)
{
    if (!probe)
        return;
    if (probe->calls == 0 || cycles < probe->min)
        probe->min = cycles;
    if (cycles > probe->max)
        probe->max = cycles;
    probe->total += cycles;
    ++probe->calls;
}

void Profiler::reset()
{
    m_count = 0;
}

namespace {

// A duration in at most 9 characters, in the unit that keeps it readable: 512.20 us,
// 487.76 ms, 12.31 s.
FixedString<16> duration_text(double microseconds)
{
    if (microseconds < 1000.0)
        return FixedString<16>::formatted("{:.2f} us", microseconds);
    if (microseconds < 1e6)
        return FixedString<16>::formatted("{:.2f} ms", microseconds / 1e3);
    return FixedString<16>::formatted("{:.2f} s", microseconds / 1e6);
}

// A count in at most 9 characters: exact up to 999,999,999, then in millions.
FixedString<16> count_text(u64 count)
{
    if (count < 1'000'000'000)
        return FixedString<16>::formatted("{}", count);
    return FixedString<16>::formatted("{}M", count / 1'000'000);
}

}

// 73 columns, so the table fits an 80-column screen; cycle counts are in the JSON line.
void Profiler::report(TextSink& sink) const
{
    // Sort indices by total cycles, descending (insertion sort: a few dozen probes at most).
    size_t order[max_probes];
    for (size_t i = 0; i < m_count; ++i) {
        size_t j = i;
        while (j > 0 && m_probes[order[j - 1]].total < m_probes[i].total) {
            order[j] = order[j - 1];
            --j;
        }
        order[j] = i;
    }
    u64 grand_total = 0;
    for (size_t i = 0; i < m_count; ++i)
        grand_total += m_probes[i].total;

    format_to(sink, "[prof] {:<17}{:>9} {:>10} {:>10} {:>10} {:>6}\n", "probe", "calls", "total", "average", "longest", "share");
    for (size_t k = 0; k < m_count; ++k) {
        auto const& p = m_probes[order[k]];
        double share = grand_total ? 100.0 * double(p.total) / double(grand_total) : 0.0;
        double average_us = p.calls ? CycleClock::to_microseconds(p.total) / double(p.calls) : 0.0;
        format_to(sink, "[prof] {:<17.17}{:>9} {:>10} {:>10} {:>10} {:>5.1f}%\n", p.name, count_text(p.calls).view(),
            duration_text(CycleClock::to_microseconds(p.total)).view(), duration_text(average_us).view(),
            duration_text(CycleClock::to_microseconds(p.max)).view(), share);
    }
}

void Profiler::report_json(TextSink& sink) const
{
    format_to(sink, "{{\"profile\":{{\"tsc_hz\":{},\"probes\":[", CycleClock::frequency());
    for (size_t i = 0; i < m_count; ++i) {
        auto const& p = m_probes[i];
        format_to(sink, "{}{{\"name\":\"{}\",\"calls\":{},\"total\":{},\"min\":{},\"max\":{}}}", i ? "," : "", p.name,
            p.calls, p.total, p.min, p.max);
    }
    sink.write("]}}\n");
}

}
