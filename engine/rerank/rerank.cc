#include "engine/rerank/rerank.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace recdb::rerank {

namespace {

constexpr double kCalibrationAlpha = 0.01;  // as eval::CalibrationKl (Steck 2018)
// Diversity's popularity penalty, relative to the similarity term: the
// coverage-aware part of MMR (measured on ml-100k, engine/rerank/README.md).
constexpr double kDiversityPopularityWeight = 0.3;

std::span<const uint32_t> CategoriesOf(const ItemFacts& f, uint32_t item) {
  if (!f.categories || item >= f.categories->size()) return {};
  return (*f.categories)[item];
}

bool IsLongTail(const ItemFacts& f, uint32_t item) {
  return f.long_tail && item < f.long_tail->size() && (*f.long_tail)[item];
}

// Similarity in [0, 1]: cosine (clamped) when both items have a vector,
// else Jaccard over categories (two category-less items are alike, as in
// eval::IntraListDiversity).
double Similarity(const ItemFacts& f, uint32_t a, uint32_t b) {
  if (f.vector) {
    const std::vector<float>* va = f.vector(a);
    const std::vector<float>* vb = f.vector(b);
    if (va && vb && va->size() == vb->size()) {
      double dot = 0;
      for (size_t d = 0; d < va->size(); ++d) dot += static_cast<double>((*va)[d]) * (*vb)[d];
      return std::clamp(dot, 0.0, 1.0);
    }
  }
  auto ca = CategoriesOf(f, a), cb = CategoriesOf(f, b);
  if (ca.empty() && cb.empty()) return 1.0;
  size_t inter = 0;
  for (uint32_t x : ca) inter += std::count(cb.begin(), cb.end(), x) ? 1 : 0;
  const size_t uni = ca.size() + cb.size() - inter;
  return uni ? static_cast<double>(inter) / uni : 0.0;
}

// Category mass of a list (each item spreads 1 over its categories) and the
// KL(p || (1-a) q + a p) it gives, as eval::CalibrationKl computes it.
class CategoryMix {
 public:
  CategoryMix(const ItemFacts& f, const std::vector<double>& p) : f_(f), p_(p), mass_(p.size()) {}
  bool active() const { return !p_.empty(); }
  void Add(uint32_t item) { Apply(item, +1, mass_, total_); }
  double Kl() const { return KlOf(mass_, total_); }
  // KL after adding `item`, without adding it.
  double KlWith(uint32_t item) const {
    std::vector<double> m = mass_;
    double t = total_;
    Apply(item, +1, m, t);
    return KlOf(m, t);
  }
  // The item's category that the list lacks most relative to the history.
  uint32_t MostLacking(uint32_t item) const {
    uint32_t best = kNoCategory;
    double gap = -1e300;
    for (uint32_t c : CategoriesOf(f_, item)) {
      if (c >= p_.size() || p_[c] <= 0) continue;  // only categories the user has
      const double q = total_ > 0 ? mass_[c] / total_ : 0.0;
      if (p_[c] - q > gap) gap = p_[c] - q, best = c;
    }
    return best;
  }

 private:
  void Apply(uint32_t item, int sign, std::vector<double>& m, double& t) const {
    auto cats = CategoriesOf(f_, item);
    size_t valid = 0;
    for (uint32_t c : cats) valid += c < m.size() ? 1 : 0;
    if (valid == 0) return;
    for (uint32_t c : cats) {
      if (c < m.size()) m[c] += sign * (1.0 / valid);
    }
    t += sign;
  }
  double KlOf(const std::vector<double>& m, double t) const {
    double kl = 0;
    for (size_t c = 0; c < p_.size(); ++c) {
      if (p_[c] <= 0) continue;
      const double q = t > 0 ? m[c] / t : 0.0;
      const double qt = (1 - kCalibrationAlpha) * q + kCalibrationAlpha * p_[c];
      kl += p_[c] * std::log(p_[c] / qt);
    }
    return kl;
  }

  const ItemFacts& f_;
  const std::vector<double>& p_;
  std::vector<double> mass_;
  double total_ = 0;
};

double SampleBeta(std::mt19937_64& rng, double a, double b) {
  std::gamma_distribution<double> ga(a, 1.0), gb(b, 1.0);
  const double x = ga(rng), y = gb(rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

size_t SlotsFor(double share, size_t k) {
  if (share <= 0) return 0;
  return std::min(k, static_cast<size_t>(std::ceil(share * static_cast<double>(k) - 1e-9)));
}

}  // namespace

std::vector<uint32_t> RecentDistinct(std::span<const uint32_t> history, size_t n) {
  std::vector<uint32_t> out;
  for (size_t i = history.size(); i-- > 0 && out.size() < n;) {
    if (std::find(out.begin(), out.end(), history[i]) == out.end()) out.push_back(history[i]);
  }
  return out;
}

const char* PlacementName(Placement p) {
  switch (p) {
    case Placement::kRelevance: return "relevance";
    case Placement::kDiversity: return "diversity";
    case Placement::kCalibration: return "calibration";
    case Placement::kFairness: return "fair_exposure";
    case Placement::kExploration: return "exploration";
    case Placement::kPinned: return "pinned";
  }
  return "relevance";
}

bool AnyStageOn(const CareOptions& care) {
  return care.diversity > 0 || care.calibration > 0 || care.fair_share > 0 ||
         care.exploration > 0;
}

Status ValidateCare(const CareOptions& care) {
  auto unit = [](double v, const char* name) -> Status {
    if (!std::isfinite(v) || v < 0 || v > 1) {
      return Status::InvalidArgument(std::string("care: ") + name + " must be in [0, 1]");
    }
    return Status::OK();
  };
  RECDB_RETURN_IF_ERROR(unit(care.diversity, "diversity"));
  RECDB_RETURN_IF_ERROR(unit(care.calibration, "calibration"));
  RECDB_RETURN_IF_ERROR(unit(care.fair_share, "fair_share"));
  RECDB_RETURN_IF_ERROR(unit(care.exploration, "exploration"));
  if (care.calibration_recent_items > 1000) {
    return Status::InvalidArgument("care: calibration_recent_items must be in 0..1000");
  }
  if (care.candidate_factor < 1 || care.candidate_factor > 100) {
    return Status::InvalidArgument("care: candidate_factor must be in 1..100");
  }
  if (care.rotate_after_impressions < 0 || care.rotate_period_seconds < 0 ||
      care.exploration_max_impressions < 0) {
    return Status::InvalidArgument(
        "care: rotate_after_impressions, rotate_period_seconds and "
        "exploration_max_impressions must be >= 0");
  }
  return Status::OK();
}

std::vector<Placed> Rerank(std::span<const Candidate> pool, size_t k, const CareOptions& care,
                           const Rules& rules, const ItemFacts& items, const UserFacts& user,
                           uint64_t seed) {
  const size_t n = pool.size();
  std::vector<Placed> out;
  if ((n == 0 && (items.cold.empty() || care.exploration <= 0)) || k == 0) return out;

  // Relevance: the position weight NDCG gives the fused rank, 1/log2(rank+2)
  // (1 for the best), plus boosts. Ranks, not scores: fused scores have a
  // different spread for every user, and measured on ml-100k the rank weight
  // buys the same diversity/calibration for less accuracy than min-max
  // scaled scores (engine/rerank/README.md).
  std::vector<double> rel(n);
  for (size_t r = 0; r < n; ++r) {
    rel[r] = 1.0 / std::log2(static_cast<double>(r) + 2.0);
    if (auto b = rules.boost.find(pool[r].item); b != rules.boost.end()) rel[r] += b->second;
  }
  // With diversity on, the greedy weighs relevance as the fused score
  // z-normalised over the pool (relative to the best): how far below the
  // best an item really is, which the rank weight hides. Measured on
  // ml-100k it buys more intra-list diversity per NDCG lost
  // (engine/rerank/README.md). Boosts add in the same units.
  std::vector<double> greedy_rel = rel;
  const bool diversify = care.diversity > 0;
  if (diversify) {
    double mean = 0, var = 0;
    for (size_t r = 0; r < n; ++r) mean += pool[r].score;
    mean /= static_cast<double>(n);
    for (size_t r = 0; r < n; ++r) var += (pool[r].score - mean) * (pool[r].score - mean);
    const double sd = std::sqrt(var / static_cast<double>(n));
    for (size_t r = 0; r < n; ++r) {
      greedy_rel[r] = sd > 0 ? (pool[r].score - pool[0].score) / sd : 0.0;
      if (auto b = rules.boost.find(pool[r].item); b != rules.boost.end()) greedy_rel[r] += b->second;
    }
  }
  float max_pop = 0;
  if (diversify && items.popularity) {
    for (float p : *items.popularity) max_pop = std::max(max_pop, p);
  }
  auto popularity_penalty = [&](uint32_t item) {
    if (max_pop <= 0 || item >= items.popularity->size()) return 0.0;
    return std::log1p(static_cast<double>((*items.popularity)[item])) / std::log1p(max_pop);
  };
  std::vector<uint32_t> order(n);
  for (uint32_t r = 0; r < n; ++r) order[r] = r;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return rel[a] > rel[b]; });
  std::vector<uint32_t> rank(n);
  for (uint32_t p = 0; p < n; ++p) rank[order[p]] = p;

  std::vector<bool> used(n, false), buried(n, false);
  for (size_t r = 0; r < n; ++r) buried[r] = rules.bury.count(pool[r].item) > 0;
  CategoryMix mix(items, user.history_mix);
  // Recent consumption counts with the list (CareOptions::calibration_recent_items).
  if (care.calibration > 0 && mix.active()) {
    const size_t m = std::min(user.recent_items.size(), care.calibration_recent_items);
    for (size_t j = 0; j < m; ++j) mix.Add(user.recent_items[j]);
  }
  std::vector<uint32_t> listed;  // items placed so far (context for similarity)
  size_t tail_listed = 0;
  auto place = [&](size_t r, Placement why, uint32_t category) {
    used[r] = true;
    out.push_back({pool[r].item, pool[r].score, why, category, rank[r]});
    listed.push_back(pool[r].item);
    mix.Add(pool[r].item);
    tail_listed += IsLongTail(items, pool[r].item) ? 1 : 0;
  };

  // 1. Pins, in the order given.
  for (uint32_t pin : rules.pin) {
    if (out.size() >= k) break;
    for (size_t r = 0; r < n; ++r) {
      if (!used[r] && pool[r].item == pin) {
        place(r, Placement::kPinned, kNoCategory);
        break;
      }
    }
  }

  // 2. Exploration: Thompson sampling over under-exposed candidates that
  // relevance alone would not list. Chosen now, placed last.
  std::vector<size_t> explore;  // pool index r, or n + j for items.cold[j]
  const size_t n_explore = std::min(SlotsFor(care.exploration, k), k - out.size());
  auto item_at = [&](size_t x) { return x < n ? pool[x].item : items.cold[x - n]; };
  if (n_explore > 0) {
    std::mt19937_64 rng(seed);
    const size_t listed_anyway = k - out.size() - n_explore;
    std::vector<std::pair<double, size_t>> drawn;
    for (size_t r = 0; r < n; ++r) {  // pool order: a fixed draw order
      if (used[r] || buried[r] || rank[r] < listed_anyway) continue;
      ItemExposure e = items.exposure ? items.exposure(pool[r].item) : ItemExposure{};
      if (e.impressions >= care.exploration_max_impressions && !e.is_new) continue;
      const double eng = static_cast<double>(std::clamp<int64_t>(e.engagements, 0, e.impressions));
      const double theta =
          SampleBeta(rng, 1.0 + eng, 1.0 + static_cast<double>(e.impressions) - eng);
      drawn.push_back({theta * (0.5 + 0.5 * std::clamp(rel[r], 0.0, 1.0)), r});
    }
    // Cold items after the pool (so the pool's draws do not depend on
    // them), as relevant as the rank past the pool's end.
    if (!items.cold.empty()) {
      std::unordered_set<uint32_t> in_pool;
      for (size_t r = 0; r < n; ++r) in_pool.insert(pool[r].item);
      const double cold_rel = 1.0 / std::log2(static_cast<double>(n) + 2.0);
      for (size_t j = 0; j < items.cold.size(); ++j) {
        const uint32_t item = items.cold[j];
        if (!in_pool.insert(item).second || rules.bury.count(item)) continue;
        ItemExposure e = items.exposure ? items.exposure(item) : ItemExposure{};
        if (e.impressions >= care.exploration_max_impressions) continue;
        const double eng = static_cast<double>(std::clamp<int64_t>(e.engagements, 0, e.impressions));
        const double theta =
            SampleBeta(rng, 1.0 + eng, 1.0 + static_cast<double>(e.impressions) - eng);
        drawn.push_back({theta * (0.5 + 0.5 * cold_rel), n + j});
      }
    }
    std::stable_sort(drawn.begin(), drawn.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t j = 0; j < drawn.size() && explore.size() < n_explore; ++j) {
      const size_t x = drawn[j].second;
      explore.push_back(x);
      if (x < n) used[x] = true;  // reserved
      mix.Add(item_at(x));
      listed.push_back(item_at(x));
      tail_listed += IsLongTail(items, item_at(x)) ? 1 : 0;
    }
  }

  // 3. Greedy: relevance vs diversity (MMR) vs calibration (Steck), with a
  // floor of long-tail slots (fair exposure, amortised over past impressions).
  double share = care.fair_share;
  if (share > 0 && user.past_long_tail_share >= 0 && user.past_long_tail_share < share) {
    share = std::min(1.0, 2 * share - user.past_long_tail_share);  // repay the deficit
  }
  const size_t required_tail = SlotsFor(share, k);
  const size_t greedy_slots = k - out.size() - explore.size();
  const double d = care.diversity, c = mix.active() ? care.calibration : 0.0;
  const size_t greedy_begin = out.size();
  for (size_t t = 0; t < greedy_slots; ++t) {
    const size_t remaining = greedy_slots - t;
    const size_t need = required_tail > tail_listed ? required_tail - tail_listed : 0;
    bool forced = need > 0 && need >= remaining;
    if (forced) {
      bool any = false;
      for (size_t r = 0; r < n && !any; ++r) any = !used[r] && !buried[r] && IsLongTail(items, pool[r].item);
      forced = any;
    }
    const double kl_now = c > 0 ? mix.Kl() : 0.0;
    struct Choice {
      size_t r = SIZE_MAX;
      double gain = -1e300, sim = 0, dkl = 0;
    } best, best_rel;
    for (size_t r = 0; r < n; ++r) {
      if (used[r] || buried[r]) continue;
      double sim = 0;  // mean similarity to the list: what intra-list diversity averages
      if (d > 0 && !listed.empty()) {
        for (uint32_t j : listed) sim += Similarity(items, pool[r].item, j);
        sim /= static_cast<double>(listed.size());
      }
      const double dkl = c > 0 ? mix.KlWith(pool[r].item) - kl_now : 0.0;
      if (best_rel.r == SIZE_MAX || rank[r] < rank[best_rel.r]) best_rel = {r, 0, sim, dkl};
      if (forced && !IsLongTail(items, pool[r].item)) continue;
      const double pen = diversify ? kDiversityPopularityWeight * popularity_penalty(pool[r].item) : 0.0;
      const double gain = (1 - d) * (1 - c) * greedy_rel[r] - d * (sim + pen) - c * dkl;
      if (gain > best.gain || (gain == best.gain && rank[r] < rank[best.r])) best = {r, gain, sim, dkl};
    }
    if (best.r == SIZE_MAX) break;  // only buried items remain
    Placement why = Placement::kRelevance;
    uint32_t category = kNoCategory;
    if (best.r != best_rel.r) {
      if (forced && !IsLongTail(items, pool[best_rel.r].item)) {
        why = Placement::kFairness;
      } else if (d * (best_rel.sim - best.sim) >= c * (best_rel.dkl - best.dkl)) {
        why = Placement::kDiversity;
        // A category of the item that the list does not have yet.
        for (uint32_t cat : CategoriesOf(items, pool[best.r].item)) {
          bool present = false;
          for (uint32_t j : listed) {
            auto cj = CategoriesOf(items, j);
            present = present || std::count(cj.begin(), cj.end(), cat) > 0;
          }
          if (!present) {
            category = cat;
            break;
          }
        }
      } else {
        why = Placement::kCalibration;
        category = mix.MostLacking(pool[best.r].item);
      }
    }
    place(best.r, why, category);
  }
  if (diversify) {
    // Diversity chooses a set; within it, the more relevant go first (the
    // list's diversity is the same, and NDCG loses less).
    std::stable_sort(out.begin() + greedy_begin, out.end(),
                     [](const Placed& a, const Placed& b) { return a.relevance_rank < b.relevance_rank; });
  }
  for (size_t x : explore) {
    if (x < n) {
      out.push_back({pool[x].item, pool[x].score, Placement::kExploration, kNoCategory, rank[x]});
    } else {
      out.push_back({item_at(x), n > 0 ? pool[n - 1].score : 0.0, Placement::kExploration,
                     kNoCategory, static_cast<uint32_t>(x)});
    }
  }
  // 4. Buried items, only if the list is still short.
  for (uint32_t p = 0; p < n && out.size() < k; ++p) {
    if (!used[order[p]]) place(order[p], Placement::kRelevance, kNoCategory);
  }
  return out;
}

}  // namespace recdb::rerank
