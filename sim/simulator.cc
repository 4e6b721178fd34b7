#include "sim/simulator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "recdb/off_policy.h"
#include "sim/metrics.h"
#include "sim/policy.h"
#include "tools/import/synthetic_world.h"

namespace recdb::sim {
namespace {

using tools::SyntheticWorld;

// What every policy's world starts from (shared, read-only).
struct Setup {
  std::unique_ptr<SyntheticWorld> world;
  int64_t first_new = 0;           // items [first_new, items) are withheld
  std::vector<int> release_round;  // by new item (index - first_new)
  std::vector<UserState> users;    // initial states
  std::vector<std::vector<Event>> history;
  int64_t sim_start = 0;  // the time of round 0
  std::vector<int> categories;  // by item: primary category
};

// One policy's world.
struct PolicyRun {
  std::unique_ptr<Policy> policy;
  std::unique_ptr<DB> db;
  std::vector<UserState> users;
  std::vector<int64_t> live_items;
  std::vector<int> first_exposure;  // by new item; -1 = not yet
  bool trained = false;
  std::map<std::string, double> first_weights;  // learned by the first Train
  int64_t left = 0;
  double cumulative = 0;
  std::vector<RoundMetrics> metrics;
  // This round, by user: the list and each slot's reward (empty if inactive).
  std::vector<Slate> slates;
  std::vector<std::vector<double>> rewards;
  double seconds = 0;
};

// Off-policy accumulators for one candidate: the estimator (recdb/off_policy.h,
// shared with `recdb eval --off-policy`) and what it is checked against.
struct OffPolicyAcc {
  MeanAccumulator truth, counterfactual, own_state, with_candidate_repeats, unsupported;
  OffPolicyEstimator estimator;
};

StatusOr<std::unique_ptr<Policy>> MakePolicy(const std::string& name, const CareOptions& care,
                                             const SimOptions& o) {
  if (name == "learned") {
    LearnedOptions lo = o.learned;
    lo.k = o.k;
    return MakeLearnedPolicy(lo);
  }
  if (name == "fused") return MakeFusedPolicy();
  if (name == "fused+care") return MakeCarePolicy(care);
  if (name == "popularity") return MakePopularityPolicy();
  if (name == "random") return MakeRandomPolicy();
  if (name == "recdb-learned") return MakeDatabaseLearnedPolicy();
  return Status::InvalidArgument("unknown policy '" + name +
                                 "' (fused, fused+care, popularity, random, learned, "
                                 "recdb-learned)");
}

bool IsPositive(const std::string& type) { return type != "view"; }

Setup MakeSetup(const SimOptions& o) {
  Setup s;
  tools::SyntheticWorldOptions wo;
  wo.seed = o.seed;
  wo.users = o.users;
  wo.items = o.items;
  wo.events = o.users * o.history_events;
  s.world = std::make_unique<SyntheticWorld>(wo);
  const int64_t n_new = o.new_items >= 0 ? std::min(o.new_items, o.items - 1) : o.items / 20;
  s.first_new = o.items - n_new;
  const int half = std::max(1, o.rounds / 2);
  for (int64_t j = 0; j < n_new; ++j) {
    s.release_round.push_back(1 + static_cast<int>(j * half / std::max<int64_t>(1, n_new)));
  }
  s.sim_start = wo.start_ts + wo.days * 86400;
  for (int64_t i = 0; i < o.items; ++i) s.categories.push_back(s.world->ItemCategory(i));
  s.users.resize(static_cast<size_t>(o.users));
  s.history.resize(static_cast<size_t>(o.users));
  for (int64_t u = 0; u < o.users; ++u) {
    UserState& st = s.users[static_cast<size_t>(u)];
    std::unordered_set<int64_t> positive;  // each consumed item counts once
    for (Event& e : s.world->UserEvents(u)) {
      const int64_t i = ItemIndex(e.item);
      if (i >= s.first_new) continue;
      st.consumed.insert(i);
      if (IsPositive(e.type) && positive.insert(i).second) {
        st.window.push_back(s.world->ItemCategory(i));
        if (st.window.size() > o.window) st.window.pop_front();
      }
      s.history[static_cast<size_t>(u)].push_back(std::move(e));
    }
    if (st.window.size() == o.window) {
      st.has_start = true;
      st.start_entropy = EntropyBits(std::vector<int>(st.window.begin(), st.window.end()));
    }
  }
  return s;
}

Status LoadWorld(const SimOptions& o, const Setup& s, DB* db) {
  std::vector<Item> items;
  for (int64_t i = 0; i < s.first_new; ++i) {
    items.push_back(s.world->ItemAt(i));
    if (items.size() == 10000 || i + 1 == s.first_new) {
      RECDB_RETURN_IF_ERROR(db->UpsertItems({}, items));
      items.clear();
    }
  }
  std::vector<User> users;
  for (int64_t u = 0; u < o.users; ++u) {
    users.push_back(s.world->UserAt(u));
    users.back().consent = Consent{};  // every simulated user consents
    if (users.size() == 10000 || u + 1 == o.users) {
      RECDB_RETURN_IF_ERROR(db->UpsertUsers({}, users));
      users.clear();
    }
  }
  std::vector<Event> batch;
  for (const auto& h : s.history) {
    for (const Event& e : h) {
      batch.push_back(e);
      if (batch.size() == 10000) {
        RECDB_RETURN_IF_ERROR(db->RecordEvents({}, batch));
        batch.clear();
      }
    }
  }
  if (!batch.empty()) RECDB_RETURN_IF_ERROR(db->RecordEvents({}, batch));
  return Status::OK();
}

// The world time whose taste holds at round t (ResponseOptions::drift).
int64_t TasteTime(const SimOptions& o, const SyntheticWorld& w, int round) {
  const double drift = std::clamp(o.response.drift, 0.0, 1.0);
  const double f = (1.0 - drift) + drift * static_cast<double>(round) / std::max(1, o.rounds);
  const double span = static_cast<double>(w.options().days) * 86400.0;
  return w.options().start_ts + static_cast<int64_t>(std::floor(f * span));
}

Status StepRound(const SimOptions& o, const Setup& s, const ResponseModel& model, int t,
                 PolicyRun* run) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t now = s.sim_start + static_cast<int64_t>(t) * 86400;
  DB* db = run->db.get();
  Policy* policy = run->policy.get();
  if (policy->UsesModel() && (t - 1) % std::max(1, o.retrain_every) == 0) {
    TrainOptions to;
    to.threads = o.train_threads;
    to.incremental = run->trained;
    // The database's own learned policy (engine/policy/README.md) is
    // trained only where it serves (recdb-learned); in every other
    // database it would only cost time. The simulator's `learned` keeps
    // its own log and schedule.
    to.learned_policy.enabled = policy->ServesDatabasePolicy();
    to.learned_policy.k = o.k;
    auto report = db->Train(to);
    if (!report.ok()) return report.status();
    RECDB_RETURN_IF_ERROR(policy->OnTrained(*report));
    if (!run->trained) run->first_weights = report->weights;
    run->trained = true;
  }
  RECDB_RETURN_IF_ERROR(policy->BeginRound(t));
  // Release the new items due this round.
  std::vector<Item> released;
  for (size_t j = 0; j < s.release_round.size(); ++j) {
    if (s.release_round[j] != t) continue;
    const int64_t i = s.first_new + static_cast<int64_t>(j);
    Item item = s.world->ItemAt(i);
    item.created_at = now;
    released.push_back(std::move(item));
    run->live_items.push_back(i);
  }
  if (!released.empty()) RECDB_RETURN_IF_ERROR(db->UpsertItems({}, released));

  RoundMetrics m;
  std::vector<double> shown(static_cast<size_t>(o.items), 0.0);
  std::vector<Event> events;
  double entropy_sum = 0, change_sum = 0, taste_sum = 0;
  int64_t served = 0, shown_slots = 0;
  double repeat_sum = 0;
  int64_t repeat_users = 0;
  for (int64_t u = 0; u < o.users; ++u) {
    UserState& st = run->users[static_cast<size_t>(u)];
    const std::unordered_set<int64_t> previous(run->slates[static_cast<size_t>(u)].items.begin(),
                                               run->slates[static_cast<size_t>(u)].items.end());
    run->slates[static_cast<size_t>(u)] = Slate{};
    run->rewards[static_cast<size_t>(u)].clear();
    if (!st.active) continue;
    ++m.active_users;
    RankContext ctx;
    ctx.user = u;
    ctx.round = t;
    ctx.now = now;
    ctx.k = o.k;
    ctx.seed = o.seed;
    ctx.live_items = &run->live_items;
    ctx.consumed = &st.consumed;
    ctx.state = &st;
    ctx.categories = &s.categories;
    auto slate = policy->Rank(db, ctx);
    if (!slate.ok()) return slate.status();
    if (!previous.empty() && !slate->items.empty()) {
      int64_t again = 0;
      for (int64_t i : slate->items) again += previous.count(i) ? 1 : 0;
      repeat_sum += static_cast<double>(again) / static_cast<double>(slate->items.size());
      ++repeat_users;
    }
    std::vector<int> cats;
    std::vector<std::string> ids;
    for (int64_t i : slate->items) {
      cats.push_back(s.world->ItemCategory(i));
      ids.push_back(SyntheticWorld::ItemId(i));
      shown[static_cast<size_t>(i)] += 1;
      if (i >= s.first_new && run->first_exposure[static_cast<size_t>(i - s.first_new)] < 0) {
        run->first_exposure[static_cast<size_t>(i - s.first_new)] = t;
      }
    }
    const std::string uid = SyntheticWorld::UserId(u);
    const auto taste = s.world->UserTaste(u, TasteTime(o, *s.world, t));
    const auto resp = model.Respond(st, taste, slate->items, cats, u, t);
    for (int c : cats) taste_sum += taste[static_cast<size_t>(c)];
    shown_slots += static_cast<int64_t>(cats.size());
    bool clicked = false;
    std::vector<double> rewards(resp.size(), 0.0);
    for (size_t j = 0; j < resp.size(); ++j) {
      if (!resp[j].click) continue;
      clicked = true;
      ++m.clicks;
      rewards[j] += 1;
      Event e;
      e.user = uid;
      e.item = ids[j];
      e.type = "click";
      e.timestamp = now + static_cast<int64_t>(j);
      events.push_back(e);
      if (resp[j].purchase) {
        ++m.purchases;
        rewards[j] += 1;
        e.type = "purchase";
        events.push_back(std::move(e));
      }
    }
    policy->OnFeedback(ctx, *slate, rewards);
    model.Update(&st, slate->items, cats, resp, o.window);
    if (!ids.empty()) {
      ImpressionContext ic;
      ic.timestamp = now;
      ic.propensities = slate->propensities;
      RECDB_RETURN_IF_ERROR(db->RecordImpressions({}, uid, ids, ic));
    }
    if (st.window.size() == o.window) {
      const double h = EntropyBits(std::vector<int>(st.window.begin(), st.window.end()));
      if (!st.has_start) {
        st.has_start = true;
        st.start_entropy = h;
      }
      entropy_sum += h;
      change_sum += h - st.start_entropy;
      ++served;
    }
    run->slates[static_cast<size_t>(u)] = std::move(*slate);
    run->rewards[static_cast<size_t>(u)] = std::move(rewards);
    if (model.Leaves(u, t, clicked)) {
      st.active = false;
      ++run->left;
    }
  }
  for (size_t b = 0; b < events.size(); b += 10000) {
    std::vector<Event> batch(events.begin() + static_cast<std::ptrdiff_t>(b),
                             events.begin() + static_cast<std::ptrdiff_t>(
                                                  std::min(events.size(), b + 10000)));
    RECDB_RETURN_IF_ERROR(db->RecordEvents({}, batch));
  }
  m.reward = static_cast<double>(m.clicks + m.purchases);
  if (shown_slots > 0) m.mean_shown_taste = taste_sum / static_cast<double>(shown_slots);
  if (repeat_users > 0) m.repeat_share = repeat_sum / static_cast<double>(repeat_users);
  run->cumulative += m.reward;
  m.cumulative_reward = run->cumulative;
  if (served > 0) {
    m.mean_entropy = entropy_sum / static_cast<double>(served);
    m.mean_entropy_change = change_sum / static_cast<double>(served);
  }
  std::vector<double> live_shown;
  for (int64_t i : run->live_items) live_shown.push_back(shown[static_cast<size_t>(i)]);
  m.exposure_gini = Gini(live_shown);
  m.coverage = Coverage(live_shown);
  double ttfe = 0;
  for (size_t j = 0; j < s.release_round.size(); ++j) {
    if (s.release_round[j] > t) continue;
    ++m.new_released;
    if (run->first_exposure[j] >= 0) {
      ++m.new_exposed;
      ttfe += run->first_exposure[j] - s.release_round[j];
    }
  }
  if (m.new_exposed > 0) m.mean_rounds_to_first_exposure = ttfe / static_cast<double>(m.new_exposed);
  m.users_left = run->left;
  run->metrics.push_back(m);
  run->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Status::OK();
}

// `before`: the logger's users as they were when shown this round's lists;
// `cand_before`: the candidate's.
void AccumulateOffPolicy(const SimOptions& o, const Setup& s, const ResponseModel& model, int t,
                         const PolicyRun& logger, const std::vector<UserState>& before,
                         const PolicyRun& cand, const std::vector<UserState>& cand_before,
                         OffPolicyAcc* acc) {
  for (size_t u = 0; u < cand.slates.size(); ++u) {
    const Slate& a = logger.slates[u];
    const Slate& b = cand.slates[u];
    const size_t n = std::min(a.items.size(), b.items.size());
    if (n == 0) continue;
    const auto taste = s.world->UserTaste(static_cast<int64_t>(u), TasteTime(o, *s.world, t));
    // The logger's user with the candidate's impression history (repeat
    // satiation) and everything else the logger's (recent clicks).
    UserState mixed;
    mixed.shown = cand_before[u].shown;
    mixed.recent_clicks = before[u].recent_clicks;
    for (size_t j = 0; j < n; ++j) {
      acc->truth.Add(cand.rewards[u][j]);
      // The expected reward of the candidate's item at this slot for the
      // logger's user in the logger's world: what IPS estimates, exactly.
      const int c = s.world->ItemCategory(b.items[j]);
      const double buy = 1.0 + model.PurchaseProbability(taste, c);
      acc->counterfactual.Add(model.ClickProbability(before[u], taste, b.items[j], c, j) * buy);
      acc->own_state.Add(model.ClickProbability(cand_before[u], taste, b.items[j], c, j) * buy);
      acc->with_candidate_repeats.Add(model.ClickProbability(mixed, taste, b.items[j], c, j) * buy);
      acc->unsupported.Add(before[u].consumed.count(b.items[j]) ? 1.0 : 0.0);
    }
    acc->estimator.AddImpression(static_cast<int64_t>(u), a.items, a.propensities,
                                 logger.rewards[u], b.items);
  }
}

// Runs fn(0..n-1) on up to `threads` threads; returns the first error by index.
Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  std::vector<Status> st(n);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) st[i] = fn(i);
  };
  std::vector<std::thread> pool;
  const size_t workers = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  for (auto& s : st) RECDB_RETURN_IF_ERROR(s);
  return Status::OK();
}

}  // namespace

StatusOr<SimResult> RunSimulation(const SimOptions& o) {
  if (o.users < 1 || o.items < 2 || o.rounds < 1 || o.k < 1 || o.k > kMaxRecommendK) {
    return Status::InvalidArgument("sim: need users >= 1, items >= 2, rounds >= 1, 1 <= k <= 1000");
  }
  if (o.work_dir.empty()) return Status::InvalidArgument("sim: no work directory");
  SimResult result;
  result.options = o;
  auto care = CarePreset(o.care_preset);
  if (!care.ok()) return care.status();
  if (o.care_diversity >= 0) care->diversity = o.care_diversity;
  if (o.care_calibration >= 0) care->calibration = o.care_calibration;
  if (o.care_calibration_recent >= 0) {
    care->calibration_recent_items = static_cast<size_t>(o.care_calibration_recent);
  }
  if (o.care_exploration >= 0) care->exploration = o.care_exploration;
  if (o.rotate_after < 0) return Status::InvalidArgument("sim: rotate_after must be >= 0");
  care->rotate_after_impressions = o.rotate_after;
  result.care = *care;
  const Setup setup = MakeSetup(o);
  const ResponseModel model(o.response, o.seed,
                            static_cast<int>(SyntheticWorld::Categories().size()));

  std::vector<PolicyRun> runs(o.policies.size());
  for (size_t p = 0; p < runs.size(); ++p) {
    auto policy = MakePolicy(o.policies[p], result.care, o);
    if (!policy.ok()) return policy.status();
    runs[p].policy = std::move(*policy);
  }
  RECDB_RETURN_IF_ERROR(ParallelFor(runs.size(), o.threads, [&](size_t p) -> Status {
    PolicyRun& run = runs[p];
    Options opt;
    opt.create_if_missing = true;
    opt.background_threads = 0;
    opt.care.rotate_after_impressions = o.rotate_after;
    const std::string dir = o.work_dir + "/" + std::to_string(p);
    auto db = DB::Open(opt, dir);
    if (!db.ok()) return db.status();
    run.db = std::move(*db);
    RECDB_RETURN_IF_ERROR(LoadWorld(o, setup, run.db.get()));
    run.users = setup.users;
    for (int64_t i = 0; i < setup.first_new; ++i) run.live_items.push_back(i);
    run.first_exposure.assign(setup.release_round.size(), -1);
    run.slates.resize(static_cast<size_t>(o.users));
    run.rewards.resize(static_cast<size_t>(o.users));
    return Status::OK();
  }));

  double start_entropy = 0;
  int64_t full = 0;
  for (const auto& u : setup.users) {
    if (!u.has_start) continue;
    start_entropy += u.start_entropy;
    ++full;
  }
  if (full > 0) start_entropy /= static_cast<double>(full);

  // The loggers that run, in ope_loggers order.
  std::vector<size_t> loggers;
  for (const auto& name : o.ope_loggers) {
    auto it = std::find(o.policies.begin(), o.policies.end(), name);
    const auto lp = static_cast<size_t>(it - o.policies.begin());
    if (it != o.policies.end() && std::find(loggers.begin(), loggers.end(), lp) == loggers.end()) {
      loggers.push_back(lp);
    }
  }
  std::map<std::pair<size_t, std::string>, OffPolicyAcc> acc;  // (logger, candidate)
  std::vector<std::vector<UserState>> before(runs.size());  // users as each round began
  for (int t = 1; t <= o.rounds; ++t) {
    if (!loggers.empty()) {
      for (size_t p = 0; p < runs.size(); ++p) before[p] = runs[p].users;
    }
    RECDB_RETURN_IF_ERROR(ParallelFor(runs.size(), o.threads, [&](size_t p) {
      return StepRound(o, setup, model, t, &runs[p]);
    }));
    for (size_t lp : loggers) {
      for (size_t p = 0; p < runs.size(); ++p) {
        if (p == lp) continue;
        AccumulateOffPolicy(o, setup, model, t, runs[lp], before[lp], runs[p], before[p],
                            &acc[{lp, o.policies[p]}]);
      }
    }
  }
  for (size_t p = 0; p < runs.size(); ++p) {
    result.rounds[o.policies[p]] = runs[p].metrics;
    result.start_entropy[o.policies[p]] = start_entropy;
    result.seconds[o.policies[p]] = runs[p].seconds;
    result.first_weights[o.policies[p]] = runs[p].first_weights;
    result.parameters[o.policies[p]] = runs[p].policy->Parameters();
    RECDB_RETURN_IF_ERROR(runs[p].db->Close());
  }
  for (auto& [key, a] : acc) {
    const std::string& name = key.second;
    const recdb::OffPolicyEstimate est = a.estimator.Estimate();
    OffPolicyEstimate e;
    e.logger = o.policies[key.first];
    e.slots = est.slots;
    e.matches = est.matches;
    e.ips = est.ips;
    e.ips_half_width = est.ips_half_width;
    e.snips = est.snips;
    e.snips_half_width = est.snips_half_width;
    e.truth = a.truth.mean();
    e.truth_half_width = a.truth.HalfWidth95();
    e.counterfactual = a.counterfactual.mean();
    const bool matched = est.matches > 0;
    e.truth_in_ips_interval = std::abs(e.truth - e.ips) <= e.ips_half_width;
    e.truth_in_snips_interval = matched && std::abs(e.truth - e.snips) <= e.snips_half_width;
    e.counterfactual_in_ips_interval = std::abs(e.counterfactual - e.ips) <= e.ips_half_width;
    e.counterfactual_in_snips_interval =
        matched && std::abs(e.counterfactual - e.snips) <= e.snips_half_width;
    e.own_state_expected = a.own_state.mean();
    e.counterfactual_with_candidate_repeats = a.with_candidate_repeats.mean();
    e.unsupported_share = a.unsupported.mean();
    e.repeat_share = est.slots > 0 ? static_cast<double>(est.repeat_slots) / est.slots : 0.0;
    e.fresh_ips = est.fresh_ips;
    e.fresh_ips_half_width = est.fresh_ips_half_width;
    e.bound_low = est.bound_low;
    e.bound_high = est.bound_high;
    e.truth_in_bounds = e.truth >= e.bound_low && e.truth <= e.bound_high;
    if (key.first == loggers.front()) {
      result.off_policy[name] = e;
    } else {
      result.off_policy_from[e.logger][name] = e;
    }
  }
  return result;
}

namespace {

using Json = nlohmann::ordered_json;

double Round6(double x) { return std::round(x * 1e6) / 1e6; }

Json OffPolicyJson(const OffPolicyEstimate& e) {
  return Json{{"logger", e.logger},
              {"slots", e.slots},
              {"matches", e.matches},
              {"ips", Round6(e.ips)},
              {"ips_ci95", {Round6(e.ips - e.ips_half_width), Round6(e.ips + e.ips_half_width)}},
              {"snips", Round6(e.snips)},
              {"snips_ci95",
               {Round6(e.snips - e.snips_half_width), Round6(e.snips + e.snips_half_width)}},
              {"truth", Round6(e.truth)},
              {"truth_ci95",
               {Round6(e.truth - e.truth_half_width), Round6(e.truth + e.truth_half_width)}},
              {"truth_in_ips_ci95", e.truth_in_ips_interval},
              {"truth_in_snips_ci95", e.truth_in_snips_interval},
              {"counterfactual", Round6(e.counterfactual)},
              {"counterfactual_in_ips_ci95", e.counterfactual_in_ips_interval},
              {"counterfactual_in_snips_ci95", e.counterfactual_in_snips_interval},
              {"own_state_expected", Round6(e.own_state_expected)},
              {"counterfactual_with_candidate_repeats",
               Round6(e.counterfactual_with_candidate_repeats)},
              {"unsupported_share", Round6(e.unsupported_share)},
              {"repeat_share", Round6(e.repeat_share)},
              {"fresh_ips", Round6(e.fresh_ips)},
              {"fresh_ips_ci95", {Round6(e.fresh_ips - e.fresh_ips_half_width),
                                  Round6(e.fresh_ips + e.fresh_ips_half_width)}},
              {"closed_loop_bounds", {Round6(e.bound_low), Round6(e.bound_high)}},
              {"truth_in_closed_loop_bounds", e.truth_in_bounds}};
}

struct MetricDef {
  const char* name;
  const char* label;
  double (*get)(const RoundMetrics&);
};

const std::vector<MetricDef>& Metrics() {
  static const std::vector<MetricDef> kDefs = {
      {"reward", "reward (clicks + purchases) per round",
       [](const RoundMetrics& m) { return m.reward; }},
      {"cumulative_reward", "cumulative reward", [](const RoundMetrics& m) { return m.cumulative_reward; }},
      {"mean_entropy", "mean consumption entropy (bits, last N consumed)",
       [](const RoundMetrics& m) { return m.mean_entropy; }},
      {"mean_entropy_change", "mean change of entropy vs own start (bits)",
       [](const RoundMetrics& m) { return m.mean_entropy_change; }},
      {"exposure_gini", "Gini of impressions over items (per round)",
       [](const RoundMetrics& m) { return m.exposure_gini; }},
      {"coverage", "catalog coverage (share of items shown per round)",
       [](const RoundMetrics& m) { return m.coverage; }},
      {"new_exposed_share", "share of released new items shown at least once",
       [](const RoundMetrics& m) {
         return m.new_released ? static_cast<double>(m.new_exposed) / m.new_released : 0.0;
       }},
      {"mean_rounds_to_first_exposure", "mean rounds to first exposure (exposed new items)",
       [](const RoundMetrics& m) { return m.mean_rounds_to_first_exposure; }},
      {"mean_shown_taste", "mean latent taste for the shown items' categories",
       [](const RoundMetrics& m) { return m.mean_shown_taste; }},
      {"repeat_share", "share of a list also in the user's previous list",
       [](const RoundMetrics& m) { return m.repeat_share; }},
      {"users_left", "users who left (cumulative)",
       [](const RoundMetrics& m) { return static_cast<double>(m.users_left); }},
      {"active_users", "active users", [](const RoundMetrics& m) { return static_cast<double>(m.active_users); }},
  };
  return kDefs;
}

}  // namespace

std::string ResultJson(const SimResult& r) {
  const SimOptions& o = r.options;
  Json j;
  j["recdb_sim"] = 1;
  Json p;
  p["seed"] = o.seed;
  p["users"] = o.users;
  p["items"] = o.items;
  p["rounds"] = o.rounds;
  p["k"] = o.k;
  p["history_events"] = o.history_events;
  p["retrain_every"] = o.retrain_every;
  p["new_items"] = o.new_items;
  p["window"] = o.window;
  p["train_threads"] = o.train_threads;
  p["policies"] = o.policies;
  p["care_preset"] = o.care_preset;
  p["rotate_after"] = o.rotate_after;
  p["care"] = {{"diversity", r.care.diversity},
               {"calibration", r.care.calibration},
               {"calibration_recent_items", r.care.calibration_recent_items},
               {"fair_share", r.care.fair_share},
               {"exploration", r.care.exploration},
               {"candidate_factor", r.care.candidate_factor},
               {"rotate_after_impressions", r.care.rotate_after_impressions}};
  const ResponseOptions& ro = o.response;
  p["response"] = {{"position_bias", ro.position_bias},
                   {"click_scale", ro.click_scale},
                   {"purchase_rate", ro.purchase_rate},
                   {"repeat_satiation", ro.repeat_satiation},
                   {"repeat_half_life", ro.repeat_half_life},
                   {"category_satiation", ro.category_satiation},
                   {"satiation_rounds", ro.satiation_rounds},
                   {"quality_spread", ro.quality_spread},
                   {"leave_base", ro.leave_base},
                   {"leave_no_click", ro.leave_no_click},
                   {"drift", ro.drift}};
  const bool has_learned =
      std::find(o.policies.begin(), o.policies.end(), "learned") != o.policies.end();
  if (has_learned) {
    const LearnedOptions& lo = o.learned;
    p["learned"] = {{"learn_rounds", lo.learn_rounds},   {"update_every", lo.update_every},
                    {"train_window", lo.train_window},   {"pool", lo.pool},
                    {"temperature", lo.temperature},     {"weight_cap", lo.weight_cap},
                    {"l2", lo.l2},                       {"learning_rate", lo.learning_rate},
                    {"steps", lo.steps},
                    {"entropy_weight", lo.entropy_weight},
                    {"novelty_bonus", lo.novelty_bonus},
                    {"max_habit_weight", std::isfinite(lo.max_habit_weight) ? Json(lo.max_habit_weight) : Json("inf")},
                    {"max_per_category", lo.max_per_category}};
  }
  p["ope_loggers"] = o.ope_loggers;
  j["parameters"] = p;
  Json metrics;
  for (const auto& def : Metrics()) {
    Json by_policy;
    for (const auto& name : o.policies) {
      Json series = Json::array();
      for (const auto& m : r.rounds.at(name)) series.push_back(Round6(def.get(m)));
      by_policy[name] = series;
    }
    metrics[def.name] = by_policy;
  }
  j["metrics"] = metrics;
  Json summary;
  for (const auto& name : o.policies) {
    const auto& ms = r.rounds.at(name);
    Json s;
    s["cumulative_reward"] = ms.empty() ? 0.0 : ms.back().cumulative_reward;
    s["start_entropy"] = Round6(r.start_entropy.at(name));
    s["end_entropy"] = ms.empty() ? 0.0 : Round6(ms.back().mean_entropy);
    s["entropy_change"] = ms.empty() ? 0.0 : Round6(ms.back().mean_entropy_change);
    s["users_left"] = ms.empty() ? 0 : ms.back().users_left;
    Json w = Json::object();
    for (const auto& [rec, x] : r.first_weights.at(name)) w[rec] = Round6(x);
    s["first_train_weights"] = w;
    if (r.parameters.count(name) && !r.parameters.at(name).empty()) {
      Json theta = Json::object();
      for (const auto& [f, x] : r.parameters.at(name)) theta[f] = Round6(x);
      s["policy_parameters"] = theta;
    }
    summary[name] = s;
  }
  j["summary"] = summary;
  Json ope;
  for (const auto& [name, e] : r.off_policy) ope[name] = OffPolicyJson(e);
  j["off_policy"] = ope;
  if (!r.off_policy_from.empty()) {
    Json from;
    for (const auto& [logger, by] : r.off_policy_from) {
      for (const auto& [name, e] : by) from[logger][name] = OffPolicyJson(e);
    }
    j["off_policy_from"] = from;
  }
  // Issue #22's bar for care, when both policies ran.
  if (r.rounds.count("fused") && r.rounds.count("fused+care") && !r.rounds.at("fused").empty()) {
    const auto& f = r.rounds.at("fused").back();
    const auto& c = r.rounds.at("fused+care").back();
    Json bar;
    bar["fused_entropy_change"] = Round6(f.mean_entropy_change);
    bar["care_entropy_change"] = Round6(c.mean_entropy_change);
    const bool falls = f.mean_entropy_change < 0;
    const double fall_ratio = falls ? std::max(0.0, -c.mean_entropy_change) / -f.mean_entropy_change : 0;
    const double reward_ratio = f.cumulative_reward > 0 ? c.cumulative_reward / f.cumulative_reward : 0;
    bar["fused_entropy_falls"] = falls;
    bar["care_fall_over_fused_fall"] = Round6(fall_ratio);
    bar["care_reward_over_fused_reward"] = Round6(reward_ratio);
    bar["met"] = falls && fall_ratio <= 0.5 && reward_ratio >= 0.95;
    j["care_bar"] = bar;
  }
  // Issue #22's bar for the learned policy: reward over the rounds after it
  // learned (learn_rounds + 1 .. rounds) against fused's over the same
  // rounds, and the end entropy change no lower than fused's.
  if (has_learned && r.rounds.count("fused") && !r.rounds.at("fused").empty() &&
      o.learned.learn_rounds >= 0 && o.learned.learn_rounds < o.rounds) {
    const auto& f = r.rounds.at("fused");
    const auto& l = r.rounds.at("learned");
    const size_t from = static_cast<size_t>(o.learned.learn_rounds);  // 0-based index of round L+1
    auto after = [&](const std::vector<RoundMetrics>& ms) {
      return ms.back().cumulative_reward - (from > 0 ? ms[from - 1].cumulative_reward : 0.0);
    };
    Json bar;
    bar["rounds"] = {o.learned.learn_rounds + 1, o.rounds};
    bar["fused_reward"] = after(f);
    bar["learned_reward"] = after(l);
    const double ratio = after(f) > 0 ? after(l) / after(f) : 0;
    bar["learned_over_fused"] = Round6(ratio);
    bar["fused_entropy_change"] = Round6(f.back().mean_entropy_change);
    bar["learned_entropy_change"] = Round6(l.back().mean_entropy_change);
    bar["fused_end_entropy"] = Round6(f.back().mean_entropy);
    bar["learned_end_entropy"] = Round6(l.back().mean_entropy);
    bar["met"] = ratio >= 1.05 && l.back().mean_entropy_change >= f.back().mean_entropy_change;
    j["learned_bar"] = bar;
  }
  return j.dump(1) + "\n";
}

Status WritePlots(const SimResult& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("sim: cannot create " + dir + ": " + ec.message());
  static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#7f7f7f", "#9467bd", "#ff7f0e"};
  const double W = 720, H = 420, L = 70, R = 170, T = 40, B = 50;
  for (const auto& def : Metrics()) {
    double lo = 1e300, hi = -1e300;
    int n = 0;
    for (const auto& [name, ms] : r.rounds) {
      n = std::max(n, static_cast<int>(ms.size()));
      for (const auto& m : ms) {
        lo = std::min(lo, def.get(m));
        hi = std::max(hi, def.get(m));
      }
    }
    if (n == 0) continue;
    if (hi - lo < 1e-9) {
      hi += 0.5;
      lo -= 0.5;
    }
    const double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    auto X = [&](int round) { return L + (W - L - R) * (n == 1 ? 0.5 : (round - 1.0) / (n - 1.0)); };
    auto Y = [&](double v) { return T + (H - T - B) * (1.0 - (v - lo) / (hi - lo)); };
    std::string svg;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                  "<text x=\"%.0f\" y=\"22\" font-size=\"14\">%s</text>\n",
                  W, H, L, def.label);
    svg += buf;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                  L, H - B, W - R, H - B, L, T, L, H - B);
    svg += buf;
    for (int g = 0; g <= 4; ++g) {
      const double v = lo + (hi - lo) * g / 4.0;
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n",
                    L, Y(v), W - R, Y(v), L - 6, Y(v) + 4, v);
      svg += buf;
    }
    for (int t = 1; t <= n; t += std::max(1, n / 10)) {
      std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
                    X(t), H - B + 16, t);
      svg += buf;
    }
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">round</text>\n",
                  (L + W - R) / 2, H - 12);
    svg += buf;
    int c = 0;
    for (const auto& name : r.options.policies) {
      const auto& ms = r.rounds.at(name);
      const char* color = kColors[c % 6];
      svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(color) + "\" points=\"";
      for (size_t t = 0; t < ms.size(); ++t) {
        std::snprintf(buf, sizeof buf, "%s%.1f,%.1f", t ? " " : "", X(static_cast<int>(t) + 1),
                      Y(def.get(ms[t])));
        svg += buf;
      }
      svg += "\"/>\n";
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"3\"/>\n<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                    W - R + 12, T + 10 + 20.0 * c, W - R + 36, T + 10 + 20.0 * c, color, W - R + 42,
                    T + 14 + 20.0 * c, name.c_str());
      svg += buf;
      ++c;
    }
    svg += "</svg>\n";
    std::ofstream out(dir + "/" + def.name + ".svg", std::ios::binary);
    out << svg;
    if (!out) return Status::IOError("sim: cannot write " + dir + "/" + def.name + ".svg");
  }
  return Status::OK();
}

}  // namespace recdb::sim
