// The learned policy's maths (recdb/policy_gradient.h). Moved here from
// sim/learned_policy.cc unchanged in arithmetic (the same operations in the
// same order), so the simulator's figures stay what they were.
#include "recdb/policy_gradient.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "recdb/splitmix64.h"

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

std::vector<double> PlackettLuceSlotMarginals(const std::vector<double>& pi,
                                              const std::vector<size_t>& picks,
                                              const std::vector<int>* group, size_t cap,
                                              size_t mc_draws) {
  const size_t n = pi.size();
  const size_t k = picks.size();
  std::vector<double> out(k, 0.0);
  if (k == 0 || n == 0) return out;
  if (group && cap >= 2) {
    // No closed form: the draw's own frequencies, from a fixed seed.
    uint64_t state = SplitMix64(0x4D415247494E414Cull);  // "MARGINAL"
    auto uniform = [&state] {
      return static_cast<double>(SplitMix64Next(&state) >> 11) * 0x1.0p-53;
    };
    std::vector<double> hits(k, 0.0), props;
    const size_t draws = std::max<size_t>(1, mc_draws);
    for (size_t r = 0; r < draws; ++r) {
      const std::vector<size_t> d = PlackettLuceDraw(pi, k, uniform, &props, group, cap);
      for (size_t j = 0; j < k && j < d.size(); ++j) hits[j] += d[j] == picks[j] ? 1.0 : 0.0;
    }
    for (size_t j = 0; j < k; ++j) {
      out[j] = std::max(hits[j], 1.0) / static_cast<double>(draws);  // it was drawn: > 0
    }
    return out;
  }
  // Blocks: with cap 1, the candidates of one group (>= 0); otherwise, and
  // for candidates without a group, each candidate alone.
  std::vector<size_t> block(n);
  std::vector<std::vector<size_t>> members;
  std::map<int, size_t> by_group;
  for (size_t a = 0; a < n; ++a) {
    const int g = group && cap == 1 ? (*group)[a] : -1;
    if (g >= 0) {
      auto [it, fresh] = by_group.emplace(g, members.size());
      if (fresh) members.emplace_back();
      block[a] = it->second;
    } else {
      block[a] = members.size();
      members.emplace_back();
    }
    members[block[a]].push_back(a);
  }
  const size_t m = members.size();
  std::vector<double> rate(m, 0.0);
  double total = 0;
  for (size_t a = 0; a < n; ++a) {
    rate[block[a]] += pi[a];
    total += pi[a];
  }
  // Integrate over t in log space (s = ln t; the integrand is smooth and
  // decays at both ends, where the trapezoid rule converges geometrically).
  double slowest = total;
  for (size_t j = 0; j < k; ++j) {
    const double r = j < m ? rate[block[picks[j]]] : pi[picks[j]];
    if (r > 0) slowest = std::min(slowest, r);
  }
  const double h = 0.2;
  const double s_lo = std::log(1e-11 / total);
  const double s_hi = std::log(50.0 / slowest);
  std::vector<double> alive(m), arrived(m), poly, next;
  for (double sv = s_lo; sv <= s_hi; sv += h) {
    const double t = std::exp(sv);
    for (size_t b = 0; b < m; ++b) {
      alive[b] = std::exp(-rate[b] * t);       // no arrival by t
      arrived[b] = -std::expm1(-rate[b] * t);  // 1 - alive[b], accurate for small rate * t
    }
    for (size_t j = 0; j < k; ++j) {
      const size_t a = picks[j];
      if (pi[a] <= 0) continue;
      if (j < m) {
        // a first of its block, at t; exactly j other blocks before.
        poly.assign(j + 1, 0.0);
        poly[0] = 1.0;
        for (size_t b = 0; b < m; ++b) {
          if (b == block[a]) continue;
          const double q = alive[b], p = arrived[b];
          for (size_t d = j; d > 0; --d) poly[d] = poly[d] * q + poly[d - 1] * p;
          poly[0] *= q;
        }
        out[j] += h * t * pi[a] * alive[block[a]] * poly[j];
      } else {
        // Relaxed: a is not its block's winner and comes (j - m)th in a
        // fresh draw of the non-winners. Winners are independent per block.
        const size_t r = j - m;
        poly.assign(r + 1, 0.0);
        poly[0] = 1.0;
        for (size_t b = 0; b < m; ++b) {
          std::vector<double> bp(r + 1, 0.0);
          for (size_t c : members[b]) {
            if (c == a) continue;
            std::vector<double> term(r + 1, 0.0);
            term[0] = pi[c] / rate[b];
            for (size_t e : members[b]) {
              if (e == c || e == a) continue;
              const double q = std::exp(-pi[e] * t), p = -std::expm1(-pi[e] * t);
              for (size_t d = r; d > 0; --d) term[d] = term[d] * q + term[d - 1] * p;
              term[0] *= q;
            }
            for (size_t d = 0; d <= r; ++d) bp[d] += term[d];
          }
          next.assign(r + 1, 0.0);
          for (size_t x = 0; x <= r; ++x) {
            for (size_t y = 0; x + y <= r; ++y) next[x + y] += poly[x] * bp[y];
          }
          poly.swap(next);
        }
        out[j] += h * t * pi[a] * std::exp(-pi[a] * t) * poly[r];
      }
    }
  }
  // The race's rates need not sum to 1: its probabilities are normalised.
  for (double& v : out) v = std::clamp(v, 1e-300, 1.0);
  return out;
}

std::vector<size_t> PlackettLuceDrawWithMarginals(const std::vector<double>& pi, size_t k,
                                                 const std::function<double()>& uniform,
                                                 std::vector<double>* marginals,
                                                 const std::vector<int>* group, size_t cap) {
  std::vector<double> conditional;  // given the slots above: not what IPS needs
  std::vector<size_t> picks = PlackettLuceDraw(pi, k, uniform, &conditional, group, cap);
  *marginals = PlackettLuceSlotMarginals(pi, picks, group, cap);
  return picks;
}

double SoftmaxEntropy(const std::vector<double>& pi) {
  double h = 0;
  for (double p : pi) {
    if (p > 0) h -= p * std::log(p);
  }
  return h;
}

namespace {

// c = w * lambda_K * r / N of slot j of l, at the probability p its item has.
double SlotCoefficient(double p, const LoggedList& l, size_t j, const ReinforceSettings& s) {
  return CappedImportanceWeight(p, l.beta[j], s.weight_cap) * TopKMultiplier(p, s.k) *
         l.reward[j] / s.total_slots;
}

// Calls fn(list, slot, c, pi_theta) for each rewarded slot of every list,
// c at `anchor`.
template <typename Fn>
void ForEachRewardedSlot(const std::vector<double>& theta, const std::vector<double>& anchor,
                         const std::vector<LoggedList>& lists, const ReinforceSettings& s, Fn fn) {
  for (const LoggedList& l : lists) {
    const std::vector<double> pi = SoftmaxProbabilities(l.features, s.dim, theta);
    const std::vector<double> pa = SoftmaxProbabilities(l.features, s.dim, anchor);
    for (size_t j = 0; j < l.shown.size(); ++j) {
      if (l.reward[j] == 0) continue;
      fn(l, j, SlotCoefficient(pa[l.shown[j]], l, j, s), pi);
    }
  }
}

}  // namespace

double ReinforceObjective(const std::vector<double>& theta, const std::vector<double>& anchor,
                          const std::vector<LoggedList>& lists, const ReinforceSettings& s) {
  double j = 0;
  ForEachRewardedSlot(theta, anchor, lists, s,
                      [&](const LoggedList& l, size_t slot, double c, const std::vector<double>& pi) {
                        j += c * std::log(std::max(pi[l.shown[slot]], 1e-300));
                      });
  if (s.entropy_weight != 0 && !lists.empty()) {
    double h = 0;
    for (const LoggedList& l : lists) h += SoftmaxEntropy(SoftmaxProbabilities(l.features, s.dim, theta));
    j += s.entropy_weight * h / static_cast<double>(lists.size());
  }
  double norm = 0;
  for (double t : theta) norm += t * t;
  return j - 0.5 * s.l2 * norm;
}

std::vector<double> ReinforceGradient(const std::vector<double>& theta,
                                      const std::vector<LoggedList>& lists,
                                      const ReinforceSettings& s) {
  std::vector<double> g(s.dim, 0.0);
  for (size_t d = 0; d < s.dim; ++d) g[d] = -s.l2 * theta[d];
  // Per list, the softmax and the feature mean under it, computed once and
  // used by every rewarded slot and by the entropy term (the same values,
  // added to g in the same order, as when each recomputed them).
  const bool entropy = s.entropy_weight != 0 && !lists.empty();
  std::vector<std::vector<double>> pis, means;
  if (entropy) pis.resize(lists.size()), means.resize(lists.size());
  std::vector<double> pi, mean(s.dim);
  auto feature_mean = [&](const LoggedList& l, const std::vector<double>& p,
                          std::vector<double>* out) {
    out->assign(s.dim, 0.0);
    for (size_t b = 0; b < l.n; ++b) {
      for (size_t d = 0; d < s.dim; ++d) (*out)[d] += p[b] * l.features[b * s.dim + d];
    }
  };
  for (size_t li = 0; li < lists.size(); ++li) {
    const LoggedList& l = lists[li];
    pi = SoftmaxProbabilities(l.features, s.dim, theta);
    bool have_mean = false;
    for (size_t j = 0; j < l.shown.size(); ++j) {
      if (l.reward[j] == 0) continue;
      const double c = SlotCoefficient(pi[l.shown[j]], l, j, s);
      // grad log pi(a) = x_a - sum_b pi(b) x_b
      if (!have_mean) feature_mean(l, pi, &mean), have_mean = true;
      const size_t a = l.shown[j];
      for (size_t d = 0; d < s.dim; ++d) g[d] += c * (l.features[a * s.dim + d] - mean[d]);
    }
    if (entropy) {
      if (!have_mean) feature_mean(l, pi, &mean);
      pis[li] = pi;
      means[li] = mean;
    }
  }
  if (entropy) {
    // dH/dtheta = -sum_b pi(b) log pi(b) (x_b - E_pi x).
    const double scale = s.entropy_weight / static_cast<double>(lists.size());
    for (size_t li = 0; li < lists.size(); ++li) {
      const LoggedList& l = lists[li];
      const std::vector<double>& p = pis[li];
      const std::vector<double>& mu = means[li];
      for (size_t b = 0; b < l.n; ++b) {
        if (p[b] <= 0) continue;
        const double f = -scale * p[b] * std::log(p[b]);
        for (size_t d = 0; d < s.dim; ++d) g[d] += f * (l.features[b * s.dim + d] - mu[d]);
      }
    }
  }
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
