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

namespace {
// The claim word: generation << 32 | chunk count << 16 | next chunk. The count travels in
// the word so that whoever holds a word knows its job's count: a field could already hold
// the next job's while a slow helper still looks at an old word.
constexpr u64 claim_word(u32 generation, size_t chunks, size_t next) { return u64(generation) << 32 | u64(chunks) << 16 | u64(next); }
constexpr u32 claim_generation(u64 word) { return u32(word >> 32); }
constexpr size_t claim_chunks(u64 word) { return size_t((word >> 16) & 0xFFFF); }
constexpr size_t claim_next(u64 word) { return size_t(word & 0xFFFF); }
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

void WorkPool::take_chunks(size_t worker, u32 generation)
{
    u64 word = __atomic_load_n(&m_next_chunk, __ATOMIC_ACQUIRE);
    u32 taken = 0;
    size_t chunks = 0;
    while (true) {
        // A word of this job with a chunk left. Once a worker has taken one, the job
        // cannot end before it has counted it done (below), so the job fields (published
        // before the word) stay this job's until then.
        if (claim_generation(word) != generation || claim_next(word) >= claim_chunks(word))
            break;
        if (!__atomic_compare_exchange_n(&m_next_chunk, &word, word + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue; // someone else took it; `word` now holds the newer value
        chunks = claim_chunks(word);
        run_chunk(worker, chunks, claim_next(word));
        ++taken;
        word = __atomic_load_n(&m_next_chunk, __ATOMIC_ACQUIRE);
    }
    if (!taken)
        return;
    ++m_workers[worker].stats.jobs;
    // The chunks it ran counted at once, not one by one: every addition takes the
    // counter's line from the caller, who waits on it.
    if (__atomic_add_fetch(&m_chunks_done, taken, __ATOMIC_SEQ_CST) == chunks) {
        // The last ones: wake the caller if it went to sleep waiting.
        if (worker != 0 && m_hooks.wake && __atomic_load_n(&m_workers[0].asleep, __ATOMIC_SEQ_CST))
            m_hooks.wake(0);
    }
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
    __atomic_store_n(&m_job_workers, job_workers, __ATOMIC_RELAXED);
    __atomic_store_n(&m_chunks_done, 0u, __ATOMIC_RELAXED);
    u32 generation = m_generation + 1;
    __atomic_store_n(&m_next_chunk, claim_word(generation, chunks, 0), __ATOMIC_RELEASE); // publishes the job fields above
    __atomic_store_n(&m_generation, generation, __ATOMIC_SEQ_CST);
    if (m_hooks.wake)
        for (size_t i = 1; i < job_workers && i <= m_helper_count; ++i)
            if (__atomic_load_n(&m_workers[i].asleep, __ATOMIC_SEQ_CST))
                m_hooks.wake(i);
    take_chunks(0, generation);
    wait(0, [&] { return __atomic_load_n(&m_chunks_done, __ATOMIC_ACQUIRE) == u32(chunks); });
}

u32 WorkPool::prepare_helpers()
{
    __atomic_store_n(&m_shutting_down, false, __ATOMIC_RELEASE);
    return __atomic_load_n(&m_generation, __ATOMIC_ACQUIRE);
}

void WorkPool::worker_loop(size_t index, u32 start_generation)
{
    u32 seen = start_generation;
    while (true) {
        wait(index, [&] {
            return __atomic_load_n(&m_generation, __ATOMIC_ACQUIRE) != seen || __atomic_load_n(&m_shutting_down, __ATOMIC_ACQUIRE);
        });
        u32 now = __atomic_load_n(&m_generation, __ATOMIC_ACQUIRE);
        if (now == seen) // woken for shutdown
            return;
        seen = now;
        // Helpers beyond the job's worker count (the tuner keeps it on fewer cores, or
        // cpus=N below the cores started) sit this one out.
        if (index < __atomic_load_n(&m_job_workers, __ATOMIC_RELAXED))
            take_chunks(index, now);
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
