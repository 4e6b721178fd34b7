// Cooccurrence: item-to-item co-visitation within a user's time window, with
// significance weighting and k-anonymity.
//
// Two events of one user co-occur when they are at most `window_events`
// positions apart in the user's timeline and at most `window_seconds` apart in
// time (a session window). With `directed`, only (earlier i, later j) pairs
// count ("people who did i did j next"). c_ij counts DISTINCT users, and a pair
// supported by fewer than `min_users` users is dropped (k-anonymity: no
// neighbour reveals the behaviour of fewer than k people). The kept weight is
//   s_ij = c_ij / sqrt(n_i * n_j) * c_ij / (c_ij + shrinkage),
// n_i = distinct users of i: a cosine on co-visits shrunk towards 0 when
// little evidence supports it. Each item keeps its `neighbours` best.
//
// Score: like RecentKnn over the last `last_items` history events, weighted
// 1, decay, decay^2, ... from the newest.
//
// Thread-safety: see Recommender.
#pragma once

#include "engine/models/item_knn.h"
#include "engine/models/recommender.h"
#include "recdb/privacy.h"

namespace recdb::models {

// The default k-anonymity threshold (defined in recdb/privacy.h, the default
// of AggregatePrivacyOptions::min_pair_users): a pair co-consumed by fewer
// than this many distinct users is never used (no weight, no explanation
// evidence), so no neighbour reveals the behaviour of one or two people.
// Cost on ml-100k against k = 2 (recdb eval): about 1% of NDCG@10
// (docs/BENCHMARKS.md, "Recommendation quality").
using ::recdb::kDefaultMinPairUsers;

struct CooccurrenceOptions {
  uint32_t window_events = 10;      // Default: 10 positions
  int64_t window_seconds = 0;       // Default: 0 = no time limit
  bool directed = true;             // Default: true
  uint32_t min_users = kDefaultMinPairUsers;  // k-anonymity threshold. Default: 3
  double shrinkage = 5.0;           // Default: 5
  size_t neighbours = 100;          // Default: 100
  size_t last_items = 5;            // Default: 5
  double decay = 0.7;               // Default: 0.7
  int threads = 2;
};

class Cooccurrence final : public Recommender {
 public:
  explicit Cooccurrence(CooccurrenceOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "cooccurrence"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return nn_.num_items(); }
  void Score(const UserQuery& query, std::span<float> scores) const override;
  bool SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const override;
  bool SparseAccumulate(const UserQuery& query, SparseAccumulator* acc) const override;

  // Neighbours of `item`, best first.
  std::vector<ScoredItem> Neighbours(uint32_t item) const;

 private:
  CooccurrenceOptions options_;
  ItemNeighbours nn_;
};

}  // namespace recdb::models
