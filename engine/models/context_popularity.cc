#include "engine/models/context_popularity.h"

#include <algorithm>
#include <cmath>
#include <limits>
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
