#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include "../../app/llm/tensor.h"
#include "models.h"
#include "scoped_workers.h"
#include <optional>
#include <rt/work_pool.h>
#include <thread>
#include <vector>

namespace {

TEST(WorkPool, ChunksCoverTheRangeOnceInGranules)
{
    for (size_t count : { 0u, 1u, 7u, 64u, 1000u, 10007u })
        for (size_t workers : { 1u, 2u, 3u, 4u, 7u })
            for (size_t granule : { 1u, 8u, 32u }) {
                size_t chunks = rt::WorkPool::chunk_count(count, granule, workers);
                ASSERT_LE(chunks, workers * rt::WorkPool::chunks_per_worker);
                size_t next = 0;
                for (size_t c = 0; c < chunks; ++c) {
                    size_t begin, end;
                    rt::WorkPool::chunk(count, granule, chunks, c, begin, end);
                    ASSERT_EQ(begin, next) << count << "/" << workers << "/" << granule;
                    ASSERT_LT(begin, end) << "empty chunk " << c << " of " << chunks;
                    if (end != count)
                        ASSERT_EQ((end - begin) % granule, 0u);
                    next = end;
                }
                ASSERT_EQ(next, count);
            }
}

TEST(WorkPool, ChunksAreSizedToTheWork)
{
    // Enough chunks that a late worker's share goes to the others, never below a granule.
    EXPECT_EQ(rt::WorkPool::chunk_count(768, 16, 2), 2 * rt::WorkPool::chunks_per_worker);
    EXPECT_EQ(rt::WorkPool::chunk_count(64, 16, 4), 4u);
    EXPECT_EQ(rt::WorkPool::chunk_count(8192, 16, 16), 16 * rt::WorkPool::chunks_per_worker);
}

TEST(WorkPool, SharesCoverTheChunksOnceInOrder)
{
    for (size_t chunks : { 1u, 2u, 7u, 8u, 64u, 255u })
        for (size_t workers : { 1u, 2u, 3u, 4u, 16u, 64u }) {
            size_t next = 0, smallest = chunks, largest = 0;
            for (size_t w = 0; w < workers; ++w) {
                size_t begin, end;
                rt::WorkPool::share(chunks, workers, w, begin, end);
                ASSERT_EQ(begin, next) << chunks << " chunks, worker " << w << " of " << workers;
                ASSERT_LE(begin, end);
                smallest = std::min(smallest, end - begin);
                largest = std::max(largest, end - begin);
                next = end;
            }
            ASSERT_EQ(next, chunks);
            ASSERT_LE(largest - smallest, 1u) << "balanced: " << chunks << " chunks, " << workers << " workers";
        }
}

// A job whose chunks each wait (up to ten seconds) until `expected` distinct threads are
// inside one: it can finish only if that many workers take part.
struct Rendezvous {
    explicit Rendezvous(int expected_threads) : expected(expected_threads) { }
    void arrive()
    {
        thread_local int joined_round = -1;
        if (joined_round != round) {
            joined_round = round;
            arrived.fetch_add(1);
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (arrived.load() < expected && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
    }
    void next_round()
    {
        static int rounds = 0; // unique across instances: `joined_round` is per thread
        round = ++rounds;
        arrived = 0;
    }
    int expected;
    int round { 0 };
    std::atomic<int> arrived { 0 };
};

class ThreadedPool : public ::testing::Test {
protected:
    void start(size_t workers) { pool.emplace(workers); }
    void TearDown() override { pool.reset(); }
    std::optional<testing_support::ScopedWorkers> pool;
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
}

TEST_F(ThreadedPool, BackToBackJobsOfDifferentSizesNeverMix)
{
    // Consecutive jobs cut into different chunk counts: a helper that is slow to look at
    // a finished job's claim word must not take a chunk of the next job with it. (When the
    // count was a field apart from the word, a stale word could pass against the next
    // job's count. The window is a few instructions wide, so this stress test catches such
    // a mix-up only sometimes: the claim word's layout is what rules it out.)
    start(4);
    std::vector<std::atomic<int>> hits(4096);
    for (int round = 0; round < 20000; ++round) {
        size_t count = round % 3 == 0 ? 4096 : round % 3 == 1 ? 48 : 700;
        rt::WorkPool::the().parallel_for(count, 16, [&](size_t begin, size_t end) {
            for (size_t i = begin; i < end; ++i)
                hits[i].fetch_add(1, std::memory_order_relaxed);
        });
        for (size_t i = 0; i < count; ++i)
            ASSERT_EQ(hits[i].exchange(0), 1) << "index " << i << " of " << count << ", round " << round;
    }
}

TEST_F(ThreadedPool, EveryWorkerTakesPart)
{
    start(4);
    rt::WorkPool::the().reset_stats();
    Rendezvous rendezvous(4);
    for (int round = 0; round < 5; ++round) {
        rendezvous.next_round();
        rt::WorkPool::the().parallel_for(4, 1, [&](size_t, size_t) { rendezvous.arrive(); });
        ASSERT_EQ(rendezvous.arrived.load(), 4) << "round " << round;
    }
    for (size_t w = 0; w < 4; ++w)
        EXPECT_EQ(rt::WorkPool::the().stats(w).jobs, 5u) << "worker " << w;
}

// Runs a job of `count` one-index chunks in which the first chunk taken by a thread that
// `gets_stuck` picks waits (up to ten seconds) until every other chunk is done, and every
// other chunk takes `others_take`. Returns how many indices were done.
template<typename Picks>
size_t run_with_one_stuck_chunk(size_t count, Picks const& gets_stuck, std::chrono::milliseconds others_take)
{
    std::atomic<size_t> done { 0 };
    std::atomic<bool> stuck { false };
    rt::WorkPool::the().reset_stats();
    rt::WorkPool::the().parallel_for(count, 1, [&](size_t begin, size_t end) {
        if (gets_stuck(std::this_thread::get_id()) && !stuck.exchange(true)) {
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (done.load() < count - (end - begin) && std::chrono::steady_clock::now() < deadline)
                std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(others_take);
        }
        done += end - begin;
    });
    EXPECT_TRUE(stuck.load()) << "no chunk was taken by the thread meant to be stuck";
    return done.load();
}

TEST_F(ThreadedPool, ABusyWorkersShareIsTakenByTheOthers)
{
    // Worker 0 (the caller) is stuck in its first chunk until every other chunk is done:
    // with fixed shares the job could not finish; the two helpers take the rest of its
    // share when theirs are done.
    start(3);
    const size_t count = 48;
    auto caller = std::this_thread::get_id();
    EXPECT_EQ(run_with_one_stuck_chunk(count, [&](std::thread::id id) { return id == caller; }, std::chrono::milliseconds(0)), count);
    auto const& pool = rt::WorkPool::the();
    EXPECT_EQ(pool.stats(0).chunks, 1u);
    EXPECT_EQ(pool.stats(1).chunks + pool.stats(2).chunks, rt::WorkPool::chunk_count(count, 1, 3) - 1);
    // The helpers took over (at least) the rest of the caller's share.
    size_t begin, end;
    rt::WorkPool::share(rt::WorkPool::chunk_count(count, 1, 3), 3, 0, begin, end);
    EXPECT_EQ(pool.stats(0).taken_over, 0u);
    EXPECT_GE(pool.stats(1).taken_over + pool.stats(2).taken_over, end - begin - 1);
}

TEST_F(ThreadedPool, ABusyHelpersShareIsTakenByTheOthers)
{
    // The first helper to take a chunk is stuck in it until every other chunk is done:
    // the caller and the other helper take the rest of its share. (Every other chunk takes
    // a millisecond, so that the helpers are up before the caller could do all of them.)
    start(3);
    const size_t count = 48;
    auto caller = std::this_thread::get_id();
    EXPECT_EQ(run_with_one_stuck_chunk(count, [&](std::thread::id id) { return id != caller; }, std::chrono::milliseconds(1)), count);
    auto const& pool = rt::WorkPool::the();
    EXPECT_EQ(pool.stats(0).chunks + pool.stats(1).chunks + pool.stats(2).chunks, rt::WorkPool::chunk_count(count, 1, 3));
    EXPECT_TRUE(pool.stats(1).chunks == 1 || pool.stats(2).chunks == 1) << pool.stats(1).chunks << " and " << pool.stats(2).chunks;
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
    Rendezvous pair(2);
    for (int round = 0; round < 10; ++round) { // an operation the tuner keeps on two cores
        pair.next_round();
        rt::WorkPool::the().parallel_for(1000, 8, [&](size_t begin, size_t end) {
            pair.arrive();
            total += int(end - begin);
        }, 2);
    }
    for (int round = 0; round < 10; ++round) // and one it keeps on the calling core
        rt::WorkPool::the().parallel_for(1000, 8, [&](size_t begin, size_t end) { total += int(end - begin); }, 1);
    EXPECT_EQ(total.load(), 20 * 1000);
    EXPECT_EQ(rt::WorkPool::the().stats(0).jobs, 20u);
    EXPECT_EQ(rt::WorkPool::the().stats(1).jobs, 10u);
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
    u64 chunks = 0;
    for (size_t w = 0; w < 3; ++w)
        chunks += rt::WorkPool::the().stats(w).chunks;
    rt::WorkPool::the().set_worker_count(1);
    llm::matmul(separate.data(), in, q);
    llm::matmul(separate.data() + 64, in, k);
    llm::matmul(separate.data() + 96, in, v);
    rt::WorkPool::the().set_worker_count(3);
    EXPECT_EQ(0, std::memcmp(joined.data(), separate.data(), joined.size() * sizeof(float)));
    EXPECT_GT(chunks, 1u); // the joined range was really split
}

}
