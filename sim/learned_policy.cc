#include "sim/learned_policy.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/rng.h"

namespace recdb::sim {

namespace {

constexpr int kRecentRounds = 3;  // "recent" clicks in a category

class LearnedPolicy : public Policy {
 public:
  explicit LearnedPolicy(const LearnedOptions& o) : o_(o) {}
  std::string name() const override { return "learned"; }

  Status OnTrained(const TrainReport& report) override {
    if (!names_.empty()) return Status::OK();  // feature layout fixed at the first Train
    for (const auto& [rec, w] : report.weights) {
      (void)w;
      recommenders_.push_back(rec);
    }
    names_ = policy::PolicyFeatureNames(recommenders_);
    share_index_ = policy::HabitFeatureIndex(recommenders_.size());
    theta_.assign(names_.size(), 0.0);
    theta_[0] = 1.0 / std::max(1e-6, o_.temperature);
    return Status::OK();
  }

  Status BeginRound(int round) override {
    if (round <= o_.learn_rounds || names_.empty()) return Status::OK();
    const int since = round - o_.learn_rounds - 1;
    const bool due = since == 0 || (o_.update_every > 0 && since % o_.update_every == 0);
    if (!due) return Status::OK();
    // Keep the last train_window rounds of log.
    const int oldest = round - std::max(1, o_.train_window);
    log_.erase(std::remove_if(log_.begin(), log_.end(),
                              [&](const LoggedList& l) { return l.when < oldest; }),
               log_.end());
    double slots = 0;
    for (const auto& [r, n] : slots_by_round_) {
      if (r >= oldest) slots += n;
    }
    Train(std::max(1.0, slots));
    return Status::OK();
  }

  StatusOr<Slate> Rank(DB* db, const RankContext& ctx) override {
    if (names_.empty()) return Status::FailedPrecondition("sim: learned policy before Train");
    RecommendRequest req;
    req.user = "u" + std::to_string(ctx.user);
    req.k = std::max(o_.pool, ctx.k);
    req.now = ctx.now;
    auto resp = db->Recommend(req);
    if (!resp.ok()) return resp.status();
    const size_t n = resp->items.size();
    const size_t dim = names_.size();
    std::vector<float> x(n * dim, 0.0f);
    std::vector<int64_t> items(n);
    UserLog& ul = users_[ctx.user];
    double max_score = 1e-12;
    for (const auto& r : resp->items) max_score = std::max(max_score, std::abs(r.score));
    // The user's consumption window by category.
    std::vector<double> share;
    if (ctx.state && !ctx.state->window.empty()) {
      for (int c : ctx.state->window) {
        if (static_cast<size_t>(c) >= share.size()) share.resize(static_cast<size_t>(c) + 1, 0.0);
        share[static_cast<size_t>(c)] += 1.0 / static_cast<double>(ctx.state->window.size());
      }
    }
    const double pop_norm = std::log1p(static_cast<double>(max_clicks_) + 1.0);
    for (size_t a = 0; a < n; ++a) {
      const auto& r = resp->items[a];
      const int64_t i = ItemIndex(r.id);
      if (i < 0) return Status::Internal("sim: unexpected item id " + r.id);
      items[a] = i;
      policy::CandidateFacts facts = policy::FactsFromRecommendation(r, a, recommenders_);
      const int c = ctx.categories && static_cast<size_t>(i) < ctx.categories->size()
                        ? (*ctx.categories)[static_cast<size_t>(i)]
                        : -1;
      facts.category_share = c >= 0 && static_cast<size_t>(c) < share.size()
                                 ? static_cast<float>(share[static_cast<size_t>(c)])
                                 : 0.0f;
      double recent = 0;
      for (const auto& [cat, rnd] : ul.clicked_categories) {
        if (cat == c && rnd >= ctx.round - kRecentRounds) recent += 1;
      }
      facts.category_recent_clicks = recent;
      auto pc = item_clicks_.find(i);
      facts.popularity = pc == item_clicks_.end() ? 0.0 : static_cast<double>(pc->second);
      auto sh = ul.shown.find(i);
      facts.times_shown = sh == ul.shown.end() ? 0.0 : sh->second.first;
      facts.shown_last = sh != ul.shown.end() && sh->second.second == ctx.round - 1;
      policy::FillPolicyFeatures(facts, max_score, pop_norm, &x[a * dim]);
    }
    // Plackett-Luce draw of k slots from the softmax.
    const std::vector<double> pi = SoftmaxProbabilities(x, dim, theta_);
    Rng rng(DrawKey(ctx.seed, kLearnedPolicyStream, static_cast<uint64_t>(ctx.user),
                    static_cast<uint64_t>(ctx.round)));
    Slate slate;
    pending_ = LoggedList{};
    pending_.when = ctx.round;
    pending_.n = n;
    std::vector<int> category(n, -1);
    for (size_t a = 0; a < n; ++a) {
      const auto i = static_cast<size_t>(items[a]);
      if (ctx.categories && i < ctx.categories->size()) category[a] = (*ctx.categories)[i];
    }
    // Logged: each pick's marginal probability at its slot (recdb/off_policy.h).
    pending_.shown = policy::PlackettLuceDrawWithMarginals(
        pi, ctx.k, [&rng] { return rng.Uniform(); }, &slate.propensities, &category,
        o_.max_per_category);
    for (size_t a : pending_.shown) slate.items.push_back(items[a]);
    // beta: the behaviour policy's per-item softmax probability (with a
    // category cap the slot propensities no longer determine it).
    for (size_t a : pending_.shown) pending_.beta.push_back(pi[a]);
    pending_.features = std::move(x);
    return slate;
  }

  void OnFeedback(const RankContext& ctx, const Slate& slate,
                  const std::vector<double>& rewards) override {
    slots_by_round_[ctx.round] += static_cast<double>(slate.items.size());
    UserLog& ul = users_[ctx.user];
    bool any = false;
    for (size_t j = 0; j < slate.items.size(); ++j) {
      auto& sh = ul.shown[slate.items[j]];
      sh.first += 1;
      sh.second = ctx.round;
      if (j < rewards.size() && rewards[j] > 0) {
        any = true;
        const int64_t clicks = ++item_clicks_[slate.items[j]];
        max_clicks_ = std::max(max_clicks_, clicks);
        const int c = ctx.categories ? (*ctx.categories)[static_cast<size_t>(slate.items[j])] : -1;
        ul.clicked_categories.emplace_back(c, ctx.round);
      }
    }
    while (!ul.clicked_categories.empty() &&
           ul.clicked_categories.front().second < ctx.round - kRecentRounds) {
      ul.clicked_categories.pop_front();
    }
    if (any && pending_.shown.size() == slate.items.size()) {
      pending_.reward.assign(slate.items.size(), 0.0);
      const size_t dim = names_.size();
      for (size_t j = 0; j < slate.items.size() && j < rewards.size(); ++j) {
        const double share = pending_.features[pending_.shown[j] * dim + share_index_];
        pending_.reward[j] = rewards[j] * (1.0 + o_.novelty_bonus * (1.0 - share));
      }
      log_.push_back(std::move(pending_));
    }
    pending_ = LoggedList{};
  }

  std::map<std::string, double> Parameters() const override {
    std::map<std::string, double> out;
    for (size_t d = 0; d < names_.size(); ++d) out[names_[d]] = theta_[d];
    return out;
  }

 private:
  struct UserLog {
    std::unordered_map<int64_t, std::pair<double, int>> shown;  // item -> (times, last round)
    std::deque<std::pair<int, int>> clicked_categories;          // (category, round)
  };

  void Train(double total_slots) {
    ReinforceSettings s;
    s.dim = names_.size();
    s.k = o_.k;
    s.weight_cap = o_.weight_cap;
    s.l2 = o_.l2;
    s.total_slots = total_slots;
    s.entropy_weight = o_.entropy_weight;
    policy::AdamSettings adam;
    adam.learning_rate = o_.learning_rate;
    adam.steps = o_.steps;
    adam.bounded = {share_index_, share_index_ + 1};
    adam.upper_bound = o_.max_habit_weight;
    policy::TrainReinforce(log_, s, adam, &theta_);
  }

  LearnedOptions o_;
  std::vector<std::string> names_;
  std::vector<std::string> recommenders_;  // the fused model's, in report order
  size_t share_index_ = 0;  // of the category_share feature
  std::vector<double> theta_;
  std::unordered_map<int64_t, UserLog> users_;
  std::unordered_map<int64_t, int64_t> item_clicks_;
  int64_t max_clicks_ = 0;
  std::map<int, double> slots_by_round_;
  std::vector<LoggedList> log_;
  LoggedList pending_;
};

}  // namespace

std::unique_ptr<Policy> MakeLearnedPolicy(const LearnedOptions& options) {
  return std::make_unique<LearnedPolicy>(options);
}

}  // namespace recdb::sim
