#include "engine/models/fused.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include "engine/eval/metrics.h"
#include "engine/eval/split.h"
#include "engine/models/cooccurrence.h"
#include "engine/models/ease.h"
#include "engine/models/ials.h"
#include "engine/models/item_knn.h"
#include "engine/models/trending.h"

namespace recdb::models {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k; (k = next.fetch_add(1)) < n;) fn(k);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

// Top `k` candidate positions by (fused score desc, item rank asc).
std::vector<uint32_t> RankCandidates(const CandidateScores& c, std::span<const double> w,
                                     size_t k, std::span<const uint32_t> item_rank) {
  const size_t m = w.size();
  std::vector<float> fused(c.items.size());
  for (size_t r = 0; r < c.items.size(); ++r) {
    double s = 0;
    for (size_t j = 0; j < m; ++j) s += w[j] * c.z[r * m + j];
    fused[r] = static_cast<float>(s);
  }
  std::vector<uint32_t> order(c.items.size());
  for (uint32_t r = 0; r < order.size(); ++r) order[r] = r;
  const size_t top = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](uint32_t a, uint32_t b) {
    if (fused[a] != fused[b]) return fused[a] > fused[b];
    return item_rank[c.items[a]] < item_rank[c.items[b]];
  });
  order.resize(top);
  for (uint32_t& r : order) r = c.items[r];
  return order;
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
  const size_t m = components_.size();
  weights_.clear();
  for (const Component& c : components_) weights_.push_back(c.weight);
  validation_ndcg_ = 0;

  auto fit_all = [&](const Dataset& d, std::vector<std::unique_ptr<Recommender>>& out) -> Status {
    out.clear();
    for (const Component& c : components_) {
      out.push_back(c.factory());
      if (!out.back()) return Status::InvalidArgument("fused: factory returned null");
      RECDB_RETURN_IF_ERROR(out.back()->Fit(d).WithContext(c.name));
    }
    return Status::OK();
  };

  if (options_.learn_weights) {
    eval::SplitOptions so;
    so.test_fraction = options_.validation_fraction;
    RECDB_ASSIGN_OR_RETURN(eval::TemporalSplit val, eval::SplitByTime(data, so));
    std::vector<std::unique_ptr<Recommender>> val_models;
    RECDB_RETURN_IF_ERROR(fit_all(val.train, val_models));
    std::vector<const Recommender*> ptrs;
    for (auto& p : val_models) ptrs.push_back(p.get());
    const Dataset& tr = val.train;
    std::vector<CandidateScores> cands(val.test_users.size());
    ParallelFor(val.test_users.size(), options_.threads, [&](size_t k) {
      const uint32_t u = val.test_users[k];
      std::vector<uint32_t> items;
      std::vector<int64_t> stamps;
      for (uint32_t e : tr.UserTimeline(u)) {
        items.push_back(tr.interactions()[e].item);
        stamps.push_back(tr.interactions()[e].ts);
      }
      UserQuery q;
      q.user = u;
      q.items = items;
      q.timestamps = stamps;
      cands[k] = ScoreCandidates(ptrs, q, tr.UserItems(u), options_.candidates_per_model,
                                 tr.item_rank());
    });
    auto objective = [&](const std::vector<double>& w) {
      std::vector<double> per(cands.size());
      ParallelFor(cands.size(), options_.threads, [&](size_t k) {
        auto top = RankCandidates(cands[k], w, 10, tr.item_rank());
        per[k] = eval::NdcgAtK(top, val.test_items[val.test_users[k]], 10);
      });
      double s = 0;
      for (double v : per) s += v;
      return per.empty() ? 0.0 : s / static_cast<double>(per.size());
    };
    double best = objective(weights_);
    for (int round = 0; round < options_.search_rounds; ++round) {
      bool improved = false;
      for (size_t j = 0; j < m; ++j) {
        for (double g : options_.grid) {
          if (g == weights_[j]) continue;
          std::vector<double> w = weights_;
          w[j] = g;
          const double v = objective(w);
          if (v > best + 1e-9) best = v, weights_ = w, improved = true;
        }
      }
      if (!improved) break;
    }
    validation_ndcg_ = best;
  }
  return fit_all(data, models_);
}

void Fused::Score(const UserQuery& query, std::span<float> scores) const {
  std::vector<const Recommender*> ptrs;
  for (auto& p : models_) ptrs.push_back(p.get());
  const std::vector<uint32_t> exclude = SortedUnique(query.items);
  CandidateScores c =
      ScoreCandidates(ptrs, query, exclude, options_.candidates_per_model, item_rank_);
  std::fill(scores.begin(), scores.end(), kNegInf);
  const size_t m = weights_.size();
  for (size_t r = 0; r < c.items.size(); ++r) {
    double s = 0;
    for (size_t j = 0; j < m; ++j) s += weights_[j] * c.z[r * m + j];
    scores[c.items[r]] = static_cast<float>(s);
  }
}

std::vector<Fused::Explained> Fused::RecommendExplained(
    const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
    const std::function<bool(uint32_t)>& allow, std::span<const double> weights) const {
  std::vector<const Recommender*> ptrs;
  for (auto& p : models_) ptrs.push_back(p.get());
  const size_t m = models_.size();
  std::span<const double> w = weights.size() == m ? weights : std::span<const double>(weights_);
  std::vector<Explained> out;
  for (size_t per_model : {options_.candidates_per_model, static_cast<size_t>(num_items_)}) {
    CandidateScores c = ScoreCandidates(ptrs, query, exclude, per_model, item_rank_);
    std::vector<ScoredItem> scored;
    scored.reserve(c.items.size());
    for (size_t r = 0; r < c.items.size(); ++r) {
      if (allow && !allow(c.items[r])) continue;
      double s = 0;
      for (size_t j = 0; j < m; ++j) s += w[j] * c.z[r * m + j];
      scored.push_back({static_cast<uint32_t>(r), static_cast<float>(s)});
    }
    // Rank by score, ties by the item's protocol rank.
    std::sort(scored.begin(), scored.end(), [&](const ScoredItem& a, const ScoredItem& b) {
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

std::vector<Fused::Component> DefaultFusedComponents(int threads, uint32_t num_items) {
  std::vector<Fused::Component> c;
  c.push_back({"ials", [threads] {
                 IalsOptions o;
                 o.threads = threads;
                 return std::make_unique<Ials>(o);
               }, 1.0});
  if (num_items <= EaseOptions().max_items) {
    c.push_back({"ease", [] { return std::make_unique<Ease>(); }, 1.0});
  }
  c.push_back({"itemknn", [threads] {
                 ItemKnnOptions o;
                 o.threads = threads;
                 return std::make_unique<ItemKnn>(o);
               }, 1.0});
  for (auto [last, decay] : {std::pair<size_t, double>{1, 0.7}, {5, 0.7}, {20, 0.9}}) {
    c.push_back({"recentknn" + std::to_string(last), [threads, last, decay] {
                   RecentKnnOptions o;
                   o.last_items = last;
                   o.decay = decay;
                   o.threads = threads;
                   return std::make_unique<RecentKnn>(o);
                 }, 1.0});
  }
  for (bool directed : {true, false}) {
    c.push_back({directed ? "cooc_directed" : "cooc_symmetric", [threads, directed] {
                   CooccurrenceOptions o;
                   o.directed = directed;
                   o.threads = threads;
                   return std::make_unique<Cooccurrence>(o);
                 }, 1.0});
  }
  c.push_back({"trending", [] { return std::make_unique<Trending>(); }, 1.0});
  return c;
}

std::vector<std::pair<std::string, double>> Fused::Weights() const {
  std::vector<std::pair<std::string, double>> out;
  for (size_t j = 0; j < components_.size(); ++j) {
    out.emplace_back(components_[j].name, j < weights_.size() ? weights_[j] : components_[j].weight);
  }
  return out;
}

}  // namespace recdb::models
