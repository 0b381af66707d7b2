#pragma once
// The inference application, independent of where it runs: the kernel hands it module
// memory, the hosted build hands it files read from disk.
#include <rt/cmdline.h>
#include <rt/cpu_features.h>
#include <rt/date_time.h>
#include <rt/span.h>

namespace app {

struct Inputs {
    // Writable: the loader may rearrange a model's weights in place (interleave.h).
    rt::Span<u8> model;
    rt::Bytes tokenizer;
    rt::CommandLine const& command_line;
    rt::CpuFeatures const& cpu;
    u64 fallback_seed; // used when no seed= is given (the kernel uses the TSC)
    rt::DateTime const* today; // for chat templates' strftime_now; null: no clock
};

rt::ErrorOr<void> run(Inputs const&);

}
