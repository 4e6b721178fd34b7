// DBImpl: off-policy evaluation from the impression log (recdb/off_policy.h).
// Reads every impression user by user, rewards each slot from the events
// that followed it, asks RecommendService for each candidate's list as of the
// impression's time, and feeds the estimator (engine/eval/off_policy.cc).
#include <algorithm>
#include <unordered_map>

#include "engine/db_impl/db_impl.h"
#include "engine/recommend/recommend_service.h"
#include "engine/rerank/impression_log.h"

namespace recdb {

StatusOr<std::vector<bool>> DBImpl::RewardEventTypes(const std::vector<std::string>& names,
                                                     std::vector<std::string>* resolved) const {
  const std::vector<EventTypeInfo> types = EventTypesById();
  std::vector<bool> is_reward;
  for (const auto& t : types) {
    if (t.id >= is_reward.size()) is_reward.resize(t.id + 1, false);
  }
  for (const std::string& name : names) {
    auto it = std::find_if(types.begin(), types.end(), [&](const auto& t) { return t.name == name; });
    if (it == types.end()) {
      return Status::InvalidArgument("off-policy: unknown reward event type '" + name + "'");
    }
    is_reward[it->id] = true;
  }
  if (names.empty()) {
    for (const auto& t : types) is_reward[t.id] = t.weight > 0 && t.name != "view";
  }
  for (const auto& t : types) {
    if (is_reward[t.id]) resolved->push_back(t.name);
  }
  return is_reward;
}

Status DBImpl::ForEachRewardedImpression(
    int64_t since, int64_t until, int64_t window_seconds, const std::vector<bool>& is_reward,
    const std::function<Status(const RewardedImpression&)>& fn) {
  uint32_t current = 0;
  std::vector<rerank::Shown> pending;  // the current user's impressions in range, oldest first
  auto flush = [&]() -> Status {
    if (pending.empty()) return Status::OK();
    // The user's rewarding events from the first impression to the end of
    // the last one's window: item -> timestamps, ascending.
    std::unordered_map<uint32_t, std::vector<int64_t>> rewarded;
    const int64_t last = pending.back().timestamp;
    const int64_t end = last > kMaxTimestamp - window_seconds ? kMaxTimestamp + 1
                                                              : last + window_seconds;
    RECDB_RETURN_IF_ERROR(ScanUserEvents(current, pending.front().timestamp, end,
                                         [&](const storage::StoredEvent& e) -> Status {
                                           if (e.type < is_reward.size() && is_reward[e.type]) {
                                             rewarded[e.item].push_back(e.timestamp);
                                           }
                                           return Status::OK();
                                         }));
    for (size_t i = 0; i < pending.size(); ++i) {
      const rerank::Shown& shown = pending[i];
      const int64_t t = shown.timestamp;
      // [t, min(t + window, the next later impression)).
      int64_t cut = t > kMaxTimestamp - window_seconds ? kMaxTimestamp + 1 : t + window_seconds;
      for (size_t n = i + 1; n < pending.size(); ++n) {
        if (pending[n].timestamp > t) {
          cut = std::min(cut, pending[n].timestamp);
          break;
        }
      }
      RewardedImpression r;
      r.user = current;
      r.shown = &shown;
      r.rewards.assign(shown.items.size(), 0.0);
      for (size_t j = 0; j < shown.items.size(); ++j) {
        auto it = rewarded.find(shown.items[j]);
        if (it == rewarded.end()) continue;
        const auto& ts = it->second;
        r.rewards[j] = static_cast<double>(std::lower_bound(ts.begin(), ts.end(), cut) -
                                           std::lower_bound(ts.begin(), ts.end(), t));
      }
      RECDB_RETURN_IF_ERROR(fn(r));
    }
    pending.clear();
    return Status::OK();
  };
  RECDB_RETURN_IF_ERROR(recommend_->ForEachImpression([&](uint32_t user, rerank::Shown shown) {
    if (shown.timestamp < since || shown.timestamp >= until) return Status::OK();
    if (user != current) {
      RECDB_RETURN_IF_ERROR(flush());
      current = user;
    }
    pending.push_back(std::move(shown));
    return Status::OK();
  }));
  return flush();
}

StatusOr<OffPolicyReport> DBImpl::EvaluateOffPolicy(const OffPolicyOptions& options) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  if (options.window_seconds <= 0) {
    return Status::InvalidArgument("off-policy: the reward window must be > 0 seconds");
  }
  if (options.since >= options.until) {
    return Status::InvalidArgument("off-policy: since must be before until");
  }
  OffPolicyReport report;
  std::shared_ptr<const RecommendService::Model> model;  // null: the serving one
  int64_t since = options.since;
  if (options.model_until != 0) {
    TrainReport fit;
    auto fitted = recommend_->FitPrivateModel(TrainOptions{}, options.model_until, &fit);
    if (!fitted.ok()) {
      return Status(fitted.status().code(), "off-policy: fitting the model on the events before " +
                                                std::to_string(options.model_until) + ": " +
                                                fitted.status().message());
    }
    model = std::move(fitted).value();
    report.model_events = fit.events;
    since = std::max(since, options.model_until);
  } else {
    if (!recommend_->trained()) {
      return Status::FailedPrecondition(
          "off-policy: no trained model to evaluate; call Train (recdb train DIR)");
    }
    const TrainReport serving = recommend_->ModelReport();
    report.model_version = serving.model_version;
    report.model_events = serving.events;
  }
  RECDB_ASSIGN_OR_RETURN(std::vector<bool> is_reward,
                         RewardEventTypes(options.reward_types, &report.reward_types));
  std::vector<OffPolicyCandidate> candidates = options.candidates;
  if (candidates.empty()) candidates.push_back({"fused", {}, std::nullopt, ""});
  const std::vector<std::string> names = recommend_->RecommenderNames(model.get());
  for (OffPolicyCandidate& c : candidates) {
    if (c.alone.empty()) continue;
    if (std::find(names.begin(), names.end(), c.alone) == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      return Status::InvalidArgument("off-policy: unknown recommender '" + c.alone +
                                     "' (the model has: " + known + ")");
    }
    for (const auto& n : names) c.weights[n] = n == c.alone ? 1.0 : 0.0;
  }
  std::vector<OffPolicyEstimator> estimators(candidates.size());
  int64_t with_propensities = 0;

  uint32_t last_user = UINT32_MAX;
  RECDB_RETURN_IF_ERROR(ForEachRewardedImpression(
      since, options.until, options.window_seconds, is_reward,
      [&](const RewardedImpression& r) -> Status {
        const rerank::Shown& shown = *r.shown;
        ++report.impressions;
        if (r.user != last_user) {
          ++report.users;
          last_user = r.user;
        }
        std::vector<int64_t> logged(shown.items.begin(), shown.items.end());
        if (shown.propensities.empty()) {  // unknown: the estimator counts it as skipped
          for (auto& est : estimators) est.AddImpression(logged, {}, r.rewards, {});
          return Status::OK();
        }
        ++with_propensities;
        for (size_t c = 0; c < candidates.size(); ++c) {
          RecommendRequest request;
          request.k = shown.items.size();
          request.now = shown.timestamp;
          request.exclude_seen = true;
          request.weights = candidates[c].weights;
          request.care = candidates[c].care;
          auto response = recommend_->RecommendAsOf(request, r.user, shown.timestamp, model);
          if (!response.ok()) {
            return Status(response.status().code(),
                          "off-policy: candidate '" + candidates[c].name + "': " +
                              std::string(response.status().message()));
          }
          std::vector<int64_t> listed;
          for (const Recommendation& rec : response->items) {
            auto iid = FindItemIid(rec.id);
            listed.push_back(iid ? static_cast<int64_t>(*iid) : -1);
          }
          // Keyed by the user (impressions come oldest first per user): the
          // estimator counts the candidate's repeats (recdb/off_policy.h).
          estimators[c].AddImpression(static_cast<int64_t>(r.user), logged, shown.propensities,
                                      r.rewards, listed);
        }
        return Status::OK();
      }));
  if (with_propensities == 0) {
    return Status::FailedPrecondition(
        "off-policy: no impressions with propensities" +
        (report.impressions == 0
             ? std::string(" (no impressions in range at all)")
             : " (" + std::to_string(report.impressions) +
                   " impressions in range, none with propensities: record them with "
                   "ImpressionContext::propensities)"));
  }
  for (size_t c = 0; c < candidates.size(); ++c) {
    report.candidates.emplace_back(candidates[c].name, estimators[c].Estimate());
  }
  return report;
}

}  // namespace recdb
