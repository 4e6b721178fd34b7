#include "sim/learned_policy.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/rng.h"

namespace recdb::sim {

double CappedImportanceWeight(double pi, double beta, double cap) {
  if (beta <= 0) return 0;
  return std::min(pi / beta, cap);
}

double TopKMultiplier(double pi, size_t k) {
  if (k == 0) return 0;
  return static_cast<double>(k) * std::pow(std::max(0.0, 1.0 - pi), static_cast<double>(k - 1));
}

std::vector<double> SoftmaxProbabilities(const std::vector<float>& features, size_t dim,
                                         const std::vector<double>& theta) {
  const size_t n = dim == 0 ? 0 : features.size() / dim;
  std::vector<double> p(n, 0.0);
  double hi = -1e300;
  for (size_t a = 0; a < n; ++a) {
    double z = 0;
    for (size_t d = 0; d < dim; ++d) z += theta[d] * features[a * dim + d];
    p[a] = z;
    hi = std::max(hi, z);
  }
  double sum = 0;
  for (double& v : p) {
    v = std::exp(v - hi);
    sum += v;
  }
  for (double& v : p) v /= sum;
  return p;
}

std::vector<size_t> PlackettLuceDraw(const std::vector<double>& pi, size_t k, Rng* rng,
                                     std::vector<double>* propensities,
                                     const std::vector<int>* group, size_t cap) {
  const size_t n = pi.size();
  std::vector<bool> taken(n, false);
  std::map<int, size_t> used;  // group -> slots taken
  auto capped = [&](size_t a) {
    if (!group || cap == 0 || (*group)[a] < 0) return false;
    auto it = used.find((*group)[a]);
    return it != used.end() && it->second >= cap;
  };
  std::vector<size_t> out;
  propensities->clear();
  for (size_t j = 0; j < std::min(k, n); ++j) {
    // The drawable mass, summed afresh rather than by subtraction.
    bool any_open = false;
    for (size_t a = 0; a < n && !any_open; ++a) any_open = !taken[a] && !capped(a);
    auto drawable = [&](size_t a) { return !taken[a] && (!any_open || !capped(a)); };
    double mass = 0;
    for (size_t a = 0; a < n; ++a) {
      if (drawable(a)) mass += pi[a];
    }
    double u = rng->Uniform() * mass;
    size_t pick = n;
    for (size_t a = 0; a < n; ++a) {
      if (!drawable(a)) continue;
      pick = a;
      if (u < pi[a]) break;
      u -= pi[a];
    }
    taken[pick] = true;
    if (group && (*group)[pick] >= 0) ++used[(*group)[pick]];
    out.push_back(pick);
    propensities->push_back(std::clamp(pi[pick] / mass, 1e-300, 1.0));
  }
  return out;
}

namespace {

// Per slot of every list: the coefficient c = w * lambda_K * r / N at
// `anchor`, or calls fn(list, slot, c, pi_theta) for each rewarded slot.
template <typename Fn>
void ForEachRewardedSlot(const std::vector<double>& theta, const std::vector<double>& anchor,
                         const std::vector<LoggedList>& lists, const ReinforceSettings& s,
                         bool same, Fn fn) {
  for (const LoggedList& l : lists) {
    const std::vector<double> pi = SoftmaxProbabilities(l.features, s.dim, theta);
    const std::vector<double> pa = same ? pi : SoftmaxProbabilities(l.features, s.dim, anchor);
    for (size_t j = 0; j < l.shown.size(); ++j) {
      if (l.reward[j] == 0) continue;
      const double p = pa[l.shown[j]];
      const double c = CappedImportanceWeight(p, l.beta[j], s.weight_cap) *
                       TopKMultiplier(p, s.k) * l.reward[j] / s.total_slots;
      fn(l, j, c, pi);
    }
  }
}

}  // namespace

double ReinforceObjective(const std::vector<double>& theta, const std::vector<double>& anchor,
                          const std::vector<LoggedList>& lists, const ReinforceSettings& s) {
  double j = 0;
  ForEachRewardedSlot(theta, anchor, lists, s, false,
                      [&](const LoggedList& l, size_t slot, double c, const std::vector<double>& pi) {
                        j += c * std::log(std::max(pi[l.shown[slot]], 1e-300));
                      });
  double norm = 0;
  for (double t : theta) norm += t * t;
  return j - 0.5 * s.l2 * norm;
}

std::vector<double> ReinforceGradient(const std::vector<double>& theta,
                                      const std::vector<LoggedList>& lists,
                                      const ReinforceSettings& s) {
  std::vector<double> g(s.dim, 0.0);
  for (size_t d = 0; d < s.dim; ++d) g[d] = -s.l2 * theta[d];
  std::vector<double> mean(s.dim);
  ForEachRewardedSlot(theta, theta, lists, s, true,
                      [&](const LoggedList& l, size_t slot, double c, const std::vector<double>& pi) {
                        // grad log pi(a) = x_a - sum_b pi(b) x_b
                        std::fill(mean.begin(), mean.end(), 0.0);
                        for (size_t b = 0; b < l.n; ++b) {
                          for (size_t d = 0; d < s.dim; ++d) {
                            mean[d] += pi[b] * l.features[b * s.dim + d];
                          }
                        }
                        const size_t a = l.shown[slot];
                        for (size_t d = 0; d < s.dim; ++d) {
                          g[d] += c * (l.features[a * s.dim + d] - mean[d]);
                        }
                      });
  return g;
}

namespace {

constexpr int kRecentRounds = 3;  // "recent" clicks in a category

class LearnedPolicy : public Policy {
 public:
  explicit LearnedPolicy(const LearnedOptions& o) : o_(o) {}
  std::string name() const override { return "learned"; }

  Status OnTrained(const TrainReport& report) override {
    if (!names_.empty()) return Status::OK();  // feature layout fixed at the first Train
    names_ = {"rank", "score"};
    for (const auto& [rec, w] : report.weights) {
      (void)w;
      contrib_index_[rec] = names_.size();
      names_.push_back("contrib:" + rec);
    }
    share_index_ = names_.size();
    names_.insert(names_.end(), {"category_share", "category_recent_clicks", "popularity",
                                 "times_shown", "shown_last_round"});
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
                              [&](const LoggedList& l) { return l.round < oldest; }),
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
      float* f = &x[a * dim];
      f[0] = static_cast<float>(-std::log1p(static_cast<double>(a)));
      f[1] = static_cast<float>(r.score / max_score);
      for (const auto& [rec, v] : r.contributions) {
        auto it = contrib_index_.find(rec);
        if (it != contrib_index_.end()) f[it->second] = static_cast<float>(v);
      }
      size_t d = 2 + contrib_index_.size();
      const int c = ctx.categories && static_cast<size_t>(i) < ctx.categories->size()
                        ? (*ctx.categories)[static_cast<size_t>(i)]
                        : -1;
      f[d++] = c >= 0 && static_cast<size_t>(c) < share.size()
                   ? static_cast<float>(share[static_cast<size_t>(c)])
                   : 0.0f;
      double recent = 0;
      for (const auto& [cat, rnd] : ul.clicked_categories) {
        if (cat == c && rnd >= ctx.round - kRecentRounds) recent += 1;
      }
      f[d++] = static_cast<float>(std::log1p(recent));
      auto pc = item_clicks_.find(i);
      f[d++] = static_cast<float>(
          std::log1p(pc == item_clicks_.end() ? 0.0 : static_cast<double>(pc->second)) / pop_norm);
      auto sh = ul.shown.find(i);
      f[d++] = static_cast<float>(std::log1p(sh == ul.shown.end() ? 0.0 : sh->second.first));
      f[d++] = sh != ul.shown.end() && sh->second.second == ctx.round - 1 ? 1.0f : 0.0f;
    }
    // Plackett-Luce draw of k slots from the softmax.
    const std::vector<double> pi = SoftmaxProbabilities(x, dim, theta_);
    Rng rng(DrawKey(ctx.seed, kLearnedPolicyStream, static_cast<uint64_t>(ctx.user),
                    static_cast<uint64_t>(ctx.round)));
    Slate slate;
    pending_ = LoggedList{};
    pending_.round = ctx.round;
    pending_.n = n;
    std::vector<int> category(n, -1);
    for (size_t a = 0; a < n; ++a) {
      const auto i = static_cast<size_t>(items[a]);
      if (ctx.categories && i < ctx.categories->size()) category[a] = (*ctx.categories)[i];
    }
    pending_.shown =
        PlackettLuceDraw(pi, ctx.k, &rng, &slate.propensities, &category, o_.max_per_category);
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
    // Scale: the objective is a mean over all logged slots, most unrewarded;
    // Adam is invariant to that scale.
    std::vector<double> m(s.dim, 0.0), v(s.dim, 0.0);
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int step = 1; step <= o_.steps; ++step) {
      const std::vector<double> g = ReinforceGradient(theta_, log_, s);
      for (size_t d = 0; d < s.dim; ++d) {
        m[d] = b1 * m[d] + (1 - b1) * g[d];
        v[d] = b2 * v[d] + (1 - b2) * g[d] * g[d];
        const double mh = m[d] / (1 - std::pow(b1, step));
        const double vh = v[d] / (1 - std::pow(b2, step));
        theta_[d] += o_.learning_rate * mh / (std::sqrt(vh) + eps);  // ascent
      }
      for (size_t d : {share_index_, share_index_ + 1}) {
        theta_[d] = std::min(theta_[d], o_.max_habit_weight);
      }
    }
  }

  LearnedOptions o_;
  std::vector<std::string> names_;
  std::map<std::string, size_t> contrib_index_;
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
