// Off-policy evaluation: what a candidate policy's lists would earn, from
// the impressions another policy logged with their propensities
// (ImpressionContext::propensities, recdb/recommend.h).
//
// The estimator (OffPolicyEstimator) is pure arithmetic over logged slots;
// it is the one home of the rule, shared by `recdb eval --off-policy`
// (EvaluateOffPolicy below) and the simulator (sim/). Item-position IPS: a
// logged slot j of an impression counts w * r, where r is the slot's reward
// and w = 1 / p (p the logged propensity of that item at that slot) when the
// candidate puts the same item at the same slot j, else w = 0.
//   IPS   = sum(w * r) / slots               (unbiased for the candidate's
//                                             mean reward per slot)
//   SNIPS = sum(w * r) / sum(w)              (self-normalised: lower
//                                             variance, slightly biased)
// 95% intervals: normal approximation of the mean of w * r for IPS (1.96
// standard errors, sample variance), delta method for SNIPS
// (1.96 * sqrt(sum w^2 (r - SNIPS)^2) / sum w). The slots compared in an
// impression are the first min(logged, candidate) positions.
//
// Assumptions: the candidate is deterministic given what the logger knew
// (or its randomness is independent of the logged outcomes); every item the
// candidate shows at a slot had a logged propensity > 0 there (otherwise the
// estimate is biased low); a slot's reward depends only on the item and its
// position (not on the rest of the list); the propensity is the marginal
// probability of that item at that slot (not the probability given the
// slots above, which a sequential draw knows: then the estimate is biased
// low by the chance that the candidate's item was drawn higher up).
//
// Closed loop. IPS estimates the candidate's reward for the logger's users
// as the LOGGER left them. Deployed, the candidate meets users as ITS OWN
// lists left them: a candidate that re-shows items earns less on a repeat
// than on a first showing when users tire of repeats, and a logger that
// rarely repeats (a uniform one) holds no evidence about repeats at all (no
// support). Given each impression's user (the keyed AddImpression, users'
// impressions in time order), the estimator counts the candidate's
// "repeats": slots whose item the candidate already put in an earlier
// compared list of the same user. The log identifies only the fresh part
// of the candidate's reward; for repeats (rewards being >= 0, as counts of
// events are) it identifies nothing below 0
// and, if a repeat never earns more than a first showing ("monotone
// fatigue"), nothing above what IPS credits them. So the candidate's
// closed-loop reward per slot lies in
//   [fresh_ips - 1.96 se(fresh_ips),  ips + 1.96 se(ips)]
// (bound_low, bound_high), fresh_ips = sum(w * r * [slot is fresh]) / slots:
// a partial-identification interval (each end at 95%: conservative). It
// also assumes that the rest of the user's state (what else they consumed
// lately, who is still there) is no better for the candidate than for the
// logger. Without user keys every slot counts as fresh and the bounds are
// the IPS interval.
//
// Thread-safety: an OffPolicyEstimator is a value; concurrent calls on one
// instance need external synchronisation. EvaluateOffPolicy is safe to run
// alongside other DB calls.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "recdb/care.h"
#include "recdb/db.h"
#include "recdb/export.h"
#include "recdb/status.h"

namespace recdb {

// An estimate of one candidate's mean reward per slot.
struct OffPolicyEstimate {
  int64_t impressions = 0;          // impressions compared
  int64_t skipped_impressions = 0;  // without usable propensities (unknown, or
                                    // not one in (0, 1] per slot): not compared
  int64_t slots = 0;                // slots compared
  int64_t matches = 0;              // slots where the candidate shows the logged item
  // The logger's own mean reward per compared slot (its on-policy value)
  // and the half-width of its 95% interval.
  double logged_reward = 0, logged_reward_half_width = 0;
  double ips = 0, ips_half_width = 0;
  double snips = 0, snips_half_width = 0;  // 0, 0 when nothing matched
  // Closed loop (see the file comment; keyed AddImpression only, else
  // repeat_slots = 0, fresh_ips = ips and the bounds are the IPS interval):
  // compared slots where the candidate re-shows an item it put in an
  // earlier compared list of the same user; the IPS of the fresh slots'
  // reward per compared slot; the partial-identification interval of the
  // candidate's closed-loop reward per slot.
  int64_t repeat_slots = 0;
  double fresh_ips = 0, fresh_ips_half_width = 0;
  double bound_low = 0, bound_high = 0;
};

// Accumulates logged impressions and a candidate's lists for them, then
// estimates (see the file comment).
class RECDB_EXPORT OffPolicyEstimator {
 public:
  // One logged impression: slot j showed logged[j] with probability
  // propensities[j] and earned rewards[j] (e.g. clicks + purchases on it);
  // the candidate would have shown candidate[j]. An impression whose
  // propensities are empty, not parallel to `logged`, or not all in (0, 1]
  // is counted in skipped_impressions and otherwise ignored; `rewards` must
  // be parallel to `logged` (else it is skipped too).
  void AddImpression(const std::vector<std::string>& logged,
                     const std::vector<double>& propensities, const std::vector<double>& rewards,
                     const std::vector<std::string>& candidate);
  // The same with items as integers (callers that index their catalogue).
  void AddImpression(const std::vector<int64_t>& logged, const std::vector<double>& propensities,
                     const std::vector<double>& rewards, const std::vector<int64_t>& candidate);
  // The same for an impression of `user`: each user's impressions must come
  // in time order. The candidate's earlier lists for the user (those of
  // compared impressions) tell which of its slots are repeats.
  void AddImpression(const std::string& user, const std::vector<std::string>& logged,
                     const std::vector<double>& propensities, const std::vector<double>& rewards,
                     const std::vector<std::string>& candidate);
  void AddImpression(int64_t user, const std::vector<int64_t>& logged,
                     const std::vector<double>& propensities, const std::vector<double>& rewards,
                     const std::vector<int64_t>& candidate);

  OffPolicyEstimate Estimate() const;

 private:
  // `shown`: the items the candidate already showed this user (updated
  // here), or null when the user is not known.
  template <typename Id>
  void Add(const std::vector<Id>& logged, const std::vector<double>& propensities,
           const std::vector<double>& rewards, const std::vector<Id>& candidate,
           std::unordered_set<Id>* shown);

  int64_t impressions_ = 0, skipped_ = 0;
  // Running mean and sum of squared deviations (Welford) of w * r and of r.
  int64_t n_ = 0;
  double ips_mean_ = 0, ips_m2_ = 0;
  double logged_mean_ = 0, logged_m2_ = 0;
  double sum_w_ = 0, sum_wr_ = 0;
  int64_t repeats_ = 0;
  double fresh_mean_ = 0, fresh_m2_ = 0;  // Welford of w * r * [fresh]
  std::unordered_map<std::string, std::unordered_set<std::string>> shown_by_name_;
  std::unordered_map<int64_t, std::unordered_set<int64_t>> shown_by_index_;
  std::vector<std::pair<double, double>> matched_;  // (w, r), for the SNIPS variance
};

// One candidate policy for EvaluateOffPolicy: DB::Recommend with these
// settings, at the impression's time and k, exclude_seen on.
struct OffPolicyCandidate {
  std::string name;  // its label in the report, e.g. "fused"
  // RecommendRequest::weights (e.g. {"ials": 1, every other: 0} for one
  // component alone); empty = the model's learned weights.
  std::map<std::string, double> weights;
  // RecommendRequest::care; unset = the database's Options::care.
  std::optional<CareOptions> care;
  // When set, this recommender alone: every other fusion weight of the
  // evaluated model is 0 (applied after `weights`).
  std::string alone;
};

struct OffPolicyOptions {
  // Empty = one candidate, "fused" (the database's own fused recommender
  // with its default care).
  std::vector<OffPolicyCandidate> candidates;
  // A slot's reward counts the user's events on the slot's item with
  // timestamp in [t, t + window_seconds), t the impression's time, cut at
  // the user's next impression with a later timestamp (each event credits
  // the latest list that showed the item before it). Default: 86400.
  int64_t window_seconds = 86400;
  // Event types that count as reward, one each. Empty = every registered
  // type with a positive weight except "view". Default: empty.
  std::vector<std::string> reward_types;
  // Only impressions with timestamp in [since, until). Default: all.
  int64_t since = INT64_MIN;
  int64_t until = INT64_MAX;
  // 0: the candidates use the serving model (the last Train), which may have
  // seen the rewarded events (optimistic). Otherwise a private model is fit
  // for this evaluation on the events with timestamp < model_until (as
  // Train would, learning the fusion weights; nothing stored or served) and
  // only impressions at or after model_until are evaluated: an honest
  // estimate, at the cost of one Train. Default: 0.
  int64_t model_until = 0;
};

struct OffPolicyReport {
  int64_t impressions = 0;  // impressions in [since, until), with or without propensities
  int64_t users = 0;        // users with such impressions
  std::vector<std::string> reward_types;  // as resolved
  uint64_t model_version = 0;  // the serving model's; 0 for a private one
  int64_t model_events = 0;    // events the evaluated model was fit on
  std::vector<std::pair<std::string, OffPolicyEstimate>> candidates;  // in the options' order
};

// Off-policy estimates of each candidate's mean reward per slot from this
// database's impression log. Each logged impression with propensities is
// compared with the candidate's list for the same user at the impression's
// time (RecommendRequest::now), k = the impression's length, served "as of"
// that time: the user's events before it are their history (exclude_seen
// drops those), impressions before it count for rotation, items created
// after it are left out, and the user is folded in from that history (not
// a trained user vector). The item side of the MODEL is the serving one
// (the last Train), which may have seen the very events being rewarded:
// then the estimate is optimistic; `model_until` fits one that did not.
// REQUIRES: `db` was returned by DB::Open and has a trained model (unless
// model_until is set).
// Errors: FailedPrecondition when there is no model, or no impression in
// range has propensities ("no impressions with propensities"); InvalidArgument
// for an unknown reward type or recommender, window_seconds <= 0, or a
// candidate Recommend rejects; NotSupported for a DB not opened by DB::Open;
// Corruption/IOError from the scans.
RECDB_EXPORT StatusOr<OffPolicyReport> EvaluateOffPolicy(DB* db, const OffPolicyOptions& options);

}  // namespace recdb
