#include "engine/models/context_popularity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "engine/models/context.h"

namespace recdb::models {

Status ContextPopularity::Fit(const Dataset& data) {
  if (!(options_.half_life_seconds > 0)) {
    return Status::InvalidArgument("context_pop: half_life_seconds must be > 0");
  }
  if (!(options_.smoothing >= 0)) return Status::InvalidArgument("context_pop: smoothing must be >= 0");
  const uint32_t n = data.num_items();
  const auto& ev = data.interactions();
  int64_t t_end = std::numeric_limits<int64_t>::min();
  for (const Interaction& e : ev) t_end = std::max(t_end, e.ts);
  const double lambda = std::log(2.0) / options_.half_life_seconds;
  std::vector<double> overall(n, 0.0);
  std::vector<std::unordered_map<uint32_t, double>> by_feature(data.context_feature_names().size());
  std::vector<double> feature_events(by_feature.size(), 0.0);
  for (const Interaction& e : ev) {
    const double w = e.weight * std::exp(-lambda * static_cast<double>(t_end - e.ts));
    overall[e.item] += w;
    for (uint32_t f : InteractionContextFeatures(data, e)) {
      by_feature[f][e.item] += w;
      feature_events[f] += 1;
    }
  }
  double total = 0;
  for (double c : overall) total += c;
  log_p_.resize(n);
  p_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const double p = (overall[i] + 0.5) / (total + 0.5 * n);  // smoothed: unseen items rank last
    p_[i] = static_cast<float>(p);
    log_p_[i] = static_cast<float>(std::log(p));
  }
  features_.assign(by_feature.size(), Feature{});
  for (size_t f = 0; f < by_feature.size(); ++f) {
    if (feature_events[f] < options_.min_feature_events) continue;
    Feature& out = features_[f];
    for (const auto& [item, c] : by_feature[f]) {
      out.counts.push_back({item, static_cast<float>(c)});
      out.total += c;
    }
    std::sort(out.counts.begin(), out.counts.end());
  }
  return Status::OK();
}

void ContextPopularity::ScoreFeatures(std::span<const uint32_t> features,
                                      std::span<float> scores) const {
  const uint32_t n = num_items();
  std::vector<double> s(log_p_.begin(), log_p_.end());
  const double sm = options_.smoothing;
  for (uint32_t f : features) {
    if (f >= features_.size() || features_[f].counts.empty()) continue;
    const Feature& feat = features_[f];
    // Items unseen in this context: log(s p(i) / (C_f + s)) - log p(i).
    const double denom = feat.total + sm;
    if (sm > 0) {
      const double unseen = std::log(sm / denom);
      for (uint32_t i = 0; i < n; ++i) s[i] += unseen;
      for (const auto& [item, c] : feat.counts) {
        s[item] += std::log((c + sm * p_[item]) / denom) - log_p_[item] - unseen;
      }
    } else {
      for (uint32_t i = 0; i < n; ++i) s[i] += -1e3;  // unseen in context: last
      for (const auto& [item, c] : feat.counts) {
        s[item] += std::log(c / denom) - log_p_[item] + 1e3;
      }
    }
  }
  for (uint32_t i = 0; i < n; ++i) scores[i] = static_cast<float>(s[i]);
}

void ContextPopularity::Score(const UserQuery& query, std::span<float> scores) const {
  ScoreFeatures(QueryContextFeatures(query), scores);
}

std::shared_ptr<const ContextPopularity::SetTable> ContextPopularity::TableFor(
    const UserQuery& query) const {
  if (!set_cache_) return nullptr;
  // The features that change the scores, in ScoreFeatures' order (sorted).
  std::vector<uint32_t> key;
  for (uint32_t f : QueryContextFeatures(query)) {
    if (f < features_.size() && !features_[f].counts.empty()) key.push_back(f);
  }
  {
    std::shared_lock lock(set_cache_->mu);
    auto it = set_cache_->tables.find(key);
    if (it != set_cache_->tables.end()) return it->second;
    if (set_cache_->tables.size() >= kMaxCachedSets) return nullptr;
  }
  const uint32_t n = num_items();
  auto t = std::make_shared<SetTable>();
  t->scores.resize(n);
  ScoreFeatures(key, t->scores);
  for (float v : t->scores) t->sum += v, t->sum_sq += static_cast<double>(v) * v;
  const size_t depth = std::min<size_t>(kRetrievalDepth, n);
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  const std::vector<float>& sc = t->scores;
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(depth), order.end(),
                    [&](uint32_t a, uint32_t b) {
                      if (sc[a] != sc[b]) return sc[a] > sc[b];
                      return item_rank_[a] < item_rank_[b];
                    });
  t->best.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(depth));
  std::unique_lock lock(set_cache_->mu);
  if (set_cache_->tables.size() >= kMaxCachedSets && !set_cache_->tables.count(key)) return t;
  return set_cache_->tables.emplace(std::move(key), std::move(t)).first->second;
}

Recommender::DeferredWork ContextPopularity::PrepareRetrieval(std::span<const uint32_t> item_rank,
                                                              bool /*may_defer*/) {
  item_rank_.assign(item_rank.begin(), item_rank.end());
  set_cache_ = std::make_shared<SetCache>();
  if (item_rank_.size() != num_items()) {
    set_cache_.reset();  // no tie-break order: score every item
    return {};
  }
  // The sets of requests without stored features: daypart x weekend
  // (context.h), so that no request pays for building them.
  for (int64_t day = 0; day < 7; ++day) {
    for (int64_t part = 0; part < 4; ++part) {
      UserQuery q;
      q.context_time = 86400 * (4 + day) + part * 6 * 3600 + 1;  // 1970-01-05 was a Monday
      TableFor(q);
    }
  }
  return {};
}

void ContextPopularity::ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                                   std::span<float> out) const {
  if (auto t = TableFor(query)) {
    for (size_t r = 0; r < items.size(); ++r) out[r] = t->scores[items[r]];
    return;
  }
  Recommender::ScoreItems(query, items, out);
}

bool ContextPopularity::Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                                 std::vector<uint32_t>* out) const {
  auto t = TableFor(query);
  if (!t) return false;
  k = std::min<size_t>(k, num_items() - exclude.size());
  std::vector<uint32_t> got;
  for (uint32_t i : t->best) {
    if (got.size() == k) break;
    if (!std::binary_search(exclude.begin(), exclude.end(), i)) got.push_back(i);
  }
  if (got.size() < k) return false;  // too many excluded: the blend scores every item
  out->insert(out->end(), got.begin(), got.end());
  return true;
}

bool ContextPopularity::ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude,
                                     double* sum, double* sum_sq) const {
  auto t = TableFor(query);
  if (!t) return false;
  double a = t->sum, b = t->sum_sq;
  for (uint32_t i : exclude) a -= t->scores[i], b -= static_cast<double>(t->scores[i]) * t->scores[i];
  *sum = a;
  *sum_sq = b;
  return true;
}

}  // namespace recdb::models

namespace recdb::models {

Status ContextPopularity::Save(ModelWriter& out) const {
  out.PutVector(log_p_);
  out.PutVector(p_);
  out.Put<uint64_t>(features_.size());
  for (const Feature& f : features_) {
    out.Put(f.total);
    std::vector<uint32_t> items;
    std::vector<float> counts;
    for (const auto& [item, c] : f.counts) items.push_back(item), counts.push_back(c);
    out.PutVector(items);
    out.PutVector(counts);
  }
  return Status::OK();
}

Status ContextPopularity::Load(ModelReader& in) {
  uint64_t features = 0;
  if (!in.GetVector(&log_p_) || !in.GetVector(&p_) || !in.Get(&features) ||
      !in.Expect(p_.size() == log_p_.size(), "popularity tables") || !in.CanHold(features, 24)) {
    return in.status();
  }
  features_.assign(features, Feature{});
  std::vector<uint32_t> items;
  std::vector<float> counts;
  for (Feature& f : features_) {
    if (!in.Get(&f.total) || !in.GetVector(&items) || !in.GetVector(&counts)) break;
    bool ok = items.size() == counts.size();
    for (uint32_t i : items) ok = ok && i < p_.size();
    if (!in.Expect(ok, "feature counts")) break;
    f.counts.clear();
    for (size_t k = 0; k < items.size(); ++k) f.counts.emplace_back(items[k], counts[k]);
  }
  return in.status();
}

}  // namespace recdb::models
