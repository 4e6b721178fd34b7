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
