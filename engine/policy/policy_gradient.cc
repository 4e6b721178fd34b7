// The learned policy's maths (recdb/policy_gradient.h). Moved here from
// sim/learned_policy.cc unchanged in arithmetic (the same operations in the
// same order), so the simulator's figures stay what they were.
#include "recdb/policy_gradient.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace recdb::policy {

std::vector<std::string> PolicyFeatureNames(const std::vector<std::string>& recommenders) {
  std::vector<std::string> names = {"rank", "score"};
  for (const std::string& r : recommenders) names.push_back("contrib:" + r);
  names.insert(names.end(), {"category_share", "category_recent_clicks", "popularity",
                             "times_shown", "shown_last_round"});
  return names;
}

size_t HabitFeatureIndex(size_t num_recommenders) { return 2 + num_recommenders; }

void FillPolicyFeatures(const CandidateFacts& facts, double max_abs_score, double popularity_norm,
                        float* f) {
  f[0] = static_cast<float>(-std::log1p(static_cast<double>(facts.rank)));
  f[1] = static_cast<float>(facts.score / max_abs_score);
  size_t d = 2;
  for (double c : facts.contributions) f[d++] = static_cast<float>(c);
  f[d++] = static_cast<float>(facts.category_share);
  f[d++] = static_cast<float>(std::log1p(facts.category_recent_clicks));
  f[d++] = static_cast<float>(std::log1p(facts.popularity) / popularity_norm);
  f[d++] = static_cast<float>(std::log1p(facts.times_shown));
  f[d++] = facts.shown_last ? 1.0f : 0.0f;
}

CandidateFacts FactsFromRecommendation(const Recommendation& r, size_t rank,
                                       const std::vector<std::string>& recommenders) {
  CandidateFacts facts;
  facts.rank = rank;
  facts.score = r.score;
  facts.contributions.assign(recommenders.size(), 0.0);
  for (size_t j = 0; j < recommenders.size(); ++j) {
    auto it = r.contributions.find(recommenders[j]);
    if (it != r.contributions.end()) facts.contributions[j] = it->second;
  }
  return facts;
}

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

std::vector<size_t> PlackettLuceDraw(const std::vector<double>& pi, size_t k,
                                     const std::function<double()>& uniform,
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
    double u = uniform() * mass;
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

// Calls fn(list, slot, c, pi_theta) for each rewarded slot of every list,
// c = w * lambda_K * r / N at `anchor`.
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

void TrainReinforce(const std::vector<LoggedList>& lists, const ReinforceSettings& s,
                    const AdamSettings& adam, std::vector<double>* theta) {
  // Scale: the objective is a mean over all logged slots, most unrewarded;
  // Adam is invariant to that scale.
  std::vector<double>& t = *theta;
  std::vector<double> m(s.dim, 0.0), v(s.dim, 0.0);
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (int step = 1; step <= adam.steps; ++step) {
    const std::vector<double> g = ReinforceGradient(t, lists, s);
    for (size_t d = 0; d < s.dim; ++d) {
      m[d] = b1 * m[d] + (1 - b1) * g[d];
      v[d] = b2 * v[d] + (1 - b2) * g[d] * g[d];
      const double mh = m[d] / (1 - std::pow(b1, step));
      const double vh = v[d] / (1 - std::pow(b2, step));
      t[d] += adam.learning_rate * mh / (std::sqrt(vh) + eps);  // ascent
    }
    for (size_t d : adam.bounded) t[d] = std::min(t[d], adam.upper_bound);
  }
}

}  // namespace recdb::policy
