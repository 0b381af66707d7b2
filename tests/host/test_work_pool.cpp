#include <atomic>
#include <cstring>
#include <gtest/gtest.h>
#include "../../app/llm/tensor.h"
#include "models.h"
#include <rt/work_pool.h>
#include <thread>
#include <vector>

namespace {

TEST(WorkPool, ChunksCoverTheRangeOnceInGranules)
{
    for (size_t count : { 0u, 1u, 7u, 64u, 1000u, 10007u })
        for (size_t workers : { 1u, 2u, 3u, 4u, 7u })
            for (size_t granule : { 1u, 8u, 32u }) {
                size_t next = 0;
                for (size_t w = 0; w < workers; ++w) {
                    size_t begin, end;
                    rt::WorkPool::chunk(count, granule, workers, w, begin, end);
                    ASSERT_EQ(begin, next) << count << "/" << workers << "/" << granule;
                    ASSERT_LE(begin, end);
                    if (end != count)
                        ASSERT_EQ((end - begin) % granule, 0u);
                    next = end;
                }
                ASSERT_EQ(next, count);
            }
}

class ThreadedPool : public ::testing::Test {
protected:
    void start(size_t workers)
    {
        rt::WorkPool::the().set_helper_count(workers - 1);
        rt::WorkPool::the().set_worker_count(workers);
        u32 generation = rt::WorkPool::the().prepare_helpers();
        for (size_t i = 1; i < workers; ++i)
            threads.emplace_back([i, generation] { rt::WorkPool::the().worker_loop(i, generation); });
    }
    void TearDown() override
    {
        rt::WorkPool::the().shut_down_workers();
        for (auto& t : threads)
            t.join();
        rt::WorkPool::the().set_helper_count(0);
        rt::WorkPool::the().set_worker_count(1);
    }
    std::vector<std::thread> threads;
};

TEST_F(ThreadedPool, EveryIndexOnceAndTheBarrierHolds)
{
    start(4);
    const size_t count = 10007;
    std::vector<std::atomic<int>> hits(count);
    for (int round = 0; round < 300; ++round) {
        rt::WorkPool::the().parallel_for(count, 8, [&](size_t begin, size_t end) {
            for (size_t i = begin; i < end; ++i)
                hits[i].fetch_add(1, std::memory_order_relaxed);
        });
        // run() returned: every chunk of this round must already be done.
        for (size_t i = 0; i < count; i += 997)
            ASSERT_EQ(hits[i].load(), round + 1) << "index " << i << " round " << round;
    }
    for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(hits[i].load(), 300) << i;
    size_t workers_used = 0;
    for (size_t w = 0; w < 4; ++w)
        workers_used += rt::WorkPool::the().stats(w).jobs > 0;
    EXPECT_EQ(workers_used, 4u);
}

TEST_F(ThreadedPool, FewerWorkersThanThreadsStillFinishes)
{
    start(4);
    rt::WorkPool::the().set_worker_count(2); // cpus=2 with four cores up
    std::atomic<int> total { 0 };
    for (int round = 0; round < 100; ++round)
        rt::WorkPool::the().parallel_for(100, 1, [&](size_t begin, size_t end) { total += int(end - begin); });
    EXPECT_EQ(total.load(), 100 * 100);
    rt::WorkPool::the().set_worker_count(4);
}

TEST_F(ThreadedPool, AJobUsesTheWorkersItAsksFor)
{
    start(4);
    rt::WorkPool::the().reset_stats();
    std::atomic<int> total { 0 };
    for (int round = 0; round < 50; ++round) // an operation the tuner keeps on two cores
        rt::WorkPool::the().parallel_for(1000, 8, [&](size_t begin, size_t end) { total += int(end - begin); }, 2);
    for (int round = 0; round < 50; ++round) // and one it keeps on the calling core
        rt::WorkPool::the().parallel_for(1000, 8, [&](size_t begin, size_t end) { total += int(end - begin); }, 1);
    EXPECT_EQ(total.load(), 100 * 1000);
    EXPECT_EQ(rt::WorkPool::the().stats(0).jobs, 100u);
    EXPECT_EQ(rt::WorkPool::the().stats(1).jobs, 50u);
    EXPECT_EQ(rt::WorkPool::the().stats(2).jobs, 0u);
    EXPECT_EQ(rt::WorkPool::the().stats(3).jobs, 0u);
}

TEST_F(ThreadedPool, JoinedProductsEqualSeparateOnes)
{
    // Q, K and V of different heights in one fork-join: the same bits as one matmul each
    // on one core, whatever chunk of the joined range a row falls in.
    testing_support::ScopedHeap heap(4 << 20);
    start(3);
    const i32 n = 48;
    std::vector<float> x(n), weights(size_t(n) * (64 + 32 + 32));
    u32 seed = 1;
    for (auto* values : { &x, &weights })
        for (float& value : *values)
            value = float(i32((seed = seed * 1664525u + 1013904223u) >> 9) % 2001 - 1000) / 997.0f;
    auto tensor = [&](i32 rows, size_t first_row) {
        return llm::Tensor { llm::TensorType::F32, rows, n, reinterpret_cast<const u8*>(weights.data() + first_row * n) };
    };
    llm::Tensor q = tensor(64, 0), k = tensor(32, 64), v = tensor(32, 96);
    llm::MatmulInput in { x.data(), nullptr, nullptr, nullptr };
    std::vector<float> joined(128), separate(128);
    llm::Product products[] = { { joined.data(), &q }, { joined.data() + 64, &k }, { joined.data() + 96, &v } };
    rt::WorkPool::the().reset_stats();
    llm::matmul(products, in);
    u64 helper_jobs = rt::WorkPool::the().stats(1).jobs + rt::WorkPool::the().stats(2).jobs;
    rt::WorkPool::the().set_worker_count(1);
    llm::matmul(separate.data(), in, q);
    llm::matmul(separate.data() + 64, in, k);
    llm::matmul(separate.data() + 96, in, v);
    rt::WorkPool::the().set_worker_count(3);
    EXPECT_EQ(0, std::memcmp(joined.data(), separate.data(), joined.size() * sizeof(float)));
    EXPECT_GT(helper_jobs, 0u); // the joined range was really split
}

}
