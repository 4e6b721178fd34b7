// BruteForceIndex: exact k-NN by scanning every live vector.
//
// The reference every approximate index is tested against, and the right
// index for small spaces (a few thousand vectors scan faster than HNSW
// searches pay for their graph). Storage is one dense array indexed by id
// (ids are dense, docs/DESIGN.md decision 2), so memory is (max id + 1) * dim * 4.
//
// Thread-safety: a std::shared_mutex; Search/Get/Contains/Size take it shared,
// Add/Upsert/Remove exclusive.
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <span>
#include <vector>

#include "index/vector_index.h"

namespace recdb::index {

class BruteForceIndex final : public VectorIndex {
 public:
  // REQUIRES: dimension > 0.
  BruteForceIndex(uint32_t dimension, Metric metric);

  Metric metric() const override { return metric_; }
  uint32_t dimension() const override { return dimension_; }

  Status Add(uint32_t id, std::span<const float> vector) override;
  Status Upsert(uint32_t id, std::span<const float> vector) override;
  Status Remove(uint32_t id) override;
  bool Contains(uint32_t id) const override;
  StatusOr<std::vector<float>> Get(uint32_t id) const override;
  size_t Size() const override;

  // Exact: the true top min(k, matches), ties by ascending id.
  StatusOr<std::vector<Neighbor>> Search(std::span<const float> query, size_t k,
                                         const SearchFilter* filter = nullptr) const override;

  uint64_t covered_sequence() const override { return covered_sequence_.load(); }
  void set_covered_sequence(uint64_t sequence) override { covered_sequence_.store(sequence); }

 private:
  Status Insert(uint32_t id, std::span<const float> vector, bool replace);

  const uint32_t dimension_;
  const Metric metric_;
  mutable std::shared_mutex mu_;
  std::vector<float> vectors_;  // GUARDED_BY(mu_): id * dimension_ .. +dimension_
  std::vector<uint8_t> live_;   // GUARDED_BY(mu_): 1 if id holds a vector
  size_t size_ = 0;             // GUARDED_BY(mu_)
  std::atomic<uint64_t> covered_sequence_{0};
};

// Keeps the best k neighbours seen so far (a bounded heap); the shared core
// of every exact scan. Not thread-safe.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k + 1); }
  void Push(uint32_t id, float score);
  // Best first; empties the collector.
  std::vector<Neighbor> Take();

 private:
  size_t k_;
  std::vector<Neighbor> heap_;  // worst at front under BetterNeighbor
};

}  // namespace recdb::index
