#include "common/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace recdb {

TEST(ParallelForTest, VisitsEveryIndexExactlyOnce) {
  for (int threads : {0, 1, 2, 7}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{1000}}) {
      std::vector<std::atomic<int>> hits(n);
      ParallelFor(n, threads, [&](size_t k) { hits[k].fetch_add(1); });
      for (size_t k = 0; k < n; ++k) EXPECT_EQ(hits[k].load(), 1) << "n=" << n << " k=" << k;
    }
  }
}

TEST(ParallelForTest, ChunkedWithScratchVisitsEveryIndexOnceWithOneScratchPerWorker) {
  const size_t n = 1001;
  std::vector<std::atomic<int>> hits(n);
  std::mutex mu;
  std::multiset<std::thread::id> scratch_threads;  // who called make_scratch
  std::set<std::thread::id> work_threads;          // who ran an index
  ParallelForWithScratch(
      n, 3, 32,
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        scratch_threads.insert(std::this_thread::get_id());
        return std::vector<int>(4, 0);
      },
      [&](std::vector<int>& scratch, size_t k) {
        ++scratch[k % 4];
        hits[k].fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        work_threads.insert(std::this_thread::get_id());
      });
  for (size_t k = 0; k < n; ++k) EXPECT_EQ(hits[k].load(), 1) << k;
  // One scratch per worker, each worker a distinct thread, the caller one of
  // them (which worker claims which chunk depends on scheduling).
  EXPECT_EQ(scratch_threads.size(), 3u);
  EXPECT_EQ(std::set<std::thread::id>(scratch_threads.begin(), scratch_threads.end()).size(), 3u);
  EXPECT_EQ(scratch_threads.count(std::this_thread::get_id()), 1u);
  for (const auto& id : work_threads) EXPECT_EQ(scratch_threads.count(id), 1u);
}

TEST(ParallelForTest, StartsNoMoreWorkersThanChunks) {
  std::atomic<int> scratches{0};
  ParallelForWithScratch(
      2, 8, 1, [&] { return scratches.fetch_add(1); }, [](int, size_t) {});
  EXPECT_EQ(scratches.load(), 2);
  scratches = 0;
  ParallelForWithScratch(
      0, 8, 1, [&] { return scratches.fetch_add(1); }, [](int, size_t) {});
  EXPECT_EQ(scratches.load(), 0);
}

TEST(ParallelForTest, ResultIndependentOfThreadCount) {
  const size_t n = 5000;
  auto run = [&](int threads) {
    std::vector<double> out(n);
    ParallelFor(n, threads, [&](size_t k) {
      double s = 0;
      for (size_t j = 0; j <= k % 97; ++j) s += 1.0 / static_cast<double>(j + k + 1);
      out[k] = s;
    });
    return out;
  };
  EXPECT_EQ(run(1), run(4));
}

}  // namespace recdb
