// ContextPopularity: popularity conditioned on the request's context -- the
// daypart and weekday/weekend of its time and any "key=value" feature the
// events carry (device=mobile, surface=home, ...; engine/models/context.h).
//
// Naive Bayes over the request's features F:
//   score(i) = log p(i) + sum_{f in F} [log p(i | f) - log p(i)]
// with time-decayed event weights (half-life), p(i) add-one smoothed and
// p(i | f) = (c_f(i) + s p(i)) / (C_f + s) shrunk towards p(i) by `s`
// pseudo-events, so a rare context moves the ranking only as far as its
// evidence goes. Features with fewer than min_feature_events events are
// ignored. Without features it ranks by decayed popularity.
//
// Memory: num_items floats plus one (item, count) pair per distinct
// (feature, item) seen. Thread-safety: see Recommender.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <map>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "engine/models/recommender.h"

namespace recdb::models {

struct ContextPopularityOptions {
  double half_life_seconds = 30 * 86400.0;  // Default: 30 days
  double smoothing = 20;                    // pseudo-events. Default: 20
  double min_feature_events = 20;           // Default: 20
};

class ContextPopularity final : public Recommender {
 public:
  explicit ContextPopularity(ContextPopularityOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "context_pop"; }
  // Errors: InvalidArgument for a half-life <= 0 or a negative smoothing.
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return static_cast<uint32_t>(log_p_.size()); }
  void Score(const UserQuery& query, std::span<float> scores) const override;

  // Scores for an explicit feature set (ids into the Dataset's vocabulary).
  void ScoreFeatures(std::span<const uint32_t> features, std::span<float> scores) const;

  // Two-stage serving (recommender.h). The scores depend only on the
  // request's feature set, and requests share a few sets (4 dayparts x
  // weekend, times the stored features in use), so after PrepareRetrieval
  // the scores of each set seen are kept with their sum, sum of squares and
  // best retrieval_depth items, for at most max_cached_sets sets (one table
  // of num_items floats each); Retrieve, ScoreMoments and ScoreItems then
  // cost O(k + history). A set past the cap answers false (the blend scores
  // every item).
  void ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                  std::span<float> out) const override;
  bool Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                std::vector<uint32_t>* out) const override;
  bool ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude, double* sum,
                    double* sum_sq) const override;
  DeferredWork PrepareRetrieval(std::span<const uint32_t> item_rank, bool may_defer) override;

 private:
  struct SetTable {
    std::vector<float> scores;
    double sum = 0, sum_sq = 0;
    std::vector<uint32_t> best;  // best first, by (score desc, item rank asc)
  };
  struct SetCache {
    std::shared_mutex mu;
    std::map<std::vector<uint32_t>, std::shared_ptr<const SetTable>> tables;
  };
  // The cached table of the query's feature set (built on first use), or
  // null when not prepared or the cache is full.
  std::shared_ptr<const SetTable> TableFor(const UserQuery& query) const;
  std::vector<uint32_t> item_rank_;      // tie-break of `best` (PrepareRetrieval)
  std::shared_ptr<SetCache> set_cache_;  // null until PrepareRetrieval

 public:
  // Defaults: 64 sets, 2048 items.
  static constexpr size_t kMaxCachedSets = 64;
  static constexpr size_t kRetrievalDepth = 2048;

 private:
  struct Feature {
    double total = 0;                                // C_f
    std::vector<std::pair<uint32_t, float>> counts;  // (item, c_f(item)), ascending item
  };
  ContextPopularityOptions options_;
  std::vector<float> log_p_;       // log p(i)
  std::vector<float> p_;           // p(i)
  std::vector<Feature> features_;  // by feature id
};

}  // namespace recdb::models
