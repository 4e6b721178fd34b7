// Item-based nearest-neighbour recommenders over cosine similarity of the
// binary user-item matrix: cos(i, j) = |U_i ∩ U_j| / ((sqrt|U_i|+1e-9)(sqrt|U_j|+1e-9)),
// the definition of refbaselines.py.
//
//  - ItemKnn: each item keeps its `neighbours` most similar items; a user's
//    score for j is the sum of sim(i, j) over history items i that keep j.
//  - RecentKnn: sequence-aware; only the last `last_items` history events
//    count, the newest with weight 1, the one before with `decay`, then
//    decay^2, ... (repeats count again). Default keeps all neighbours, as the
//    reference does; the fused blend keeps each item's
//    ComponentConfig::recent_knn_neighbours best (fused.h), which bounds a
//    request's work on any catalog.
//
// The RecentKnn components of one blend share one table (NeighbourCache):
// it is built once per dataset, stored once in the model file
// (ModelWriter::PutShared) and, loaded from a mapped model file, not copied.
//
// Memory: O(sum of kept neighbours); fitting costs O(sum over users of
// |items(u)|^2) with one dense accumulator per thread.
// Thread-safety: see Recommender.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "engine/models/model_io.h"
#include "engine/models/recommender.h"

namespace recdb::models {

// One item's neighbours while a table is fitted: (item id, similarity).
using NeighbourRow = std::vector<std::pair<uint32_t, float>>;

// Sorts `row` by descending similarity (ties by ascending id) and keeps its
// first `keep` entries (0 keeps all): the order ItemNeighbours promises.
void KeepMostSimilar(size_t keep, NeighbourRow* row);

// Sparse rows of item-item similarity, neighbours of each item sorted by
// descending similarity (ties by ascending id).
struct ItemNeighbours {
  StoredArray<uint64_t> ptr;  // num_items + 1
  StoredArray<uint32_t> item;
  StoredArray<float> sim;
  uint32_t num_items() const { return ptr.empty() ? 0 : static_cast<uint32_t>(ptr.size() - 1); }

  // The CSR table of `rows` (row i = item i's neighbours, already in order,
  // see KeepMostSimilar). Each row is freed once copied, so the peak is the
  // table plus the largest row rather than twice the table.
  static ItemNeighbours FromRows(std::vector<NeighbourRow> rows);
};

// The walks the neighbour-list models score with, so that Score (adding into
// a dense array) and SparseScore (listing the entries) share one. Each calls
// fn(neighbour, weight * similarity) per neighbour-list entry; ids past the
// table are skipped.
//   ForEachRecentNeighbour: the neighbours of the last `last_items` history
//     items, newest first, weighted 1, decay, decay^2, ... (RecentKnn,
//     Cooccurrence); with `keep` > 0 only the first `keep` entries of each
//     list (rows are in KeepMostSimilar's order, so that is exactly the list
//     a fit with `keep` would have kept).
//   ForEachHistoryNeighbour: the neighbours of each distinct history item,
//     weighted 1 (ItemKnn: the reference multiplies the binary user row).
template <typename Fn>
void ForEachRecentNeighbour(const ItemNeighbours& nn, std::span<const uint32_t> items,
                            size_t last_items, double decay, Fn&& fn, size_t keep = 0) {
  const size_t n = items.size();
  const size_t take = std::min(n, last_items);
  float w = 1.0f;
  for (size_t j = 0; j < take; ++j, w *= static_cast<float>(decay)) {
    const uint32_t i = items[n - 1 - j];
    if (i >= nn.num_items()) continue;
    const uint64_t end = keep > 0 ? std::min<uint64_t>(nn.ptr[i + 1], nn.ptr[i] + keep) : nn.ptr[i + 1];
    for (uint64_t k = nn.ptr[i]; k < end; ++k) fn(nn.item[k], w * nn.sim[k]);
  }
}
template <typename Fn>
void ForEachHistoryNeighbour(const ItemNeighbours& nn, std::span<const uint32_t> items, Fn&& fn) {
  std::vector<uint32_t> distinct(items.begin(), items.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (uint32_t i : distinct) {
    if (i >= nn.num_items()) continue;
    for (uint64_t k = nn.ptr[i]; k < nn.ptr[i + 1]; ++k) fn(nn.item[k], 1.0f * nn.sim[k]);
  }
}

// Persistence of neighbour lists (model_io.h); Load checks the CSR
// invariants (offsets monotone, ids in range) and fails `in` otherwise.
void SaveNeighbours(const ItemNeighbours& nn, ModelWriter& out);
bool LoadNeighbours(ModelReader& in, ItemNeighbours* nn);

// Cosine neighbours of every item; `keep` = 0 keeps every non-zero neighbour.
ItemNeighbours BuildCosineNeighbours(const Dataset& data, size_t keep, int threads);

// The cosine table of the last dataset asked for, so that the components of
// one blend that keep the same neighbours fit (and store) it once. The
// dataset is recognised by its address, sizes and interaction buffer; a
// cache lives as long as one Train's components (ComponentConfig).
// Thread-safe.
class NeighbourCache {
 public:
  std::shared_ptr<const ItemNeighbours> Cosine(const Dataset& data, size_t keep, int threads);

 private:
  std::mutex mu_;
  const void* data_ = nullptr;       // GUARDED_BY(mu_)
  const void* interactions_ = nullptr;
  size_t events_ = 0, keep_ = 0;
  uint32_t users_ = 0, items_ = 0;
  std::shared_ptr<const ItemNeighbours> nn_;
};

struct ItemKnnOptions {
  size_t neighbours = 50;  // Default: 50; 0 = all
  int threads = 2;
};

class ItemKnn final : public Recommender {
 public:
  explicit ItemKnn(ItemKnnOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "itemknn"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return nn_.num_items(); }
  void Score(const UserQuery& query, std::span<float> scores) const override;
  bool SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const override;
  bool SparseAccumulate(const UserQuery& query, SparseAccumulator* acc) const override;

 private:
  ItemKnnOptions options_;
  ItemNeighbours nn_;
};

struct RecentKnnOptions {
  size_t last_items = 5;   // Default: 5
  double decay = 0.7;      // Default: 0.7
  // Each item keeps its this many most similar items (KeepMostSimilar), at
  // Fit; serving walks at most this many entries of each list, so a table
  // fitted with more (a model stored before the cap was set) answers as one
  // fitted with the cap. Default: 0 = all non-zero neighbours (the
  // reference); the blend sets ComponentConfig::recent_knn_neighbours.
  size_t neighbours = 0;
  int threads = 2;
  // Shared with the blend's other RecentKnn components; null: its own table.
  std::shared_ptr<NeighbourCache> cache;
};

class RecentKnn final : public Recommender {
 public:
  explicit RecentKnn(RecentKnnOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "recentknn"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return nn_ ? nn_->num_items() : 0; }
  void Score(const UserQuery& query, std::span<float> scores) const override;
  bool SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const override;
  bool SparseAccumulate(const UserQuery& query, SparseAccumulator* acc) const override;
  // The table it scores with (shared among a blend's RecentKnn components).
  const std::shared_ptr<const ItemNeighbours>& neighbours() const { return nn_; }

 private:
  RecentKnnOptions options_;
  std::shared_ptr<const ItemNeighbours> nn_;
};

}  // namespace recdb::models
