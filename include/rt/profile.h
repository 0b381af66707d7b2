#pragma once
// The cycle profiler: named probes that count calls and total/min/max cycles.
//   { ScopedCycles probe { "matmul" }; matmul(...); }
// The report is an aligned table for people and one JSON line for scripts.
#include <rt/cycles.h>
#include <rt/format.h>

namespace rt {

struct ProbeStats {
    const char* name { nullptr };
    u64 calls { 0 };
    u64 total { 0 };
    u64 min { 0 };
    u64 max { 0 };
};

class Profiler {
public:
    static constexpr size_t max_probes = 48;
    static Profiler& the();

    // Finds or creates the probe with this name; null when the table is full.
    ProbeStats* probe(const char* name);
    void record(ProbeStats*, u64 cycles);
    void reset();

    Span<const ProbeStats> probes() const { return { m_probes, m_count }; }
    // Table sorted by total cycles, with times from the cycle clock's frequency.
    void report(TextSink&) const;
    // One line: {"profile":[{"name":"matmul","calls":..,"total":..,"min":..,"max":..},...]}
    void report_json(TextSink&) const;

private:
    ProbeStats m_probes[max_probes];
    size_t m_count { 0 };
};

class ScopedCycles {
public:
    explicit ScopedCycles(const char* name) : m_probe(Profiler::the().probe(name)), m_start(read_cycles()) {}
    ~ScopedCycles() { Profiler::the().record(m_probe, read_cycles() - m_start); }
    ScopedCycles(ScopedCycles const&) = delete;
    ScopedCycles& operator=(ScopedCycles const&) = delete;

private:
    ProbeStats* m_probe;
    u64 m_start;
};

}
