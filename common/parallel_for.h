// ParallelFor: the one way recdb runs independent loop iterations on several
// threads (model fits, evaluation, blend learning).
//
// Work is handed out dynamically: each worker claims the next `chunk`
// indices from a shared counter until none is left, so uneven iterations
// (popular items, long histories) balance themselves. The calling thread is
// one of the workers; `threads - 1` more are started and joined before the
// call returns. Which thread runs an index is unspecified, so `fn` must make
// each index's result independent of the others (write only to slot k of a
// pre-sized output); then the result is the same for any thread count.
//
// Thread-safety: fn is called concurrently from up to `threads` threads.
// Exceptions must not escape fn (recdb code reports errors through Status).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

namespace recdb {

// Calls make_scratch() once in each worker, then fn(scratch, k) for every k
// in [0, n), claiming `chunk` consecutive indices at a time. The scratch
// (e.g. a per-item counter array) is private to its worker. Starts at most
// ceil(n / chunk) workers and at least one when n > 0; threads < 1 means 1.
template <typename MakeScratch, typename Fn>
void ParallelForWithScratch(size_t n, int threads, size_t chunk, MakeScratch&& make_scratch,
                            Fn&& fn) {
  if (n == 0) return;
  chunk = std::max<size_t>(1, chunk);
  const size_t chunks = (n + chunk - 1) / chunk;
  const size_t workers = std::min<size_t>(static_cast<size_t>(std::max(1, threads)), chunks);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    auto scratch = make_scratch();
    for (size_t begin; (begin = next.fetch_add(chunk)) < n;) {
      const size_t end = std::min(n, begin + chunk);
      for (size_t k = begin; k < end; ++k) fn(scratch, k);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

// Calls fn(k) for every k in [0, n) on up to `threads` threads (one index
// claimed at a time).
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn) {
  struct NoScratch {};
  ParallelForWithScratch(
      n, threads, 1, [] { return NoScratch{}; }, [&fn](NoScratch&, size_t k) { fn(k); });
}

}  // namespace recdb
