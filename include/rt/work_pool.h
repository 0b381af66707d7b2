#pragma once
// A fork-join pool: the caller (the boot CPU, or the main thread when hosted) and N-1
// helpers (application processors, or threads) share a range of work cut into contiguous
// chunks, a few per worker. Each worker owns a share of the chunks and takes them one by
// one from a claim word of its own; a worker whose share is done takes what is left of
// the others': a core that starts late (woken from hlt, or a vCPU its host descheduled)
// costs only the chunks it did not take. Every index is computed by the same code whoever
// takes its chunk, so results do not depend on the worker count.
#include <rt/types.h>

namespace rt {

struct WorkerStats {
    u64 busy_cycles { 0 };
    u64 jobs { 0 };   // fork-joins in which this worker took at least one chunk
    u64 chunks { 0 }; // chunks it took
    u64 taken_over { 0 }; // of them, chunks of another worker's share (it was late or slow)
};

// The cache line size of every x86 CPU: what each worker writes, and each word several of
// them write, gets a line of its own (see m_job_word).
constexpr size_t cache_line = 64;

class WorkPool {
public:
    static constexpr size_t max_workers = 64;
    // Chunks per worker: enough that a late worker's share is taken by the others, few
    // enough that taking one (an atomic compare-and-swap) stays negligible.
    static constexpr size_t chunks_per_worker = 4;
    static_assert(max_workers * chunks_per_worker < 0x10000, "a chunk index fits the claim words' 16 bits");
    using Job = void (*)(void* context, size_t begin, size_t end);

    static WorkPool& the();

    // How many helpers run worker_loop (started cores or threads); every one of them
    // acknowledges every job, so none can fall a job behind.
    void set_helper_count(size_t count) { m_helper_count = count; }
    // How many workers share each job (the caller plus helpers 1..count-1); at most
    // helpers + 1.
    void set_worker_count(size_t count);
    size_t worker_count() const { return m_worker_count; }

    // Runs job on [0, count) cut into chunks whose sizes are multiples of `granule`
    // (except the last), shared by `workers` workers (the tuner's choice for this
    // operation), or worker_count when `workers` is 0 or more than that; work of one
    // granule or less runs on the caller alone. Returns when every chunk is done.
    void run(size_t count, size_t granule, Job, void* context, size_t workers = 0);

    template<typename Function>
    void parallel_for(size_t count, size_t granule, Function const& function, size_t workers = 0)
    {
        run(count, granule, [](void* context, size_t begin, size_t end) { (*static_cast<Function const*>(context))(begin, end); },
            const_cast<void*>(static_cast<const void*>(&function)), workers);
    }

    // How [0, count) is cut for `workers` workers: chunk_count(...) chunks, chunk `index`
    // being [begin, end) (exposed for tests).
    static size_t chunk_count(size_t count, size_t granule, size_t workers);
    static void chunk(size_t count, size_t granule, size_t chunks, size_t index, size_t& begin, size_t& end);

    // Worker `worker`'s share of `chunks` chunks among `workers`: [begin, end) (exposed for
    // tests).
    static void share(size_t chunks, size_t workers, size_t worker, size_t& begin, size_t& end);

    // Call before starting helpers; pass the result to each helper's worker_loop so none
    // can miss a job handed out while it was still starting.
    u32 prepare_helpers();
    // What a helper runs: wait for work, take chunks while any are left, repeat until
    // shut_down_workers(). A helper that falls behind skips to the newest job.
    void worker_loop(size_t index, u32 start_generation);
    void shut_down_workers();

    // Optional sleeping instead of spinning (the kernel: hlt, woken by an IPI). After a
    // short spin a waiting worker calls sleep(); whoever publishes what it waits for calls
    // wake(index) for workers marked asleep. Without hooks, waiting is pure spinning.
    struct SleepHooks {
        void (*sleep)();
        void (*wake)(size_t worker);
    };
    void set_sleep_hooks(SleepHooks hooks) { m_hooks = hooks; }

    WorkerStats const& stats(size_t index) const { return m_workers[index].stats; }
    void reset_stats();

private:
    // Takes and runs chunks of the job `job` (its job word) until none is left.
    void take_chunks(size_t worker, u64 job);
    // Takes and runs chunks of `owner`'s share of `job` until it is empty; returns how many.
    u32 drain_share(size_t worker, size_t owner, u64 job);
    // Counts `taken` chunks of a job of `chunks` done; wakes the caller when they were the
    // last. Returns whether they were.
    bool count_done(size_t worker, u32 taken, size_t chunks);
    void run_chunk(size_t worker, size_t chunks, size_t index);
    // Returns once done() holds: spins a while, then, with sleep hooks, marks `worker`
    // asleep and sleeps until woken (without hooks it keeps spinning).
    template<typename Condition>
    void wait(size_t worker, Condition const&);

    size_t m_worker_count { 1 };
    size_t m_helper_count { 0 };
    Job m_job { nullptr };
    void* m_context { nullptr };
    size_t m_count { 0 };
    size_t m_granule { 1 };
    bool m_shutting_down { false };
    SleepHooks m_hooks { nullptr, nullptr };
    // The words several workers write, each on a line of its own: a worker that writes
    // one takes its line from the others, and a write to one that shared a line with
    // another (or with the job fields the waiting helpers read) would take that one with
    // it. (A fork-join of a job of eight granules on two hosted threads: ~5,500 cycles
    // with them side by side, ~4,400 apart, counting done once per worker; ~2,900 with a
    // claim word per worker instead of one all of them took their chunks from.)
    //
    // The job in flight: generation << 32 | chunk count << 16 | worker count. Stored to
    // hand out a job, publishing the job fields above (sequentially consistent: the
    // caller then reads the asleep flags, which sleepers set before looking at this word
    // once more); helpers wait for its generation to change. (Aligned, as i686's 8-byte
    // atomics need.)
    alignas(cache_line) u64 m_job_word { 0 };
    alignas(cache_line) u32 m_chunks_done { 0 }; // of the job in flight
    struct Worker {
        // The next chunk of this worker's share, tagged with its job: generation << 32 |
        // share end << 16 | next chunk. Its owner and the workers that take what is left
        // of it take a chunk by a compare-and-swap on the whole word, so a worker still
        // holding an old job's word can never take (or run with the fields of) a newer
        // job's chunk. Whoever first finds it a job behind sets it to the new share.
        alignas(cache_line) u64 claim { 0 };
        // Read by whoever wakes this worker: a line apart from the claim word, which its
        // owner writes in every job.
        alignas(cache_line) bool asleep { false };
        WorkerStats stats;
    };
    Worker m_workers[max_workers];
};

}
