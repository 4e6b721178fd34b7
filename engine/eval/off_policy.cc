// OffPolicyEstimator (recdb/off_policy.h): item-position IPS and SNIPS with
// 95% intervals. Pure arithmetic, the one home of the rule: the simulator
// and `recdb eval --off-policy` (engine/db_impl/db_impl_off_policy.cc) both call it.
#include <algorithm>
#include <cmath>

#include "recdb/off_policy.h"

namespace recdb {

namespace {

// One Welford step: the running mean and sum of squared deviations.
void Welford(int64_t n, double x, double* mean, double* m2) {
  const double d = x - *mean;
  *mean += d / static_cast<double>(n);
  *m2 += d * (x - *mean);
}

// 1.96 standard errors of a mean of n values (0 for n < 2).
double HalfWidth95(int64_t n, double m2) {
  if (n < 2) return 0.0;
  const double variance = m2 / static_cast<double>(n - 1);
  return 1.96 * std::sqrt(variance / static_cast<double>(n));
}

}  // namespace

template <typename Id>
void OffPolicyEstimator::Add(const std::vector<Id>& logged, const std::vector<double>& propensities,
                             const std::vector<double>& rewards, const std::vector<Id>& candidate,
                             std::unordered_set<Id>* shown) {
  bool usable = !propensities.empty() && propensities.size() == logged.size() &&
                rewards.size() == logged.size();
  for (size_t j = 0; usable && j < propensities.size(); ++j) {
    // NaN fails both comparisons.
    if (!(propensities[j] > 0.0 && propensities[j] <= 1.0)) usable = false;
  }
  if (!usable) {
    ++skipped_;
    return;
  }
  ++impressions_;
  const size_t slots = std::min(logged.size(), candidate.size());
  for (size_t j = 0; j < slots; ++j) {
    const double r = rewards[j];
    const double w = logged[j] == candidate[j] ? 1.0 / propensities[j] : 0.0;
    const bool repeat = shown != nullptr && shown->count(candidate[j]) > 0;
    ++n_;
    repeats_ += repeat ? 1 : 0;
    Welford(n_, w * r, &ips_mean_, &ips_m2_);
    Welford(n_, repeat ? 0.0 : w * r, &fresh_mean_, &fresh_m2_);
    Welford(n_, r, &logged_mean_, &logged_m2_);
    if (w > 0) {
      sum_w_ += w;
      sum_wr_ += w * r;
      matched_.emplace_back(w, r);
    }
  }
  // The whole list was shown (also slots beyond the logged ones).
  if (shown != nullptr) shown->insert(candidate.begin(), candidate.end());
}

void OffPolicyEstimator::AddImpression(const std::vector<std::string>& logged,
                                       const std::vector<double>& propensities,
                                       const std::vector<double>& rewards,
                                       const std::vector<std::string>& candidate) {
  Add<std::string>(logged, propensities, rewards, candidate, nullptr);
}

void OffPolicyEstimator::AddImpression(const std::vector<int64_t>& logged,
                                       const std::vector<double>& propensities,
                                       const std::vector<double>& rewards,
                                       const std::vector<int64_t>& candidate) {
  Add<int64_t>(logged, propensities, rewards, candidate, nullptr);
}

void OffPolicyEstimator::AddImpression(const std::string& user,
                                       const std::vector<std::string>& logged,
                                       const std::vector<double>& propensities,
                                       const std::vector<double>& rewards,
                                       const std::vector<std::string>& candidate) {
  Add<std::string>(logged, propensities, rewards, candidate, &shown_by_name_[user]);
}

void OffPolicyEstimator::AddImpression(int64_t user, const std::vector<int64_t>& logged,
                                       const std::vector<double>& propensities,
                                       const std::vector<double>& rewards,
                                       const std::vector<int64_t>& candidate) {
  Add<int64_t>(logged, propensities, rewards, candidate, &shown_by_index_[user]);
}

OffPolicyEstimate OffPolicyEstimator::Estimate() const {
  OffPolicyEstimate e;
  e.impressions = impressions_;
  e.skipped_impressions = skipped_;
  e.slots = n_;
  e.matches = static_cast<int64_t>(matched_.size());
  e.logged_reward = logged_mean_;
  e.logged_reward_half_width = HalfWidth95(n_, logged_m2_);
  e.ips = ips_mean_;
  e.ips_half_width = HalfWidth95(n_, ips_m2_);
  e.repeat_slots = repeats_;
  e.fresh_ips = fresh_mean_;
  e.fresh_ips_half_width = HalfWidth95(n_, fresh_m2_);
  // Repeats earn at least 0 and (monotone fatigue) at most what IPS credits.
  e.bound_low = std::max(0.0, e.fresh_ips - e.fresh_ips_half_width);
  e.bound_high = e.ips + e.ips_half_width;
  if (sum_w_ > 0) {
    e.snips = sum_wr_ / sum_w_;
    double v = 0;
    for (const auto& [w, r] : matched_) v += w * w * (r - e.snips) * (r - e.snips);
    e.snips_half_width = 1.96 * std::sqrt(v) / sum_w_;
  }
  return e;
}

}  // namespace recdb
