#pragma once
// `workers` workers (the caller and threads) for the work pool, for one scope: the hosted
// build's pool as cpus=N sets it up.
#include <rt/work_pool.h>
#include <thread>
#include <vector>

namespace testing_support {

class ScopedWorkers {
public:
    explicit ScopedWorkers(size_t workers)
    {
        rt::WorkPool::the().set_helper_count(workers - 1);
        rt::WorkPool::the().set_worker_count(workers);
        u32 generation = rt::WorkPool::the().prepare_helpers();
        for (size_t i = 1; i < workers; ++i)
            m_threads.emplace_back([i, generation] { rt::WorkPool::the().worker_loop(i, generation); });
    }
    ~ScopedWorkers()
    {
        rt::WorkPool::the().shut_down_workers();
        for (auto& t : m_threads)
            t.join();
        rt::WorkPool::the().set_helper_count(0);
        rt::WorkPool::the().set_worker_count(1);
    }
    ScopedWorkers(ScopedWorkers const&) = delete;
    ScopedWorkers& operator=(ScopedWorkers const&) = delete;

private:
    std::vector<std::thread> m_threads;
};

}
