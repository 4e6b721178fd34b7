#include "engine/models/fused.h"

#include "engine/models/candidates.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/parallel_for.h"
#include "engine/eval/metrics.h"
#include "engine/eval/split.h"
#include "engine/models/component_registry.h"
#include "engine/models/content_profile.h"
#include "engine/models/context.h"
#include "engine/models/context_popularity.h"
#include "engine/models/cooccurrence.h"
#include "engine/models/ease.h"
#include "engine/models/ials.h"
#include "engine/models/item_knn.h"
#include "engine/models/trending.h"
#include "recdb/splitmix64.h"

namespace recdb::models {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The top `k` candidate items by (fused score desc, item rank asc), best
// first. Called for every validation user at every weight the blend tries,
// so it allocates only its answer and keeps the k best in a sorted array:
// the order is total (item ranks differ), so the answer is the full sort's.
// The fused score is summed in component order in double, as Score does;
// a zero weight adds +0.0, which changes no sum, so it is skipped.
std::vector<uint32_t> RankCandidates(const CandidateScores& c, std::span<const double> w,
                                     size_t k, std::span<const uint32_t> item_rank) {
  const size_t m = w.size();
  size_t used[64];
  size_t nu = 0;
  bool all = m > 64;
  for (size_t j = 0; j < m && !all; ++j) {
    if (w[j] != 0) used[nu++] = j;
  }
  struct Best {
    float score;
    uint32_t rank, item;
  };
  auto before = [](const Best& a, const Best& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.rank < b.rank;
  };
  const size_t top = std::min(k, c.items.size());
  std::vector<Best> best;
  best.reserve(top + 1);
  for (size_t r = 0; r < c.items.size() && top > 0; ++r) {
    const float* z = &c.z[r * m];
    double s = 0;
    if (all) {
      for (size_t j = 0; j < m; ++j) s += w[j] * z[j];
    } else {
      for (size_t u = 0; u < nu; ++u) s += w[used[u]] * z[used[u]];
    }
    const Best x{static_cast<float>(s), item_rank[c.items[r]], c.items[r]};
    if (best.size() == top && !before(x, best.back())) continue;
    auto at = std::upper_bound(best.begin(), best.end(), x, before);
    best.insert(at, x);
    if (best.size() > top) best.pop_back();
  }
  std::vector<uint32_t> out(best.size());
  for (size_t r = 0; r < best.size(); ++r) out[r] = best[r].item;
  return out;
}

// Fused::TwoStageCandidates' working memory, one per serving thread: sized
// to the largest catalog served on the thread (5 bytes per item, kept, and 5
// bytes more per sparse component: its SparseAccumulator) and left
// clean after every request -- every `slot`, `excluded` and accumulator 0 --
// so that a request costs O(its history, sparse entries and candidates),
// never O(items) (a 1M-item catalog; `recdb bench two-stage`). The buffers
// keep their largest size. Not re-entrant (no component calls back into a
// blend).
struct TwoStageScratch {
  std::vector<uint32_t> slot;      // item -> 1 + its candidate row; 0: none
  std::vector<uint8_t> excluded;   // 1 for the request's excluded items
  // Per component index: its summed entries when it is sparse. Sized only
  // once a component at that index has shown to be sparse (capacity 0
  // before: a request's other components cost no memory here).
  std::vector<SparseAccumulator> sparse;
  std::vector<ScoredItem> pool;    // one component's nominees: (item, z), a bounded heap
  bool clean = true;               // false while a request runs (or after one threw)

  void Acquire(uint32_t n, size_t m) {
    if (sparse.size() < m) sparse.resize(m);
    if (!clean) {  // a request threw half-way: start from zero once
      std::fill(slot.begin(), slot.end(), 0u);
      std::fill(excluded.begin(), excluded.end(), uint8_t{0});
      for (SparseAccumulator& a : sparse) a.ClearAll();
    }
    if (slot.size() < n) slot.resize(n, 0), excluded.resize(n, 0);
    clean = false;
  }
  void Release() { clean = true; }
};

// Every item, by `item_rank` ascending.
std::vector<uint32_t> ItemsByRank(std::span<const uint32_t> item_rank) {
  std::vector<uint32_t> by_rank(item_rank.size());
  for (uint32_t i = 0; i < by_rank.size(); ++i) by_rank[i] = i;
  std::sort(by_rank.begin(), by_rank.end(),
            [&](uint32_t a, uint32_t b) { return item_rank[a] < item_rank[b]; });
  return by_rank;
}

// Whether a blend with `o` over `num_items` items serves two-stage.
bool ServesTwoStage(const FusedOptions& o, uint32_t num_items) {
  switch (o.retrieval) {
    case Retrieval::kExhaustive: return false;
    case Retrieval::kTwoStage: return true;
    case Retrieval::kAuto: return num_items >= o.two_stage_min_items;
  }
  return false;
}

using CandidateFn =
    std::function<CandidateScores(const UserQuery& query, std::span<const uint32_t> exclude)>;

// How the blend gets its validation candidates: from `models` (the
// validation fit) through the path the fitted blend will serve with, so that
// on a large catalog the blend's cost grows with the validation users and
// their candidates, not users x items x components (the validation fit
// prepared the components' retrieval: Fused::Fit's fit_all).
CandidateFn ValidationCandidates(std::vector<const Recommender*> models,
                                 std::span<const uint32_t> item_rank, const FusedOptions& o) {
  const size_t per_model = o.candidates_per_model;
  if (models.empty() || !ServesTwoStage(o, models[0]->num_items())) {
    return [models, item_rank, per_model](const UserQuery& query, std::span<const uint32_t> exclude) {
      return ScoreCandidates(models, query, exclude, per_model, item_rank);
    };
  }
  auto by_rank = std::make_shared<const std::vector<uint32_t>>(ItemsByRank(item_rank));
  return [models, item_rank, per_model, by_rank](const UserQuery& query,
                                                 std::span<const uint32_t> exclude) {
    return TwoStageScoreCandidates(models, query, exclude, per_model, item_rank, *by_rank);
  };
}

std::vector<uint32_t> SortedUnique(std::span<const uint32_t> items) {
  std::vector<uint32_t> v(items.begin(), items.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

CandidateScores ScoreCandidates(const std::vector<const Recommender*>& models,
                                const UserQuery& query, std::span<const uint32_t> exclude,
                                size_t per_model, std::span<const uint32_t> item_rank) {
  const size_t m = models.size();
  const uint32_t n = models.empty() ? 0 : models[0]->num_items();
  std::vector<std::vector<float>> z(m, std::vector<float>(n));
  std::vector<bool> excluded(n, false), chosen(n, false);
  for (uint32_t i : exclude) {
    if (i < n) excluded[i] = true;
  }
  CandidateScores out;
  out.mean.resize(m);
  out.inv_std.resize(m);
  for (size_t j = 0; j < m; ++j) {
    std::vector<float>& s = z[j];
    models[j]->Score(query, s);
    double sum = 0, sq = 0;
    size_t cnt = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (excluded[i] || !std::isfinite(s[i])) continue;
      sum += s[i], sq += static_cast<double>(s[i]) * s[i], ++cnt;
    }
    const double mean = cnt ? sum / cnt : 0.0;
    const double var = cnt ? std::max(0.0, sq / cnt - mean * mean) : 0.0;
    const double inv = var > 0 ? 1.0 / std::sqrt(var) : 0.0;
    out.mean[j] = mean;
    out.inv_std[j] = inv;
    for (uint32_t i = 0; i < n; ++i) {
      if (excluded[i]) {
        s[i] = kNegInf;
      } else {
        s[i] = std::isfinite(s[i]) ? static_cast<float>((s[i] - mean) * inv) : -10.0f;
      }
    }
    for (const ScoredItem& c : TopK(s, per_model, item_rank)) {
      if (!chosen[c.item]) chosen[c.item] = true, out.items.push_back(c.item);
    }
  }
  std::sort(out.items.begin(), out.items.end());
  out.z.resize(out.items.size() * m);
  for (size_t r = 0; r < out.items.size(); ++r) {
    for (size_t j = 0; j < m; ++j) out.z[r * m + j] = z[j][out.items[r]];
  }
  return out;
}

Status Fused::Fit(const Dataset& data) {
  if (components_.empty()) return Status::InvalidArgument("fused: no components");
  num_items_ = data.num_items();
  item_rank_ = data.item_rank();
  feature_names_ = data.context_feature_names();
  context_delta_.clear();
  const size_t m = components_.size();
  weights_.clear();
  for (const Component& c : components_) weights_.push_back(c.weight);
  validation_ndcg_ = 0;

  fit_seconds_.assign(m, 0.0);
  blend_seconds_ = 0;
  // warm[j]: the model component j's final fit starts from, if any.
  std::vector<std::shared_ptr<const Recommender>> warm(m);
  if (warm_start_) {
    for (size_t j = 0; j < m; ++j) {
      for (size_t p = 0; p < warm_start_->num_components(); ++p) {
        if (warm_start_->component_name(p) != components_[j].name) continue;
        // Aliasing: the component lives as long as the previous blend.
        warm[j] = std::shared_ptr<const Recommender>(warm_start_, &warm_start_->component(p));
      }
    }
  }
  auto fit_all = [&](const Dataset& d, std::vector<std::unique_ptr<Recommender>>& out,
                     bool final_fit) -> Status {
    out.clear();
    for (size_t j = 0; j < m; ++j) {
      const Component& c = components_[j];
      if (options_.on_stage) options_.on_stage((final_fit ? "fit: " : "validation fit: ") + c.name);
      const auto start = std::chrono::steady_clock::now();
      out.push_back(c.factory());
      if (!out.back()) return Status::InvalidArgument("fused: factory returned null");
      if (final_fit && warm[j]) out.back()->WarmStart(warm[j]);
      RECDB_RETURN_IF_ERROR(out.back()->Fit(d).WithContext(c.name));
      // The blend scores the validation fit as the final one will serve
      // (ValidationCandidates): on a large catalog through retrieval.
      if (!final_fit && ServesTwoStage(options_, d.num_items())) {
        (void)out.back()->PrepareRetrieval(d.item_rank(), /*may_defer=*/false);
      }
      fit_seconds_[j] += SecondsSince(start);
    }
    return Status::OK();
  };

  if (options_.learn_weights) {
    eval::SplitOptions so;
    so.test_fraction = options_.validation_fraction;
    RECDB_ASSIGN_OR_RETURN(eval::TemporalSplit val, eval::SplitByTime(data, so));
    std::vector<std::unique_ptr<Recommender>> val_models;
    RECDB_RETURN_IF_ERROR(fit_all(val.train, val_models, /*final_fit=*/false));
    if (options_.on_stage) options_.on_stage("learn blend");
    const auto blend_start = std::chrono::steady_clock::now();
    std::vector<const Recommender*> ptrs;
    for (auto& p : val_models) ptrs.push_back(p.get());
    const Dataset& tr = val.train;
    const CandidateFn candidates = ValidationCandidates(ptrs, tr.item_rank(), options_);
    // The blend's cost grows with the validation users, not its quality
    // (a few thousand users pin the weights): learn on an evenly spaced
    // subset when there are more.
    if (options_.max_validation_users > 0 && val.test_users.size() > options_.max_validation_users) {
      std::vector<uint32_t> kept;
      const double step =
          static_cast<double>(val.test_users.size()) / static_cast<double>(options_.max_validation_users);
      for (size_t k = 0; k < options_.max_validation_users; ++k) {
        kept.push_back(val.test_users[static_cast<size_t>(static_cast<double>(k) * step)]);
      }
      val.test_users = std::move(kept);
    }
    std::vector<CandidateScores> cands(val.test_users.size());
    std::vector<std::vector<uint32_t>> user_features(val.test_users.size());
    ParallelFor(val.test_users.size(), options_.threads, [&](size_t k) {
      const uint32_t u = val.test_users[k];
      TimelineQuery tq;
      BuildTimelineQuery(tr, u, &tq);
      user_features[k] = QueryContextFeatures(tq.query);
      cands[k] = candidates(tq.query, tr.UserItems(u));
    });
    const double best = LearnWeights(cands, val);
    validation_ndcg_ = best;
    if (options_.context_weights) {
      validation_ndcg_ = LearnContextDeltas(cands, user_features, val, best);
    }
    blend_seconds_ = SecondsSince(blend_start);
    if (options_.warm_final_fit) {
      // The final fit starts from the validation fit (its data are a
      // subset of these, ids the same): the two fits share the work.
      for (size_t j = 0; j < m; ++j) {
        if (!warm[j]) warm[j] = std::shared_ptr<const Recommender>(std::move(val_models[j]));
      }
    }
  }
  warm_start_.reset();
  Status fitted = fit_all(data, models_, /*final_fit=*/true);
  options_.on_stage = nullptr;  // it may refer to the caller's stack
  retrieval_prepared_ = false;
  if (fitted.ok()) PrepareServing(/*may_defer=*/false);
  return fitted;
}

double Fused::LearnWeights(const std::vector<CandidateScores>& cands, const eval::TemporalSplit& val) {
  const size_t m = components_.size();
  const size_t n_users = cands.size();
  const std::span<const uint32_t> rank = val.train.item_rank();
  // Mean validation NDCG@10 of `w`, user k counted count[k] times (empty:
  // once each); users counted 0 times are not ranked.
  auto objective = [&](const std::vector<double>& w, const std::vector<uint32_t>& count) {
    std::vector<double> per(n_users, 0.0);
    ParallelFor(n_users, options_.threads, [&](size_t k) {
      const double c = count.empty() ? 1.0 : count[k];
      if (c == 0) return;
      auto top = RankCandidates(cands[k], w, 10, rank);
      per[k] = c * eval::NdcgAtK(top, val.test_items[val.test_users[k]], 10);
    });
    double s = 0;
    for (double v : per) s += v;
    return n_users == 0 ? 0.0 : s / static_cast<double>(n_users);
  };
  // Coordinate search from `w`: each component's grid in turn (in `order`),
  // a weight kept when it raises the objective, until a pass changes nothing.
  auto search = [&](std::vector<double> w, const std::vector<uint32_t>& count, const std::vector<size_t>& order) {
    double best = objective(w, count);
    for (int round = 0; round < options_.search_rounds; ++round) {
      bool improved = false;
      for (size_t j : order) {
        const std::vector<double>& grid = components_[j].grid.empty() ? options_.grid : components_[j].grid;
        for (double g : grid) {
          if (g == w[j]) continue;
          std::vector<double> trial = w;
          trial[j] = g;
          const double v = objective(trial, count);
          if (v > best + 1e-9) best = v, w = std::move(trial), improved = true;
        }
      }
      if (!improved) break;
    }
    return w;
  };
  std::vector<size_t> order(m);
  for (size_t j = 0; j < m; ++j) order[j] = j;
  if (options_.weight_bags <= 0 || n_users == 0) {
    weights_ = search(weights_, {}, order);
  } else {
    // A blend ranks by w . z, so only the direction of w matters: each bag's
    // weights enter the mean as shares of their sum, and the mean is scaled
    // back to the bags' mean sum (weights of the grid's magnitude).
    const std::vector<double> start = weights_;
    std::vector<double> mean(m, 0.0);
    double scale = 0;
    for (int b = 0; b < options_.weight_bags; ++b) {
      // Bag b draws its resample from its own stream (seed + b), then
      // shuffles the order the bag before it used.
      uint64_t state = SplitMix64(options_.weight_bag_seed + static_cast<uint64_t>(b));
      std::vector<uint32_t> count(n_users, 0);
      for (size_t d = 0; d < n_users; ++d) ++count[SplitMix64Next(&state) % n_users];
      // The search is path-dependent: each bag visits the components in its
      // own uniformly random order (Fisher-Yates of any permutation), so the
      // mean also averages over paths.
      for (size_t j = m; j > 1; --j) std::swap(order[j - 1], order[SplitMix64Next(&state) % j]);
      const std::vector<double> w = search(start, count, order);
      double sum = 0;
      for (double x : w) sum += std::abs(x);
      if (sum == 0) continue;  // every weight 0: no direction to add
      for (size_t j = 0; j < m; ++j) mean[j] += w[j] / sum;
      scale += sum;
    }
    if (scale > 0) {
      double shares = 0;
      for (double x : mean) shares += std::abs(x);
      for (double& x : mean) x *= scale / options_.weight_bags / shares;
      weights_ = std::move(mean);
    }  // else every bag switched every component off: keep the start
  }
  return objective(weights_, {});
}

double Fused::LearnContextDeltas(const std::vector<CandidateScores>& cands,
                                 const std::vector<std::vector<uint32_t>>& user_features,
                                 const eval::TemporalSplit& val, double mean_ndcg) {
  const size_t m = weights_.size();
  const size_t n_users = cands.size();
  const std::span<const uint32_t> rank = val.train.item_rank();
  context_delta_.assign(feature_names_.size(), std::vector<double>());
  std::vector<std::vector<size_t>> users_of(feature_names_.size());
  for (size_t k = 0; k < n_users; ++k) {
    for (uint32_t f : user_features[k]) {
      if (f < users_of.size()) users_of[f].push_back(k);
    }
  }
  auto user_weights = [&](size_t k) {
    std::vector<double> w = weights_;
    for (uint32_t f : user_features[k]) {
      if (f >= context_delta_.size() || context_delta_[f].empty()) continue;
      for (size_t j = 0; j < m; ++j) {
        if (weights_[j] != 0) w[j] += context_delta_[f][j];
      }
    }
    return w;
  };
  auto ndcg_of = [&](size_t k) {
    auto top = RankCandidates(cands[k], user_weights(k), 10, rank);
    return eval::NdcgAtK(top, val.test_items[val.test_users[k]], 10);
  };
  std::vector<double> per(n_users);
  ParallelFor(n_users, options_.threads, [&](size_t k) { per[k] = ndcg_of(k); });
  const double n = static_cast<double>(std::max<size_t>(1, n_users));
  for (size_t f = 0; f < users_of.size(); ++f) {
    const auto& users = users_of[f];
    if (users.size() < options_.min_context_users) continue;
    if (f < kDerivedContextFeatures && !options_.derived_context_weights) continue;
    context_delta_[f].assign(m, 0.0);
    for (size_t j = 0; j < m; ++j) {
      if (weights_[j] == 0) continue;
      double best_gain = 0, best_delta = 0;
      std::vector<double> best_per;
      for (double g : options_.context_grid) {
        context_delta_[f][j] = g;
        std::vector<double> trial(users.size());
        ParallelFor(users.size(), options_.threads, [&](size_t x) { trial[x] = ndcg_of(users[x]); });
        double gain = 0;
        for (size_t x = 0; x < users.size(); ++x) gain += trial[x] - per[users[x]];
        gain /= n;
        if (gain > best_gain) best_gain = gain, best_delta = g, best_per = std::move(trial);
      }
      if (best_gain >= options_.min_context_gain) {
        context_delta_[f][j] = best_delta;
        for (size_t x = 0; x < users.size(); ++x) per[users[x]] = best_per[x];
        mean_ndcg += best_gain;
      } else {
        context_delta_[f][j] = 0;
      }
    }
    bool any = false;
    for (double d : context_delta_[f]) any = any || d != 0;
    if (!any) context_delta_[f].clear();
  }
  return mean_ndcg;
}

std::vector<double> Fused::EffectiveWeights(const UserQuery& query,
                                            std::span<const double> base) const {
  std::vector<double> w = base.size() == weights_.size()
                              ? std::vector<double>(base.begin(), base.end())
                              : weights_;
  if (context_delta_.empty()) return w;
  const std::vector<double> given = w;
  for (uint32_t f : QueryContextFeatures(query)) {
    if (f >= context_delta_.size() || context_delta_[f].empty()) continue;
    for (size_t j = 0; j < w.size(); ++j) {
      if (given[j] != 0) w[j] += context_delta_[f][j];
    }
  }
  return w;
}

std::vector<Fused::ContextDelta> Fused::ContextDeltas() const {
  std::vector<ContextDelta> out;
  for (size_t f = 0; f < context_delta_.size(); ++f) {
    for (size_t j = 0; j < context_delta_[f].size(); ++j) {
      if (context_delta_[f][j] != 0) out.push_back({feature_names_[f], j, context_delta_[f][j]});
    }
  }
  return out;
}

void Fused::SetContextDeltas(const std::vector<ContextDelta>& deltas) {
  context_delta_.assign(feature_names_.size(), std::vector<double>());
  for (const ContextDelta& d : deltas) {
    auto it = std::find(feature_names_.begin(), feature_names_.end(), d.feature);
    if (it == feature_names_.end() || d.component >= weights_.size()) continue;
    auto& row = context_delta_[it - feature_names_.begin()];
    if (row.empty()) row.assign(weights_.size(), 0.0);
    row[d.component] = d.delta;
  }
}

void Fused::Score(const UserQuery& query, std::span<float> scores) const {
  const std::vector<uint32_t> exclude = SortedUnique(query.items);
  CandidateScores c = Candidates(query, exclude, options_.candidates_per_model);
  std::fill(scores.begin(), scores.end(), kNegInf);
  const std::vector<double> w = EffectiveWeights(query);
  const size_t m = w.size();
  for (size_t r = 0; r < c.items.size(); ++r) {
    double s = 0;
    for (size_t j = 0; j < m; ++j) s += w[j] * c.z[r * m + j];
    scores[c.items[r]] = static_cast<float>(s);
  }
}

std::vector<Fused::Explained> Fused::RecommendExplained(
    const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
    const std::function<bool(uint32_t)>& allow, std::span<const double> weights,
    Normalisation* normalisation) const {
  std::vector<const Recommender*> ptrs;
  for (auto& p : models_) ptrs.push_back(p.get());
  const size_t m = models_.size();
  const std::vector<double> w = EffectiveWeights(query, weights);
  std::vector<Explained> out;
  for (size_t per_model : {options_.candidates_per_model, static_cast<size_t>(num_items_)}) {
    // The widening pass (every item) is exhaustive whatever the retrieval.
    CandidateScores c = per_model < num_items_
                            ? Candidates(query, exclude, per_model)
                            : models::ScoreCandidates(ptrs, query, exclude, per_model, item_rank_);
    if (normalisation) *normalisation = {c.mean, c.inv_std, w};
    std::vector<ScoredItem> scored;
    scored.reserve(c.items.size());
    for (size_t r = 0; r < c.items.size(); ++r) {
      if (allow && !allow(c.items[r])) continue;
      double s = 0;
      for (size_t j = 0; j < m; ++j) s += w[j] * c.z[r * m + j];
      scored.push_back({static_cast<uint32_t>(r), static_cast<float>(s)});
    }
    // Rank by score, ties by the item's protocol rank; only the first k
    // are read.
    const size_t ranked = std::min(k, scored.size());
    std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(ranked),
                      scored.end(), [&](const ScoredItem& a, const ScoredItem& b) {
                        if (a.score != b.score) return a.score > b.score;
                        return item_rank_[c.items[a.item]] < item_rank_[c.items[b.item]];
                      });
    if (scored.size() < k && per_model < num_items_) continue;  // widen to every item
    for (size_t i = 0; i < scored.size() && out.size() < k; ++i) {
      const size_t r = scored[i].item;
      Explained e;
      e.item = c.items[r];
      e.score = scored[i].score;
      e.contributions.resize(m);
      for (size_t j = 0; j < m; ++j) e.contributions[j] = static_cast<float>(w[j] * c.z[r * m + j]);
      out.push_back(std::move(e));
    }
    break;
  }
  return out;
}

void Fused::PrepareServing(bool may_defer) {
  two_stage_ = ServesTwoStage(options_, num_items_);
  if (!two_stage_ || retrieval_prepared_) return;
  for (auto& model : models_) {
    if (auto work = model->PrepareRetrieval(item_rank_, may_defer)) {
      deferred_work_.push_back(std::move(work));
    }
  }
  by_rank_ = ItemsByRank(item_rank_);
  retrieval_prepared_ = true;
}

void Fused::SetRetrieval(Retrieval retrieval) {
  options_.retrieval = retrieval;
  PrepareServing(/*may_defer=*/false);
}

CandidateScores Fused::Candidates(const UserQuery& query, std::span<const uint32_t> exclude,
                                  size_t per_model) const {
  if (two_stage_ && retrieval_prepared_) return TwoStageCandidates(query, exclude, per_model);
  std::vector<const Recommender*> ptrs;
  for (auto& p : models_) ptrs.push_back(p.get());
  return models::ScoreCandidates(ptrs, query, exclude, per_model, item_rank_);
}

CandidateScores Fused::TwoStageCandidates(const UserQuery& query,
                                          std::span<const uint32_t> exclude,
                                          size_t per_model) const {
  std::vector<const Recommender*> ptrs;
  for (auto& p : models_) ptrs.push_back(p.get());
  return TwoStageScoreCandidates(ptrs, query, exclude, per_model, item_rank_, by_rank_);
}

CandidateScores TwoStageScoreCandidates(const std::vector<const Recommender*>& models,
                                        const UserQuery& query, std::span<const uint32_t> exclude,
                                        size_t per_model, std::span<const uint32_t> item_rank,
                                        std::span<const uint32_t> by_rank) {
  const size_t m = models.size();
  const uint32_t n = static_cast<uint32_t>(item_rank.size());
  thread_local TwoStageScratch scratch;
  TwoStageScratch& t = scratch;
  t.Acquire(n, m);
  std::vector<uint32_t> excl;
  for (uint32_t i : exclude) {
    if (i < n) excl.push_back(i);
  }
  std::sort(excl.begin(), excl.end());
  excl.erase(std::unique(excl.begin(), excl.end()), excl.end());
  for (uint32_t i : excl) t.excluded[i] = 1;
  auto excluded = [&](uint32_t i) { return t.excluded[i] != 0; };
  // How component j's candidates get their scores.
  enum class Kind { kFull, kSparse, kRetrieved };
  std::vector<Kind> kind(m, Kind::kFull);
  std::vector<std::vector<float>> full(m);  // kFull: z of every item
  CandidateScores out;
  out.mean.assign(m, 0.0);
  out.inv_std.assign(m, 0.0);
  std::vector<uint32_t> nominated;
  auto set_moments = [&](size_t j, double sum, double sq, double cnt) {
    const double mean = cnt > 0 ? sum / cnt : 0.0;
    const double var = cnt > 0 ? std::max(0.0, sq / cnt - mean * mean) : 0.0;
    out.mean[j] = mean;
    out.inv_std[j] = var > 0 ? 1.0 / std::sqrt(var) : 0.0;
  };
  auto z_of = [&](size_t j, float s) {
    return std::isfinite(s) ? static_cast<float>((s - out.mean[j]) * out.inv_std[j]) : -10.0f;
  };
  // TopK's order: z descending, then item rank.
  auto better = [&](const ScoredItem& a, const ScoredItem& b) {
    if (a.score != b.score) return a.score > b.score;
    return item_rank[a.item] < item_rank[b.item];
  };
  const double live = static_cast<double>(n - excl.size());
  for (size_t j = 0; j < m; ++j) {
    const Recommender& model = *models[j];
    std::vector<uint32_t> got;
    double sum = 0, sq = 0;
    // kSparse: the entries summed into the component's dense row in the
    // order Score adds them (bit-equal sums), O(entries). An accumulator no
    // sparse component has used yet has capacity 0 and takes no entries: a
    // sparse component then sizes it and adds its entries again (once per
    // thread and component index).
    SparseAccumulator& acc = t.sparse[j];
    if (acc.capacity() > 0) acc.Resize(n);
    const bool sparse = model.SparseAccumulate(query, &acc);
    if (sparse && acc.capacity() == 0 && n > 0) {
      acc.Resize(n);
      model.SparseAccumulate(query, &acc);
    }
    if (sparse) {
      kind[j] = Kind::kSparse;
      // The whole-catalog moments: every unlisted item scores exactly 0.
      size_t nonfinite = 0;
      for (uint32_t i : acc.touched()) {
        if (excluded(i)) continue;
        const float v = acc.Value(i);
        if (!std::isfinite(v)) {
          ++nonfinite;
          continue;
        }
        sum += v, sq += static_cast<double>(v) * v;
      }
      set_moments(j, sum, sq, live - static_cast<double>(nonfinite));
      // Nominees: the top per_model by TopK's order among the listed live
      // items and the items scoring 0, which the list leaves out -- the
      // items TopK picks from every item's z. An item scoring 0 loses to
      // every item above its z and ties the rest at it by item rank, so at
      // most per_model - `above` of them, the best-ranked, can be nominated.
      // A heap keeps the best per_model offered, its front the worst kept:
      // O(listed) comparisons, and, the order being total (item ranks
      // differ), the same set as selecting from the whole pool.
      const float zero_z = z_of(j, 0.0f);
      t.pool.clear();
      auto offer = [&](const ScoredItem& x) {
        if (t.pool.size() < per_model) {
          t.pool.push_back(x);
          std::push_heap(t.pool.begin(), t.pool.end(), better);
        } else if (better(x, t.pool.front())) {
          std::pop_heap(t.pool.begin(), t.pool.end(), better);
          t.pool.back() = x;
          std::push_heap(t.pool.begin(), t.pool.end(), better);
        }
      };
      size_t above = 0;
      for (uint32_t i : acc.touched()) {
        if (excluded(i)) continue;
        const float z = z_of(j, acc.Value(i));
        above += z > zero_z;
        if (per_model > 0) offer({i, z});
      }
      if (above < per_model) {
        const size_t want = per_model - above;
        size_t zeros = 0;
        for (uint32_t i : by_rank) {
          if (zeros == want) break;
          if (excluded(i) || acc.Has(i)) continue;
          offer({i, zero_z});
          ++zeros;
        }
      }
      for (const ScoredItem& x : t.pool) nominated.push_back(x.item);
    } else if (model.Retrieve(query, per_model, excl, &got) &&
               model.ScoreMoments(query, excl, &sum, &sq)) {
      kind[j] = Kind::kRetrieved;
      set_moments(j, sum, sq, live);
      nominated.insert(nominated.end(), got.begin(), got.end());
    } else {
      // No fast path: as ScoreCandidates.
      std::vector<float>& s = full[j];
      s.resize(n);
      model.Score(query, s);
      size_t cnt = 0;
      for (uint32_t i = 0; i < n; ++i) {
        if (excluded(i) || !std::isfinite(s[i])) continue;
        sum += s[i], sq += static_cast<double>(s[i]) * s[i], ++cnt;
      }
      set_moments(j, sum, sq, static_cast<double>(cnt));
      for (uint32_t i = 0; i < n; ++i) s[i] = z_of(j, s[i]);
      for (uint32_t i : excl) s[i] = kNegInf;
      for (const ScoredItem& c : TopK(s, per_model, item_rank)) nominated.push_back(c.item);
    }
  }
  // The union in first-nomination order, deduplicated through `slot`
  // (1 + the candidate's row, kept while the columns fill): O(nominees), no
  // sort (the ranking orders ties by item rank, not by position).
  out.items.reserve(nominated.size());
  for (uint32_t i : nominated) {
    if (t.slot[i] != 0) continue;
    out.items.push_back(i);
    t.slot[i] = static_cast<uint32_t>(out.items.size());
  }
  const size_t c = out.items.size();
  out.z.resize(c * m);
  std::vector<float> s(c);
  for (size_t j = 0; j < m; ++j) {
    switch (kind[j]) {
      case Kind::kFull:
        for (size_t r = 0; r < c; ++r) out.z[r * m + j] = full[j][out.items[r]];
        break;
      case Kind::kSparse: {
        const float zero_z = z_of(j, 0.0f);
        const SparseAccumulator& acc = t.sparse[j];
        for (size_t r = 0; r < c; ++r) {
          const uint32_t i = out.items[r];
          out.z[r * m + j] = acc.Has(i) ? z_of(j, acc.Value(i)) : zero_z;
        }
        break;
      }
      case Kind::kRetrieved:
        models[j]->ScoreItems(query, out.items, s);
        for (size_t r = 0; r < c; ++r) out.z[r * m + j] = z_of(j, s[r]);
        break;
    }
  }
  for (uint32_t i : out.items) t.slot[i] = 0;
  for (uint32_t i : excl) t.excluded[i] = 0;
  for (size_t j = 0; j < m; ++j) t.sparse[j].Clear();
  t.Release();
  return out;
}

RecommenderFactory DefaultComponentFactory(std::string_view name, const ComponentConfig& config) {
  const int threads = config.threads;
  if (name == "ials") {
    return [threads, factors = config.ials_factors, iterations = config.ials_iterations,
            retrieval = config.ials_retrieval_candidates, ef = config.ials_retrieval_ef_search] {
      IalsOptions o;
      o.threads = threads;
      o.factors = factors;
      o.iterations = iterations;
      if (retrieval > 0) o.retrieval_candidates = retrieval;
      if (ef > 0) o.retrieval_ef_search = ef;
      return std::make_unique<Ials>(o);
    };
  }
  if (name == "ease") {
    return [threads] {
      EaseOptions o;
      o.threads = threads;
      return std::make_unique<Ease>(o);
    };
  }
  if (name == "itemknn") {
    return [threads] {
      ItemKnnOptions o;
      o.threads = threads;
      return std::make_unique<ItemKnn>(o);
    };
  }
  for (const auto& recent : {std::pair<size_t, double>{1, 0.7}, {5, 0.7}, {20, 0.9}}) {
    if (name != "recentknn" + std::to_string(recent.first)) continue;
    return [threads, recent, neighbours = config.recent_knn_neighbours,
            cache = config.neighbour_cache] {
      RecentKnnOptions o;
      o.last_items = recent.first;
      o.decay = recent.second;
      o.threads = threads;
      o.neighbours = neighbours;
      o.cache = cache;
      return std::make_unique<RecentKnn>(o);
    };
  }
  if (name == "cooc_directed" || name == "cooc_symmetric") {
    const bool directed = name == "cooc_directed";
    const uint32_t min_users = config.min_pair_users;
    return [threads, directed, min_users] {
      CooccurrenceOptions o;
      o.directed = directed;
      o.min_users = min_users;
      o.threads = threads;
      return std::make_unique<Cooccurrence>(o);
    };
  }
  if (name == "trending") return [] { return std::make_unique<Trending>(); };
  if (name == "context_pop") return [] { return std::make_unique<ContextPopularity>(); };
  if (name == "content") {
    return [content = config.content] { return std::make_unique<ContentProfile>(content); };
  }
  // A component of an optional module (component_registry.h).
  LoadComponentPlugins();
  return RegisteredComponentFactory(name, config);
}

std::vector<std::string> LeftOutComponents(uint32_t num_items) {
  std::vector<std::string> out;
  const uint32_t ease_max = EaseOptions().max_items;
  if (num_items > ease_max) {
    const double gb = 4.0 * static_cast<double>(num_items) * num_items / 1e9;
    char reason[256];
    std::snprintf(reason, sizeof reason,
                  "ease left out of the blend: %u items is more than EaseOptions::max_items (%u); "
                  "its item x item matrix would take %.1f GB",
                  num_items, ease_max, gb);
    out.push_back(reason);
  }
  return out;
}

std::vector<Fused::Component> DefaultFusedComponents(uint32_t num_items,
                                                     const ComponentConfig& config,
                                                     bool context_popularity) {
  std::vector<std::string> names = {"ials"};
  if (num_items <= EaseOptions().max_items) names.push_back("ease");  // LeftOutComponents
  for (const char* n : {"itemknn", "recentknn1", "recentknn5", "recentknn20", "cooc_directed",
                        "cooc_symmetric", "trending"}) {
    names.push_back(n);
  }
  if (context_popularity) names.push_back("context_pop");
  if (config.content) names.push_back("content");
  // Plugins load only when a component is opted in: dlopen() of one pulls
  // its whole dependency tree (libtorch: ~0.4 s per process), which every
  // Train, CLI call and fault-sweep child would pay otherwise.
  if (!OptedInComponents().empty()) LoadComponentPlugins();
  for (std::string& name : RegisteredComponentNames(/*default_blend_only=*/true)) {
    names.push_back(std::move(name));
  }
  std::vector<Fused::Component> c;
  for (const std::string& name : names) c.push_back({name, DefaultComponentFactory(name, config), 1.0});
  return c;
}

std::vector<Fused::Component> DefaultFusedComponents(int threads, uint32_t num_items,
                                                     std::shared_ptr<const ItemVectors> content,
                                                     bool context_popularity,
                                                     uint32_t min_pair_users) {
  ComponentConfig config;
  config.threads = threads;
  config.min_pair_users = min_pair_users;
  config.content = std::move(content);
  return DefaultFusedComponents(num_items, config, context_popularity);
}

std::vector<std::pair<std::string, double>> Fused::Weights() const {
  std::vector<std::pair<std::string, double>> out;
  for (size_t j = 0; j < components_.size(); ++j) {
    out.emplace_back(components_[j].name, j < weights_.size() ? weights_[j] : components_[j].weight);
  }
  return out;
}

Status Fused::Save(ModelWriter& out) const {
  out.Put<uint64_t>(models_.size());
  for (size_t j = 0; j < models_.size(); ++j) {
    out.PutString(components_[j].name);
    // In place (no copy of a component's state); shares objects stored once (PutShared).
    ModelWriter part = out.BeginBlock();
    RECDB_RETURN_IF_ERROR(models_[j]->Save(part).WithContext(components_[j].name));
    out.EndBlock(part);
  }
  out.PutVector(weights_);
  out.Put(validation_ndcg_);
  out.Put(num_items_);
  out.PutVector(item_rank_);
  out.PutStrings(feature_names_);
  out.Put<uint64_t>(context_delta_.size());
  for (const auto& row : context_delta_) out.PutVector(row);
  return Status::OK();
}

// Layout: u64 component count, then per component its name, a u8 (1: its
// state follows as a block, 0: none).
bool Fused::SaveRetrieval(ModelWriter& out) const {
  out.Put<uint64_t>(models_.size());
  bool any = false;
  for (size_t j = 0; j < models_.size(); ++j) {
    out.PutString(components_[j].name);
    ModelWriter part = out.Child();
    const bool has = models_[j]->SaveRetrieval(part);
    out.Put<uint8_t>(has ? 1 : 0);
    if (has) out.PutBlock(part);
    any = any || has;
  }
  return any;
}

Status Fused::Load(ModelReader& in) { return LoadImpl(in, nullptr, nullptr); }

Status Fused::LoadWithRetrieval(ModelReader& in, ModelReader& retrieval, size_t* adopted) {
  return LoadImpl(in, &retrieval, adopted);
}

Status Fused::LoadImpl(ModelReader& in, ModelReader* retrieval, size_t* adopted) {
  if (adopted != nullptr) *adopted = 0;
  uint64_t m = 0;
  if (!in.Get(&m)) return in.status();
  if (m != components_.size()) {
    return Status::InvalidArgument("fused: stored model has " + std::to_string(m) +
                                   " components, this blend " + std::to_string(components_.size()));
  }
  models_.clear();
  for (const Component& c : components_) {
    std::string name;
    ModelReader part("");
    if (!in.GetString(&name) || !in.GetBlock(&part, "model component " + c.name)) return in.status();
    if (name != c.name) {
      return Status::InvalidArgument("fused: stored component '" + name + "' where this blend has '" +
                                     c.name + "'");
    }
    models_.push_back(c.factory());
    if (!models_.back()) return Status::InvalidArgument("fused: factory returned null");
    RECDB_RETURN_IF_ERROR(models_.back()->Load(part));
    RECDB_RETURN_IF_ERROR(part.Finish());
  }
  uint64_t features = 0;
  if (!in.GetVector(&weights_) || !in.Get(&validation_ndcg_) || !in.Get(&num_items_) ||
      !in.GetVector(&item_rank_) || !in.GetStrings(&feature_names_) || !in.Get(&features) ||
      !in.Expect(weights_.size() == m && item_rank_.size() == num_items_ &&
                     features <= feature_names_.size(),
                 "blend")) {
    return in.status();
  }
  context_delta_.assign(features, {});
  for (auto& row : context_delta_) {
    if (!in.GetVector(&row) || !in.Expect(row.empty() || row.size() == m, "context deltas")) break;
  }
  for (size_t j = 0; in.ok() && j < m; ++j) {
    if (!in.Expect(models_[j]->num_items() == num_items_, "component item count")) break;
  }
  retrieval_prepared_ = false;
  if (in.ok() && retrieval != nullptr) {
    // Stored two-stage state; a component that does not adopt its state
    // builds it below as without any.
    uint64_t stored = 0;
    if (retrieval->Get(&stored) && retrieval->Expect(stored == m, "retrieval component count")) {
      for (size_t j = 0; j < m; ++j) {
        std::string name;
        uint8_t has = 0;
        if (!retrieval->GetString(&name) ||
            !retrieval->Expect(name == components_[j].name, "retrieval component") ||
            !retrieval->Get(&has)) {
          break;
        }
        if (has == 0) continue;
        ModelReader part("");
        if (!retrieval->GetBlock(&part, "retrieval state of " + components_[j].name)) break;
        if (models_[j]->LoadRetrieval(part) && adopted != nullptr) ++*adopted;
      }
    }
  }
  // Open must not wait for the iALS index (seconds per 100K items): the
  // caller runs TakeDeferredWork() in the background while the blend scores
  // iALS in full.
  if (in.ok()) PrepareServing(/*may_defer=*/true);
  return in.status();
}

}  // namespace recdb::models
