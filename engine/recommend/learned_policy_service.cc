// RecommendService: the learned policy (engine/policy/README.md) -- its
// features from the event and impression logs, its training from the
// impression log at the end of Train, its file, and serving
// RecommendRequest::policy = "learned".
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "engine/db_impl/db_impl.h"
#include "engine/models/dataset.h"
#include "engine/policy/learned_policy.h"
#include "engine/recommend/model_file.h"
#include "engine/recommend/recommend_service.h"
#include "engine/rerank/impression_log.h"
#include "recdb/policy_gradient.h"
#include "storage/store.h"

namespace recdb {

namespace {

constexpr size_t kConsumptionWindow = 10;        // items in the category-share window
constexpr int64_t kRecentSeconds = 3 * 86400;   // "recent" rewarded events in a category

uint64_t UserKey(const std::string& s) {  // FNV-1a
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::string RecommendService::PolicyPath() const {
  return db_->derived_dir() + "/" + policy::kLearnedPolicyFileName;
}

LearnedPolicyReport RecommendService::PolicyReport() const {
  std::lock_guard<std::mutex> lock(model_mu_);
  if (policy_) return policy_->report();
  LearnedPolicyReport r;
  r.note = policy_note_.empty() ? "no learned policy: call Train after recording impressions with "
                                  "propensities"
                                : policy_note_;
  return r;
}

Status RecommendService::PolicyFeatures(uint32_t user_iid, int64_t as_of,
                                        const RecommendResponse& candidates,
                                        const std::vector<std::string>& recommenders,
                                        const std::vector<bool>& is_reward, int64_t window_seconds,
                                        std::vector<float>* x, std::vector<int>* categories,
                                        std::vector<uint32_t>* iids) const {
  const size_t n = candidates.items.size();
  const size_t dim = policy::PolicyFeatureNames(recommenders).size();
  x->assign(n * dim, 0.0f);
  categories->assign(n, -1);
  iids->assign(n, 0);
  auto primary = [this](uint32_t iid) -> int {
    auto entry = catalog_->Get(iid);
    return entry && !entry->categories.empty() ? static_cast<int>(entry->categories[0]) : -1;
  };
  for (size_t a = 0; a < n; ++a) {
    auto iid = db_->FindItemIid(candidates.items[a].id);
    if (!iid) return Status::Internal("policy: unknown candidate " + candidates.items[a].id);
    (*iids)[a] = *iid;
    (*categories)[a] = primary(*iid);
  }
  // The user's consumption (events of positive weight, oldest first) and
  // recent rewarded events by category, before as_of.
  std::unordered_map<int, double> share, recent;
  std::unordered_map<uint32_t, double> times_shown;
  std::vector<uint32_t> last_list;
  if (user_iid != models::kUnknownUser) {
    std::vector<double> weight_by_type;
    for (const auto& t : db_->EventTypesById()) {
      if (t.id >= weight_by_type.size()) weight_by_type.resize(t.id + 1, 0.0);
      weight_by_type[t.id] = t.weight;
    }
    std::vector<uint32_t> consumed;
    RECDB_RETURN_IF_ERROR(db_->ScanUserEvents(
        user_iid, kMinTimestamp, std::max(kMinTimestamp, as_of),
        [&](const storage::StoredEvent& e) -> Status {
          if (e.type < weight_by_type.size() && weight_by_type[e.type] > 0) consumed.push_back(e.item);
          if (e.type < is_reward.size() && is_reward[e.type] && e.timestamp >= as_of - kRecentSeconds) {
            recent[primary(e.item)] += 1;
          }
          return Status::OK();
        }));
    std::vector<uint32_t> window;  // the last kConsumptionWindow distinct items
    for (auto it = consumed.rbegin(); it != consumed.rend() && window.size() < kConsumptionWindow;
         ++it) {
      if (std::find(window.begin(), window.end(), *it) == window.end()) window.push_back(*it);
    }
    for (uint32_t i : window) share[primary(i)] += 1.0 / static_cast<double>(window.size());
    RECDB_ASSIGN_OR_RETURN(std::vector<rerank::Shown> shown,
                           impressions_->UserImpressions(user_iid, std::max(kMinTimestamp, as_of - window_seconds),
                                                         std::max(kMinTimestamp, as_of)));
    for (const rerank::Shown& s : shown) {
      for (uint32_t i : s.items) times_shown[i] += 1;
    }
    if (!shown.empty()) last_list = shown.back().items;
  }
  double max_score = 1e-12;
  int64_t max_engaged = 0;
  std::vector<int64_t> engaged(n);
  for (size_t a = 0; a < n; ++a) {
    max_score = std::max(max_score, std::abs(candidates.items[a].score));
    engaged[a] = impressions_->Exposure((*iids)[a]).engagements;
    max_engaged = std::max(max_engaged, engaged[a]);
  }
  const double pop_norm = std::log1p(static_cast<double>(max_engaged) + 1.0);
  for (size_t a = 0; a < n; ++a) {
    const Recommendation& r = candidates.items[a];
    policy::CandidateFacts facts = policy::FactsFromRecommendation(r, a, recommenders);
    const int c = (*categories)[a];
    if (c >= 0) {
      if (auto it = share.find(c); it != share.end()) facts.category_share = it->second;
      if (auto it = recent.find(c); it != recent.end()) facts.category_recent_clicks = it->second;
    }
    facts.popularity = static_cast<double>(engaged[a]);
    if (auto it = times_shown.find((*iids)[a]); it != times_shown.end()) facts.times_shown = it->second;
    facts.shown_last =
        std::find(last_list.begin(), last_list.end(), (*iids)[a]) != last_list.end();
    policy::FillPolicyFeatures(facts, max_score, pop_norm, &(*x)[a * dim]);
  }
  return Status::OK();
}

LearnedPolicyReport RecommendService::TrainPolicy(const LearnedPolicyOptions& options,
                                                  const std::shared_ptr<const Model>& model,
                                                  uint64_t model_version,
                                                  uint64_t drops_at_start) {
  auto keep = [this](const std::string& why) {
    LearnedPolicyReport r = PolicyReport();
    r.note = why;
    return r;
  };
  if (!options.enabled) return keep("learned policy not retrained (LearnedPolicyOptions::enabled off)");
  if (options.pool < 1 || options.pool > kMaxRecommendK || options.k < 1 ||
      options.window_seconds <= 0 || options.reward_window_seconds <= 0 || options.steps < 0 ||
      !(options.entropy_weight >= 0)) {
    return keep("learned policy not retrained: invalid LearnedPolicyOptions");
  }
  const uint64_t covered_sequence = db_->store()->LatestSequenceNumber();
  std::vector<std::string> reward_names;
  auto is_reward = db_->RewardEventTypes({}, &reward_names);
  if (!is_reward.ok()) return keep("learned policy not retrained: " + is_reward.status().ToString());
  // The window ends at the newest impression with propensities.
  int64_t newest = kMinTimestamp - 1;
  Status scan = ForEachImpression([&](uint32_t, rerank::Shown shown) {
    if (!shown.propensities.empty()) newest = std::max(newest, shown.timestamp);
    return Status::OK();
  });
  if (!scan.ok()) return keep("learned policy not retrained: " + scan.ToString());

  const std::vector<std::string> recommenders = RecommenderNames(model.get());
  const size_t dim = policy::PolicyFeatureNames(recommenders).size();
  // The behaviour: the policy serving now drew the stochastic lists in the
  // window (those since its Train; earlier ones an earlier policy's). Its
  // softmax over the candidates as of each impression is the beta of the
  // correction: the logged propensities are the draw's slot marginals,
  // which do not determine it.
  std::shared_ptr<const policy::LearnedPolicy> behaviour;
  {
    std::lock_guard<std::mutex> lock(model_mu_);
    behaviour = policy_;
  }
  if (behaviour && behaviour->recommenders() != recommenders) behaviour.reset();
  LearnedPolicyReport report;
  std::vector<policy::LoggedList> lists;
  if (newest >= kMinTimestamp) {
    const int64_t since = newest - options.window_seconds + 1;
    scan = db_->ForEachRewardedImpression(
        since, newest + 1, options.reward_window_seconds, *is_reward,
        [&](const DBImpl::RewardedImpression& r) -> Status {
          const rerank::Shown& shown = *r.shown;
          if (shown.propensities.size() != shown.items.size()) return Status::OK();
          // Consent: a user who opted out of training teaches the policy nothing.
          if (!db_->UserConsent(r.user).training) return Status::OK();
          ++report.impressions;
          report.slots += static_cast<int64_t>(shown.items.size());
          if (std::none_of(r.rewards.begin(), r.rewards.end(), [](double v) { return v > 0; })) {
            return Status::OK();  // an unrewarded list adds nothing but to N
          }
          // The candidates as of the impression, from the serving model.
          RecommendRequest request;
          request.k = options.pool;
          request.now = shown.timestamp;
          request.exclude_seen = true;
          auto candidates = RecommendAsOf(request, r.user, shown.timestamp, model);
          if (!candidates.ok()) return candidates.status();
          policy::LoggedList list;
          list.when = shown.timestamp;
          std::vector<int> categories;
          std::vector<uint32_t> iids;
          RECDB_RETURN_IF_ERROR(PolicyFeatures(r.user, shown.timestamp, *candidates, recommenders,
                                               *is_reward, options.window_seconds, &list.features,
                                               &categories, &iids));
          list.n = iids.size();
          // beta, the logger's per-item probability: 1 for a deterministic
          // logger (propensities 1, 1, ...); for a stochastic list, the
          // serving policy's softmax probability of the item among these
          // candidates; with no policy serving (a list some other
          // stochastic logger drew), recovered from the propensities as if
          // they were a Plackett-Luce draw's conditional ones.
          const bool deterministic =
              std::all_of(shown.propensities.begin(), shown.propensities.end(),
                          [](double p) { return p >= 1.0; });
          std::vector<double> pi_b;
          if (!deterministic && behaviour) {
            pi_b = policy::SoftmaxProbabilities(list.features, dim, behaviour->theta());
          }
          double remaining = 1.0;
          for (size_t j = 0; j < shown.items.size(); ++j) {
            const double p = shown.propensities[j];
            double beta = remaining > 1e-9 ? p * remaining : p;
            remaining = std::max(0.0, remaining - beta);
            if (deterministic) beta = 1.0;
            if (r.rewards[j] > 0) ++report.rewarded_slots;
            auto it = std::find(iids.begin(), iids.end(), shown.items[j]);
            if (it == iids.end()) {
              if (r.rewards[j] > 0) ++report.slots_outside_pool;
              continue;
            }
            const auto a = static_cast<size_t>(it - iids.begin());
            if (!pi_b.empty()) beta = pi_b[a];
            list.shown.push_back(a);
            list.beta.push_back(beta);
            list.reward.push_back(r.rewards[j]);
          }
          if (!list.shown.empty()) lists.push_back(std::move(list));
          return Status::OK();
        });
    if (!scan.ok()) return keep("learned policy not retrained: " + scan.ToString());
  }
  if (report.impressions == 0) {
    // Nothing to learn from (none recorded, or all forgotten): no policy.
    std::lock_guard<std::mutex> file_lock(model_file_mu_);
    if (!db_->options().read_only) (void)::unlink(PolicyPath().c_str());  // absent is fine
    std::lock_guard<std::mutex> lock(model_mu_);
    policy_.reset();
    policy_note_ = "no learned policy: no impressions with propensities to learn from (record "
                   "them with ImpressionContext::propensities, then Train)";
    report.note = policy_note_;
    return report;
  }
  policy::ReinforceSettings s;
  s.dim = dim;
  s.k = options.k;
  s.weight_cap = options.weight_cap;
  s.l2 = options.l2;
  s.total_slots = std::max<double>(1.0, static_cast<double>(report.slots));
  s.entropy_weight = options.entropy_weight;
  policy::AdamSettings adam;
  adam.learning_rate = options.learning_rate;
  adam.steps = options.steps;
  const size_t habit = policy::HabitFeatureIndex(recommenders.size());
  adam.bounded = {habit, habit + 1};
  adam.upper_bound = options.max_habit_weight;
  std::vector<double> theta =
      policy::LearnedPolicy::InitialTheta(recommenders.size(), options.temperature);
  policy::TrainReinforce(lists, s, adam, &theta);
  report.version = model_version;
  report.covered_sequence = covered_sequence;
  policy::LearnedPolicy::Settings settings;
  settings.seed = options.seed;
  settings.pool = options.pool;
  settings.k = options.k;
  settings.max_per_category = options.max_per_category;
  settings.window_seconds = options.window_seconds;
  auto trained = std::make_shared<const policy::LearnedPolicy>(recommenders, std::move(theta),
                                                               settings, report);
  std::string problem;
  if (!db_->options().read_only) {
    std::lock_guard<std::mutex> file_lock(model_file_mu_);
    if (model_file_drops_.load() != drops_at_start) {
      problem = "learned policy file not written: a user was forgotten while it trained";
    } else {
      ModelFileHeader header;
      header.covered_sequence = covered_sequence;
      header.model_version = model_version;
      header.events = static_cast<uint64_t>(report.slots);
      header.trained_at = db_->clock()->NowSeconds();
      if (Status saved = WriteModelFile(db_->env(), PolicyPath(), header, trained->Encode());
          !saved.ok()) {
        problem = "learned policy file not written: " + saved.ToString();
      }
    }
  }
  LearnedPolicyReport out = trained->report();
  out.note = problem;
  std::lock_guard<std::mutex> lock(model_mu_);
  policy_ = std::move(trained);
  policy_note_ = problem;
  return out;
}

void RecommendService::LoadStoredPolicy() {
  auto file = ReadModelFile(db_->env(), PolicyPath());
  std::lock_guard<std::mutex> lock(model_mu_);
  if (file.status().IsNotFound()) return;
  if (!file.ok()) {
    policy_note_ = "stored learned policy not used: " + file.status().ToString();
    return;
  }
  auto decoded = policy::LearnedPolicy::Decode(file->payload());
  if (!decoded.ok()) {
    policy_note_ = "stored learned policy not used: " + decoded.status().ToString();
    return;
  }
  LearnedPolicyReport report = decoded->report();
  report.version = file->header.model_version;
  report.covered_sequence = file->header.covered_sequence;
  policy_ = std::make_shared<const policy::LearnedPolicy>(
      decoded->recommenders(), decoded->theta(), decoded->settings(), report);
  policy_note_.clear();
}

StatusOr<RecommendResponse> RecommendService::ServeLearned(
    const std::shared_ptr<const Model>& model, const RecommendRequest& request, uint32_t user_iid,
    bool personal) const {
  std::shared_ptr<const policy::LearnedPolicy> learned;
  std::string note;
  {
    std::lock_guard<std::mutex> lock(model_mu_);
    learned = policy_;
    note = policy_note_;
  }
  const std::vector<std::string> recommenders = RecommenderNames(model.get());
  if (learned && learned->recommenders() != recommenders) {
    learned.reset();
    note = "the learned policy was trained for other recommenders than the serving model's; "
           "Train again";
  }
  if (!learned) {
    RECDB_ASSIGN_OR_RETURN(RecommendResponse fused, Serve(model, request, user_iid, personal));
    fused.policy = "fused";
    fused.policy_note = note.empty() ? "no learned policy: no impressions with propensities to "
                                       "learn from (record them with ImpressionContext::"
                                       "propensities, then Train)"
                                     : note;
    return fused;
  }
  RecommendRequest pool_request = request;
  pool_request.k = std::max(request.k, learned->settings().pool);
  RECDB_ASSIGN_OR_RETURN(RecommendResponse candidates,
                         Serve(model, pool_request, user_iid, personal));
  const int64_t now = request.now != 0 ? request.now : db_->clock()->NowSeconds();
  std::vector<std::string> reward_names;
  RECDB_ASSIGN_OR_RETURN(std::vector<bool> is_reward, db_->RewardEventTypes({}, &reward_names));
  std::vector<float> x;
  std::vector<int> categories;
  std::vector<uint32_t> iids;
  // Consent: without personalisation the user's own logs do not shape the draw.
  RECDB_RETURN_IF_ERROR(PolicyFeatures(personal ? user_iid : models::kUnknownUser, now, candidates,
                                       recommenders, is_reward,
                                       learned->settings().window_seconds, &x, &categories,
                                       &iids));
  const uint64_t user_key = user_iid != models::kUnknownUser
                                ? static_cast<uint64_t>(user_iid)
                                : UserKey(request.user) ^ 0x8000000000000000ull;
  std::vector<double> propensities;
  const std::vector<size_t> picks =
      learned->Draw(x, categories, request.k, user_key, now, &propensities);
  RecommendResponse out;
  out.model_version = candidates.model_version;
  out.policy = "learned";
  for (size_t j = 0; j < picks.size(); ++j) {
    Recommendation r = candidates.items[picks[j]];
    r.propensity = propensities[j];
    const std::string strongest = learned->StrongestFeatures(x, picks[j]);
    char p[32];
    std::snprintf(p, sizeof(p), "%.3g", propensities[j]);
    Evidence e;
    e.kind = "learned_policy";
    e.share = propensities[j];
    e.text = "drawn by the learned policy (probability " + std::string(p) +
             " at this position; strongest features: " + strongest + ")";
    r.explanation.evidence.insert(r.explanation.evidence.begin(), std::move(e));
    r.explanation.sentence = "Chosen by the learned policy from recdb's recommendations (" +
                             strongest + "). " + r.explanation.sentence;
    out.items.push_back(std::move(r));
  }
  return out;
}

}  // namespace recdb
