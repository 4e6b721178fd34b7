// LearnedPolicy: the database's trained policy (RecommendRequest::policy =
// "learned"), an immutable value: the feature layout, theta, and the
// settings it serves with. The maths are recdb/policy_gradient.h; the
// facts it is fed come from RecommendService (learned_policy_service.cc).
//
// Stored as derived data in DIR/derived/learned.policy, in the model
// file container (engine/recommend/model_file.h: versioned, checksummed,
// stamped with the RocksDB sequence its training read at), payload:
//   tag "recdb.learned_policy" (string), payload version (u32, 1),
//   recommenders (strings), theta (f64 vector, one per feature),
//   seed (u64), pool (u64), k (u64), max_per_category (u64), window (i64),
//   impressions, slots, rewarded slots, slots outside the pool (i64 x 4).
// Loaded at Open without retraining; a damaged or foreign file is left
// unused (the reason is kept) and the next Train writes a new one.
//
// Thread-safety: immutable after construction; share it by shared_ptr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb::policy {

inline constexpr char kLearnedPolicyFileName[] = "learned.policy";
inline constexpr uint32_t kLearnedPolicyPayloadVersion = 1;

class LearnedPolicy {
 public:
  struct Settings {
    uint64_t seed = 42;
    size_t pool = 50;
    size_t k = 10;
    size_t max_per_category = 1;
    // The training window; serving counts the user's impressions over it too.
    int64_t window_seconds = 10 * 86400;
  };

  LearnedPolicy(std::vector<std::string> recommenders, std::vector<double> theta,
                const Settings& settings, LearnedPolicyReport report);

  // theta_0: weight 1 / temperature on "rank", 0 elsewhere (a stochastic
  // fused list), the starting point of training.
  static std::vector<double> InitialTheta(size_t num_recommenders, double temperature);

  const std::vector<std::string>& recommenders() const { return recommenders_; }
  const std::vector<std::string>& feature_names() const { return names_; }
  const std::vector<double>& theta() const { return theta_; }
  const Settings& settings() const { return settings_; }
  size_t dim() const { return names_.size(); }
  // report().weights is theta by feature name.
  const LearnedPolicyReport& report() const { return report_; }

  // Draws min(k, n) of the n candidates (features n x dim, categories one per
  // candidate, < 0 = none) from the softmax, seeded by (seed, user, now):
  // the same request gets the same list. *propensities: per slot, the
  // marginal probability that the draw puts that item at that slot
  // (PlackettLuceDrawWithMarginals; until 2026-12-07 the probability given
  // the slots above, which item-position IPS reads as biased low).
  std::vector<size_t> Draw(const std::vector<float>& features, const std::vector<int>& categories,
                           size_t k, uint64_t user_key, int64_t now,
                           std::vector<double>* propensities) const;

  // A phrase naming the candidate's strongest features: the largest
  // |theta_d (x_d - mean_d)| (its pull against the candidates' mean),
  // e.g. "rank (+1.20), times_shown (-0.45)".
  std::string StrongestFeatures(const std::vector<float>& features, size_t candidate,
                                size_t how_many = 2) const;

  // The payload above; Decode's errors: Corruption.
  std::string Encode() const;
  static StatusOr<LearnedPolicy> Decode(std::string_view payload);

 private:
  std::vector<std::string> recommenders_;
  std::vector<std::string> names_;
  std::vector<double> theta_;
  Settings settings_;
  LearnedPolicyReport report_;
};

}  // namespace recdb::policy
