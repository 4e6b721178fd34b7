#include "engine/rerank/rerank_eval.h"

#include <algorithm>

#include "common/parallel_for.h"
#include "engine/eval/metrics.h"
#include "engine/models/context.h"

namespace recdb::rerank {

namespace {

std::vector<uint32_t> ItemsOf(const std::vector<Placed>& placed) {
  std::vector<uint32_t> out;
  out.reserve(placed.size());
  for (const Placed& p : placed) out.push_back(p.item);
  return out;
}

}  // namespace

RerankedEvaluation::RerankedEvaluation(const models::Fused& fused,
                                       const eval::TemporalSplit& split,
                                       const eval::EvalOptions& options, size_t max_factor)
    : split_(split),
      options_(options),
      max_factor_(std::max<size_t>(1, max_factor)),
      facts_(BuildCareFacts(split.train, &fused)) {
  const models::Dataset& train = split.train;
  const size_t depth = std::max({options.ndcg_k, options.recall_k, options.list_k}) * max_factor_;
  pools_.resize(split.test_users.size());
  history_mix_.resize(split.test_users.size());
  recent_.resize(split.test_users.size());
  ParallelFor(split.test_users.size(), options.threads, [&](size_t idx) {
    const uint32_t u = split.test_users[idx];
    models::TimelineQuery tq;
    models::BuildTimelineQuery(train, u, &tq);
    for (const auto& r : fused.RecommendExplained(tq.query, depth, train.UserItems(u), nullptr)) {
      pools_[idx].push_back({r.item, r.score});
    }
    history_mix_[idx] = facts_.HistoryMix(train.UserItems(u));
    recent_[idx] = RecentDistinct(tq.items, kMaxRecentItems);  // the timeline: oldest first
  });
}

eval::EvalReport RerankedEvaluation::Evaluate(const CareOptions& care) const {
  const models::Dataset& train = split_.train;
  const uint32_t n_items = train.num_items();
  std::vector<float> popularity(n_items);
  for (uint32_t i = 0; i < n_items; ++i) popularity[i] = static_cast<float>(train.ItemUsers(i).size());
  const std::vector<bool> head = eval::ShortHead(popularity, options_.short_head_share);
  const size_t factor = std::clamp<size_t>(care.candidate_factor, 1, max_factor_);
  const ItemFacts items = facts_.Items();

  std::vector<eval::UserMetrics> results(split_.test_users.size());
  ParallelFor(results.size(), options_.threads, [&](size_t idx) {
    const uint32_t u = split_.test_users[idx];
    const auto& pool = pools_[idx];
    UserFacts user;
    user.history_mix = history_mix_[idx];
    if (care.calibration_recent_items > 0) {
      const auto& recent = recent_[idx];
      user.recent_items.assign(
          recent.begin(), recent.begin() + std::min(recent.size(), care.calibration_recent_items));
    }
    const uint64_t seed = care.exploration_seed ^ (uint64_t{u} * 0x9E3779B97F4A7C15ull);
    auto rerank_at = [&](size_t k) {
      std::span<const Candidate> p(pool.data(), std::min(pool.size(), k * factor));
      return ItemsOf(Rerank(p, k, care, {}, items, user, seed));
    };
    const auto& rel = split_.test_items[u];
    eval::UserMetrics& res = results[idx];
    std::vector<uint32_t> at_ndcg = rerank_at(options_.ndcg_k);
    res.ndcg = eval::NdcgAtK(at_ndcg, rel, options_.ndcg_k);
    res.recall = eval::RecallAtK(rerank_at(options_.recall_k), rel, options_.recall_k);
    res.list = options_.list_k == options_.ndcg_k ? at_ndcg : rerank_at(options_.list_k);
    res.ild = eval::IntraListDiversity(res.list, train.item_categories());
    res.novelty = eval::Novelty(res.list, popularity, train.num_users());
    if (train.has_categories()) {
      auto q = eval::CategoryDistribution(res.list, train.item_categories(), train.num_categories());
      res.kl = eval::CalibrationKl(history_mix_[idx], q, options_.calibration_alpha);
    }
    res.long_tail = eval::LongTailShare(res.list, head);
  });
  return eval::AggregateUserMetrics(results, n_items, /*keep_per_user_ndcg=*/false);
}

}  // namespace recdb::rerank
