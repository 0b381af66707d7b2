#include "prefetch_check.h"
#include "token_timing.h"

namespace llm {

namespace {

// Each timed run lasts about this long; each mode runs `rounds` times, interleaved with
// the others, and its median counts.
constexpr double run_ms = 20.0;
constexpr int rounds = 5;
constexpr i32 most_positions = 32;

}

kernels::Prefetch fastest_prefetch(u64 const (&times)[kernels::prefetch_count], kernels::Prefetch planned)
{
    size_t fastest = 0;
    for (size_t mode = 1; mode < kernels::prefetch_count; ++mode)
        if (times[mode] < times[fastest])
            fastest = mode;
    u64 kept = times[size_t(planned)];
    return times[fastest] + times[fastest] / 16 < kept ? kernels::Prefetch(fastest) : planned;
}

bool plan_runs_emulated_rows(kernels::Plan const& plan)
{
    using kernels::Op;
    // The operations avx2tcg.cpp hands to emulated_rows.h.
    Op const emulated[] = { Op::GgufQ8_0, Op::GgufQ4_0x8, Op::GgufQ8_0x8, Op::GgufQ4Kx8, Op::GgufQ6Kx8, Op::MatmulQ8x8 };
    for (Op op : emulated)
        if (kernels::variant_isa(op, plan.choice[size_t(op)]) == kernels::Isa::Avx2Tcg)
            return true;
    return false;
}

kernels::Plan check_prefetch(Transformer& transformer, kernels::Plan const& plan, rt::TextSink& report, PrefetchCheckBounds bounds)
{
    using kernels::Prefetch;
    if (plan_runs_emulated_rows(plan)) {
        kernels::Plan without = plan;
        without.prefetch = Prefetch::none;
        kernels::activate(without);
        rt::format_to(report, "[tune] prefetch: none (the plan's row kernels are avx2tcg's, which win only under emulation, where a prefetch does nothing)\n");
        return without;
    }
    kernels::activate(plan);
    u64 one_token = time_tokens(transformer, 1); // also warms the caches
    double token_ms = milliseconds(one_token);
    if (token_ms < bounds.fastest_ms || token_ms > bounds.slowest_ms) {
        rt::format_to(report, "[tune] prefetch: {} as planned (a token takes {:.1f} ms: {})\n", kernels::prefetch_names[size_t(plan.prefetch)],
            token_ms, token_ms < bounds.fastest_ms ? "the weights stay in the caches" : "too long to check");
        return plan;
    }
    i32 positions = i32(run_ms / rt::max(token_ms, 0.001));
    positions = rt::max(1, rt::min(positions, rt::min(most_positions, transformer.config().seq_len)));
    kernels::Plan modes[kernels::prefetch_count];
    u64 samples[kernels::prefetch_count][rounds];
    for (size_t mode = 0; mode < kernels::prefetch_count; ++mode) {
        modes[mode] = plan;
        modes[mode].prefetch = Prefetch(mode);
    }
    for (int round = 0; round < rounds; ++round)
        for (size_t mode = 0; mode < kernels::prefetch_count; ++mode) {
            kernels::activate(modes[mode]);
            samples[mode][round] = time_tokens(transformer, positions);
        }
    u64 times[kernels::prefetch_count];
    for (size_t mode = 0; mode < kernels::prefetch_count; ++mode)
        times[mode] = median(samples[mode], rounds);
    Prefetch kept = fastest_prefetch(times, plan.prefetch);
    kernels::activate(modes[size_t(kept)]);
    rt::format_to(report, "[tune] prefetch, whole tokens, median of {} runs of {}:", rounds, positions);
    for (size_t mode = 0; mode < kernels::prefetch_count; ++mode)
        rt::format_to(report, "{} {} {:.2f} ms", mode ? "," : "", kernels::prefetch_names[mode], milliseconds(times[mode]) / positions);
    rt::format_to(report, " a token; runs {}\n", kernels::prefetch_names[size_t(kept)]);
    return modes[size_t(kept)];
}

}
