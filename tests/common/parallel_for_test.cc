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
  std::atomic<int> scratches{0};
  std::mutex mu;
  std::set<std::thread::id> ids;
  ParallelForWithScratch(
      n, 3, 32,
      [&] {
        scratches.fetch_add(1);
        return std::vector<int>(4, 0);
      },
      [&](std::vector<int>& scratch, size_t k) {
        ++scratch[k % 4];
        hits[k].fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        ids.insert(std::this_thread::get_id());
      });
  for (size_t k = 0; k < n; ++k) EXPECT_EQ(hits[k].load(), 1) << k;
  EXPECT_EQ(scratches.load(), 3);  // one per worker, the caller included
  EXPECT_LE(ids.size(), 3u);
  EXPECT_TRUE(ids.count(std::this_thread::get_id()));  // the caller works too
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
