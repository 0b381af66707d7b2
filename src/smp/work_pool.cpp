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
        __atomic_store_n(&m_asleep[worker], true, __ATOMIC_SEQ_CST);
        if (!done())
            m_hooks.sleep();
        __atomic_store_n(&m_asleep[worker], false, __ATOMIC_SEQ_CST);
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

void WorkPool::chunk(size_t count, size_t granule, size_t workers, size_t index, size_t& begin, size_t& end)
{
    if (granule == 0)
        granule = 1;
    size_t granules = (count + granule - 1) / granule;
    size_t per_worker = (granules + workers - 1) / workers;
    begin = index * per_worker * granule;
    end = begin + per_worker * granule;
    if (begin > count)
        begin = count;
    if (end > count)
        end = count;
}

void WorkPool::run_chunk(size_t index)
{
    size_t begin, end;
    chunk(m_count, m_granule, m_job_workers, index, begin, end);
    if (begin == end)
        return;
    u64 start = read_cycles();
    m_job(m_context, begin, end);
    m_stats[index].busy_cycles += read_cycles() - start;
    ++m_stats[index].jobs;
}

void WorkPool::run(size_t count, size_t granule, Job job, void* context, size_t workers)
{
    m_job = job;
    m_context = context;
    m_count = count;
    m_granule = granule;
    m_job_workers = workers == 0 || workers > m_worker_count ? m_worker_count : workers;
    // Work that fits in one granule is not worth waking anyone for.
    if (m_job_workers == 1 || m_helper_count == 0 || count <= granule) {
        m_job_workers = 1;
        run_chunk(0);
        return;
    }
    __atomic_store_n(&m_pending, u32(m_helper_count), __ATOMIC_RELAXED);
    __atomic_add_fetch(&m_generation, 1, __ATOMIC_SEQ_CST); // publishes the job fields above
    if (m_hooks.wake)
        for (size_t i = 1; i <= m_helper_count; ++i)
            if (__atomic_load_n(&m_asleep[i], __ATOMIC_SEQ_CST))
                m_hooks.wake(i);
    run_chunk(0);
    wait(0, [this] { return __atomic_load_n(&m_pending, __ATOMIC_ACQUIRE) == 0; });
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
        // Helpers beyond the job's worker count (cpus=N below the cores started) sit this
        // one out, but still acknowledge it.
        if (index < m_job_workers)
            run_chunk(index);
        // The last helper to finish wakes the caller if it went to sleep waiting.
        if (__atomic_sub_fetch(&m_pending, 1, __ATOMIC_SEQ_CST) == 0 && m_hooks.wake && __atomic_load_n(&m_asleep[0], __ATOMIC_SEQ_CST))
            m_hooks.wake(0);
    }
}

void WorkPool::shut_down_workers()
{
    __atomic_store_n(&m_shutting_down, true, __ATOMIC_RELEASE);
}

void WorkPool::reset_stats()
{
    for (auto& s : m_stats)
        s = {};
}

}
