#include "engine/policy/learned_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/models/model_io.h"
#include "recdb/policy_gradient.h"
#include "recdb/splitmix64.h"

namespace recdb::policy {

namespace {

constexpr char kTag[] = "recdb.learned_policy";

}  // namespace

LearnedPolicy::LearnedPolicy(std::vector<std::string> recommenders, std::vector<double> theta,
                             const Settings& settings, LearnedPolicyReport report)
    : recommenders_(std::move(recommenders)),
      names_(PolicyFeatureNames(recommenders_)),
      theta_(std::move(theta)),
      settings_(settings),
      report_(std::move(report)) {
  theta_.resize(names_.size(), 0.0);
  report_.trained = true;
  report_.weights.clear();
  for (size_t d = 0; d < names_.size(); ++d) report_.weights[names_[d]] = theta_[d];
}

std::vector<double> LearnedPolicy::InitialTheta(size_t num_recommenders, double temperature) {
  std::vector<double> theta(PolicyFeatureNames(std::vector<std::string>(num_recommenders)).size(),
                            0.0);
  theta[0] = 1.0 / std::max(1e-6, temperature);
  return theta;
}

std::vector<size_t> LearnedPolicy::Draw(const std::vector<float>& features,
                                        const std::vector<int>& categories, size_t k,
                                        uint64_t user_key, int64_t now,
                                        std::vector<double>* propensities) const {
  const std::vector<double> pi = SoftmaxProbabilities(features, dim(), theta_);
  // splitmix64 from a key of (seed, user, time): a pure function of the request.
  uint64_t state = SplitMix64(SplitMix64(settings_.seed ^ 0x5EEDC0DEull) ^ user_key);
  state = SplitMix64(state ^ (static_cast<uint64_t>(now) * kSplitMix64Gamma));
  auto uniform = [&state] {
    return static_cast<double>(SplitMix64Next(&state) >> 11) * 0x1.0p-53;
  };
  return PlackettLuceDrawWithMarginals(pi, k, uniform, propensities, &categories,
                                       settings_.max_per_category);
}

std::string LearnedPolicy::StrongestFeatures(const std::vector<float>& features, size_t candidate,
                                             size_t how_many) const {
  const size_t n = dim() == 0 ? 0 : features.size() / dim();
  std::vector<std::pair<double, size_t>> pull;
  for (size_t d = 0; d < dim(); ++d) {
    double mean = 0;
    for (size_t b = 0; b < n; ++b) mean += features[b * dim() + d];
    mean /= std::max<size_t>(1, n);
    pull.emplace_back(theta_[d] * (features[candidate * dim() + d] - mean), d);
  }
  std::stable_sort(pull.begin(), pull.end(), [](const auto& a, const auto& b) {
    return std::abs(a.first) > std::abs(b.first);
  });
  std::string out;
  for (size_t i = 0; i < std::min(how_many, pull.size()); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), " (%+.2f)", pull[i].first);
    out += (out.empty() ? "" : ", ") + names_[pull[i].second] + buf;
  }
  return out;
}

std::string LearnedPolicy::Encode() const {
  models::ModelWriter out;
  out.PutString(kTag);
  out.Put<uint32_t>(kLearnedPolicyPayloadVersion);
  out.PutStrings(recommenders_);
  out.PutVector(theta_);
  out.Put<uint64_t>(settings_.seed);
  out.Put<uint64_t>(settings_.pool);
  out.Put<uint64_t>(settings_.k);
  out.Put<uint64_t>(settings_.max_per_category);
  out.Put<int64_t>(settings_.window_seconds);
  out.Put<int64_t>(report_.impressions);
  out.Put<int64_t>(report_.slots);
  out.Put<int64_t>(report_.rewarded_slots);
  out.Put<int64_t>(report_.slots_outside_pool);
  return out.bytes();
}

StatusOr<LearnedPolicy> LearnedPolicy::Decode(std::string_view payload) {
  models::ModelReader in(payload, "learned policy");
  std::string tag;
  uint32_t version = 0;
  std::vector<std::string> recommenders;
  std::vector<double> theta;
  uint64_t seed = 0, pool = 0, k = 0, cap = 0;
  int64_t window = 0;
  LearnedPolicyReport report;
  if (!in.GetString(&tag) || !in.Expect(tag == kTag, "tag (not a learned policy)") ||
      !in.Get(&version) ||
      !in.Expect(version == kLearnedPolicyPayloadVersion, "learned policy payload version") ||
      !in.GetStrings(&recommenders) || !in.GetVector(&theta, 1 << 16) || !in.Get(&seed) ||
      !in.Get(&pool) || !in.Get(&k) || !in.Get(&cap) || !in.Get(&window) || !in.Get(&report.impressions) ||
      !in.Get(&report.slots) || !in.Get(&report.rewarded_slots) ||
      !in.Get(&report.slots_outside_pool) ||
      !in.Expect(theta.size() == PolicyFeatureNames(recommenders).size(), "theta size") ||
      !in.Expect(pool >= 1 && pool <= kMaxRecommendK && k >= 1, "pool or k")) {
    return in.Finish();
  }
  RECDB_RETURN_IF_ERROR(in.Finish());
  Settings s;
  s.seed = seed;
  s.pool = static_cast<size_t>(pool);
  s.k = static_cast<size_t>(k);
  s.max_per_category = static_cast<size_t>(cap);
  s.window_seconds = window;
  return LearnedPolicy(std::move(recommenders), std::move(theta), s, std::move(report));
}

}  // namespace recdb::policy
