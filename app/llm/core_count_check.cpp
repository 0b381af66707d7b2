#include "core_count_check.h"
#include "kernels/tuner.h"
#include "token_timing.h"
#include <rt/cycles.h>
#include <rt/format.h>
#include <rt/work_pool.h>

namespace llm {

namespace {

// Tokens slower than this are not checked: their operations run long enough for the
// tuner's figures to hold, and checking would take seconds.
constexpr double slowest_checked_ms = 100.0;
// Each timed run lasts about this long (several tokens of a small model); each candidate
// runs `rounds` times, interleaved with the others, and its median counts.
constexpr double run_ms = 20.0;
constexpr int rounds = 5;
constexpr i32 most_positions = 32;
// 1, 2, 4 ... cores, the plan as tuned and the widened one.
constexpr size_t max_candidates = 10;

// Whether an operation's work is split among cores (the others run on the calling one).
bool splits(kernels::Op op)
{
    using kernels::Op;
    return op != Op::Rmsnorm && op != Op::Softmax && op != Op::Swiglu && op != Op::Quantize;
}

}

kernels::Plan capped(kernels::Plan const& plan, size_t cap, size_t cores)
{
    kernels::Plan result = plan;
    for (size_t op = 0; op < kernels::op_count; ++op) {
        if (!splits(kernels::Op(op)))
            continue; // a count there would mean nothing
        size_t workers = plan.workers[op] ? plan.workers[op] : cores;
        result.workers[op] = u8(rt::min(rt::min(workers, cap), size_t(255)));
    }
    return result;
}

kernels::Plan widened(kernels::Plan const& plan, size_t cores)
{
    kernels::Plan result = plan;
    for (size_t op = 0; op < kernels::op_count; ++op)
        if (splits(kernels::Op(op)))
            result.workers[op] = u8(rt::min(cores, size_t(255)));
    return result;
}

size_t most_cores(kernels::Plan const& plan, Weights const& weights, size_t cores)
{
    size_t most = 1;
    for (size_t op = 0; op < kernels::op_count; ++op)
        if (splits(kernels::Op(op)) && kernels::runs(weights, kernels::Op(op)))
            most = rt::max(most, rt::min(plan.workers[op] ? size_t(plan.workers[op]) : cores, cores));
    return most;
}

size_t fastest_with_fewest_cores(u64 const* times, size_t count)
{
    size_t kept = 0;
    for (size_t i = 1; i < count; ++i)
        if (times[i] + times[i] / 16 < times[kept])
            kept = i;
    return kept;
}

kernels::Plan check_core_counts(Transformer& transformer, kernels::Plan const& tuned, Weights const& weights, rt::TextSink& report)
{
    size_t cores = rt::WorkPool::the().worker_count();
    if (cores < 2)
        return tuned;
    size_t most = most_cores(tuned, weights, cores);
    // The candidates: at most 1, 2, 4 ... cores (below the most the plan uses), the plan,
    // then every operation on all cores where the plan keeps one on fewer.
    kernels::Plan candidates[max_candidates];
    size_t caps[max_candidates];
    size_t count = 0;
    for (size_t cap = 1; cap < most && count + 2 < max_candidates; cap *= 2) {
        caps[count] = cap;
        candidates[count++] = capped(tuned, cap, cores);
    }
    caps[count] = most;
    candidates[count++] = tuned;
    kernels::Plan wide = widened(tuned, cores);
    bool widens = false;
    for (size_t op = 0; op < kernels::op_count; ++op)
        widens = widens || (splits(kernels::Op(op)) && kernels::runs(weights, kernels::Op(op)) && tuned.workers[op] && tuned.workers[op] < cores);
    size_t tuned_index = count - 1;
    if (widens) {
        caps[count] = cores;
        candidates[count++] = wide;
    }
    if (count < 2)
        return tuned;

    kernels::activate(tuned);
    u64 one_token = time_tokens(transformer, 1); // also warms the caches
    if (milliseconds(one_token) > slowest_checked_ms) {
        rt::format_to(report, "[tune] cores per operation as timed: a token takes {:.0f} ms, long enough for those times to hold\n",
            milliseconds(one_token));
        return tuned;
    }
    i32 positions = i32(run_ms / rt::max(milliseconds(one_token), 0.001));
    positions = rt::max(1, rt::min(positions, rt::min(most_positions, transformer.config().seq_len)));
    u64 samples[max_candidates][rounds];
    for (int round = 0; round < rounds; ++round)
        for (size_t c = 0; c < count; ++c) {
            kernels::activate(candidates[c]);
            samples[c][round] = time_tokens(transformer, positions);
        }
    u64 times[max_candidates];
    for (size_t c = 0; c < count; ++c)
        times[c] = median(samples[c], rounds);
    size_t kept = fastest_with_fewest_cores(times, count);
    kernels::activate(candidates[kept]);

    rt::format_to(report, "[tune] whole tokens, median of {} runs of {}:", rounds, positions);
    for (size_t c = 0; c < count; ++c) {
        char const* what = c < tuned_index ? "at most" : c == tuned_index ? "as tuned, up to" : "every operation on";
        rt::format_to(report, "{} {} {} core{} {:.2f} ms", c ? "," : "", what, caps[c], caps[c] == 1 ? "" : "s",
            milliseconds(times[c]) / positions);
    }
    if (kept < tuned_index)
        rt::format_to(report, " a token; runs at most {} core{} per operation\n", caps[kept], caps[kept] == 1 ? "" : "s");
    else if (kept == tuned_index)
        rt::format_to(report, " a token; runs as tuned\n");
    else
        rt::format_to(report, " a token; runs every operation on {} cores\n", cores);
    return candidates[kept];
}

}
