// Item-based nearest-neighbour recommenders over cosine similarity of the
// binary user-item matrix: cos(i, j) = |U_i ∩ U_j| / ((sqrt|U_i|+1e-9)(sqrt|U_j|+1e-9)),
// the definition of refbaselines.py.
//
//  - ItemKnn: each item keeps its `neighbours` most similar items; a user's
//    score for j is the sum of sim(i, j) over history items i that keep j.
//  - RecentKnn: sequence-aware; only the last `last_items` history events
//    count, the newest with weight 1, the one before with `decay`, then
//    decay^2, ... (repeats count again). Default keeps all neighbours, as the
//    reference does.
//
// Memory: O(sum of kept neighbours); fitting costs O(sum over users of
// |items(u)|^2) with one dense accumulator per thread.
// Thread-safety: see Recommender.
#pragma once

#include <vector>

#include "engine/models/recommender.h"

namespace recdb::models {

// Sparse rows of item-item similarity, neighbours of each item sorted by
// descending similarity (ties by ascending id).
struct ItemNeighbours {
  std::vector<uint64_t> ptr;  // num_items + 1
  std::vector<uint32_t> item;
  std::vector<float> sim;
  uint32_t num_items() const { return ptr.empty() ? 0 : static_cast<uint32_t>(ptr.size() - 1); }
};

// Persistence of neighbour lists (model_io.h); Load checks the CSR
// invariants (offsets monotone, ids in range) and fails `in` otherwise.
void SaveNeighbours(const ItemNeighbours& nn, ModelWriter& out);
bool LoadNeighbours(ModelReader& in, ItemNeighbours* nn);

// Cosine neighbours of every item; `keep` = 0 keeps every non-zero neighbour.
ItemNeighbours BuildCosineNeighbours(const Dataset& data, size_t keep, int threads);

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

 private:
  ItemKnnOptions options_;
  ItemNeighbours nn_;
};

struct RecentKnnOptions {
  size_t last_items = 5;   // Default: 5
  double decay = 0.7;      // Default: 0.7
  size_t neighbours = 0;   // Default: 0 = all non-zero neighbours
  int threads = 2;
};

class RecentKnn final : public Recommender {
 public:
  explicit RecentKnn(RecentKnnOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "recentknn"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return nn_.num_items(); }
  void Score(const UserQuery& query, std::span<float> scores) const override;

 private:
  RecentKnnOptions options_;
  ItemNeighbours nn_;
};

}  // namespace recdb::models
