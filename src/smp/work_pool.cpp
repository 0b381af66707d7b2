#include <rt/cycles.h>
#include <rt/work_pool.h>

namespace rt {

namespace {
inline void spin_pause() { __builtin_ia32_pause(); }
// Spins before sleeping: handing out jobs takes microseconds, waking a core takes longer.
constexpr int spins_before_sleep = 4000;
}

template<typename Condition>
void WorkPool::wait(size_t worker, Condition const& done)
{
    for (int spin = 0; spin < spins_before_sleep; ++spin) {
        if (done())
            return;
        spin_pause();
    }
    while (!done()) {
        if (!m_hooks.sleep) {
            spin_pause();
            continue;
        }
        // Announce the sleep, then look once more: a waker that published just before
        // the announcement is seen here; one that publishes after it sees the flag.
        __atomic_store_n(&m_workers[worker].asleep, true, __ATOMIC_SEQ_CST);
        if (!done())
            m_hooks.sleep();
        __atomic_store_n(&m_workers[worker].asleep, false, __ATOMIC_SEQ_CST);
    }
}

WorkPool& WorkPool::the()
{
    static WorkPool pool;
    return pool;
}

void WorkPool::set_worker_count(size_t count)
{
    size_t limit = m_helper_count + 1 < max_workers ? m_helper_count + 1 : max_workers;
    m_worker_count = count < 1 ? 1 : count > limit ? limit : count;
}

size_t WorkPool::chunk_count(size_t count, size_t granule, size_t workers)
{
    if (granule == 0)
        granule = 1;
    size_t granules = (count + granule - 1) / granule;
    size_t wanted = (workers < 1 ? 1 : workers) * chunks_per_worker;
    if (wanted > granules)
        wanted = granules;
    if (wanted == 0)
        return 0;
    size_t per_chunk = (granules + wanted - 1) / wanted;
    return (granules + per_chunk - 1) / per_chunk;
}

void WorkPool::chunk(size_t count, size_t granule, size_t chunks, size_t index, size_t& begin, size_t& end)
{
    if (granule == 0)
        granule = 1;
    size_t granules = (count + granule - 1) / granule;
    size_t per_chunk = chunks ? (granules + chunks - 1) / chunks : 0;
    begin = index * per_chunk * granule;
    end = begin + per_chunk * granule;
    if (begin > count)
        begin = count;
    if (end > count)
        end = count;
}

void WorkPool::share(size_t chunks, size_t workers, size_t worker, size_t& begin, size_t& end)
{
    begin = chunks * worker / workers;
    end = chunks * (worker + 1) / workers;
}

namespace {
// The job word: generation << 32 | chunk count << 16 | worker count. The counts travel
// with the generation so that whoever holds the word knows its job's: a field could
// already hold the next job's while a slow helper still looks at an old word.
constexpr u64 job_word(u32 generation, size_t chunks, size_t workers) { return u64(generation) << 32 | u64(chunks) << 16 | u64(workers); }
constexpr u32 job_generation(u64 word) { return u32(word >> 32); }
constexpr size_t job_chunks(u64 word) { return size_t((word >> 16) & 0xFFFF); }
constexpr size_t job_workers(u64 word) { return size_t(word & 0xFFFF); }

// A claim word: generation << 32 | share end << 16 | next chunk.
constexpr u64 claim_word(u32 generation, size_t end, size_t next) { return u64(generation) << 32 | u64(end) << 16 | u64(next); }
constexpr u32 claim_generation(u64 word) { return u32(word >> 32); }
constexpr size_t claim_end(u64 word) { return size_t((word >> 16) & 0xFFFF); }
constexpr size_t claim_next(u64 word) { return size_t(word & 0xFFFF); }
// Whether generation `a` was handed out before `b` (generations wrap).
constexpr bool older(u32 a, u32 b) { return i32(a - b) < 0; }
}

void WorkPool::run_chunk(size_t worker, size_t chunks, size_t index)
{
    size_t begin, end;
    chunk(m_count, m_granule, chunks, index, begin, end);
    if (begin == end)
        return;
    u64 start = read_cycles();
    m_job(m_context, begin, end);
    m_workers[worker].stats.busy_cycles += read_cycles() - start;
    ++m_workers[worker].stats.chunks;
}

u32 WorkPool::drain_share(size_t worker, size_t owner, u64 job)
{
    u32 generation = job_generation(job);
    size_t chunks = job_chunks(job);
    // (Reached through its Worker, whose alignment the compiler knows: i686's 8-byte
    // atomics are inline only on words it knows are 8-byte aligned.)
    Worker& shared = m_workers[owner];
    u64 word = __atomic_load_n(&shared.claim, __ATOMIC_ACQUIRE);
    // Still a job behind: the share's first taker sets it up. (A job cannot end before
    // every share with chunks in it has been set up and emptied, so a worker holding an
    // old job can only ever set up an empty share, or fail.)
    while (older(claim_generation(word), generation)) {
        size_t begin, end;
        share(chunks, job_workers(job), owner, begin, end);
        u64 fresh = claim_word(generation, end, begin);
        if (__atomic_compare_exchange_n(&shared.claim, &word, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            word = fresh;
    }
    u32 taken = 0;
    // Once a worker has taken a chunk, the job cannot end before it has counted it done,
    // so the job fields (published before the job word) stay this job's until then.
    while (claim_generation(word) == generation && claim_next(word) < claim_end(word)) {
        if (!__atomic_compare_exchange_n(&shared.claim, &word, word + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue; // another worker took it; `word` now holds the newer value
        run_chunk(worker, chunks, claim_next(word));
        ++taken;
        word = __atomic_load_n(&shared.claim, __ATOMIC_ACQUIRE);
    }
    return taken;
}

bool WorkPool::count_done(size_t worker, u32 taken, size_t chunks)
{
    // Counted a share at a time, not chunk by chunk: every addition takes the counter's
    // line from the caller, who waits on it.
    if (__atomic_add_fetch(&m_chunks_done, taken, __ATOMIC_SEQ_CST) != chunks)
        return false;
    // The last ones: wake the caller if it went to sleep waiting.
    if (worker != 0 && m_hooks.wake && __atomic_load_n(&m_workers[0].asleep, __ATOMIC_SEQ_CST))
        m_hooks.wake(0);
    return true;
}

void WorkPool::take_chunks(size_t worker, u64 job)
{
    size_t chunks = job_chunks(job), workers = job_workers(job);
    u32 own = drain_share(worker, worker, job);
    // Counted before looking at the others' shares: in a balanced job the last worker to
    // finish its own ends the job here, without reading the other claim words first.
    bool ended = own && count_done(worker, own, chunks);
    u32 others = 0;
    for (size_t step = 1; !ended && step < workers; ++step)
        others += drain_share(worker, (worker + step) % workers, job);
    if (others)
        count_done(worker, others, chunks);
    WorkerStats& stats = m_workers[worker].stats;
    stats.taken_over += others;
    if (own || others)
        ++stats.jobs;
}

void WorkPool::run(size_t count, size_t granule, Job job, void* context, size_t workers)
{
    m_job = job;
    m_context = context;
    m_count = count;
    m_granule = granule;
    size_t job_workers = workers == 0 || workers > m_worker_count ? m_worker_count : workers;
    // Work that fits in one granule is not worth waking anyone for.
    if (job_workers == 1 || m_helper_count == 0 || count <= granule) {
        run_chunk(0, 1, 0);
        ++m_workers[0].stats.jobs;
        return;
    }
    size_t chunks = chunk_count(count, granule, job_workers);
    __atomic_store_n(&m_chunks_done, 0u, __ATOMIC_RELAXED);
    u64 word = job_word(job_generation(m_job_word) + 1, chunks, job_workers);
    __atomic_store_n(&m_job_word, word, __ATOMIC_SEQ_CST); // publishes the job fields above
    if (m_hooks.wake)
        for (size_t i = 1; i < job_workers && i <= m_helper_count; ++i)
            if (__atomic_load_n(&m_workers[i].asleep, __ATOMIC_SEQ_CST))
                m_hooks.wake(i);
    take_chunks(0, word);
    wait(0, [&] { return __atomic_load_n(&m_chunks_done, __ATOMIC_ACQUIRE) == u32(chunks); });
}

u32 WorkPool::prepare_helpers()
{
    __atomic_store_n(&m_shutting_down, false, __ATOMIC_RELEASE);
    return job_generation(__atomic_load_n(&m_job_word, __ATOMIC_ACQUIRE));
}

void WorkPool::worker_loop(size_t index, u32 start_generation)
{
    u32 seen = start_generation;
    while (true) {
        wait(index, [&] {
            return job_generation(__atomic_load_n(&m_job_word, __ATOMIC_ACQUIRE)) != seen
                || __atomic_load_n(&m_shutting_down, __ATOMIC_ACQUIRE);
        });
        u64 job = __atomic_load_n(&m_job_word, __ATOMIC_ACQUIRE);
        if (job_generation(job) == seen) // woken for shutdown
            return;
        seen = job_generation(job);
        // Helpers beyond the job's worker count (the tuner keeps it on fewer cores, or
        // cpus=N below the cores started) sit this one out.
        if (index < job_workers(job))
            take_chunks(index, job);
    }
}

void WorkPool::shut_down_workers()
{
    __atomic_store_n(&m_shutting_down, true, __ATOMIC_RELEASE);
}

void WorkPool::reset_stats()
{
    for (auto& w : m_workers)
        w.stats = {};
}

}
