#include "engine/eval/evaluator.h"

#include "engine/models/context.h"

#include <algorithm>
#include <limits>

#include "common/parallel_for.h"
#include "engine/eval/metrics.h"

namespace recdb::eval {

namespace {

}  // namespace

EvalReport Evaluate(const models::Recommender& model, const TemporalSplit& split,
                    const EvalOptions& options) {
  const models::Dataset& train = split.train;
  const uint32_t n_items = train.num_items();
  std::vector<float> popularity(n_items);
  for (uint32_t i = 0; i < n_items; ++i) popularity[i] = static_cast<float>(train.ItemUsers(i).size());
  const std::vector<bool> head = ShortHead(popularity, options.short_head_share);
  const size_t depth = std::max({options.ndcg_k, options.recall_k, options.list_k});

  std::vector<UserMetrics> results(split.test_users.size());
  struct Scratch {
    std::vector<float> scores;
    models::TimelineQuery tq;
  };
  auto make_scratch = [n_items] { return Scratch{std::vector<float>(n_items), {}}; };
  auto evaluate_user = [&](Scratch& w, size_t idx) {
    std::vector<float>& scores = w.scores;
    models::TimelineQuery& tq = w.tq;
    const uint32_t u = split.test_users[idx];
    models::BuildTimelineQuery(train, u, &tq);
    model.Score(tq.query, scores);
    for (uint32_t i : train.UserItems(u)) scores[i] = -std::numeric_limits<float>::infinity();
    std::vector<models::ScoredItem> top = models::TopK(scores, depth, train.item_rank());
    std::vector<uint32_t> ranked(top.size());
    for (size_t r = 0; r < top.size(); ++r) ranked[r] = top[r].item;
    UserMetrics& res = results[idx];
    const auto& rel = split.test_items[u];
    res.ndcg = NdcgAtK(ranked, rel, options.ndcg_k);
    res.recall = RecallAtK(ranked, rel, options.recall_k);
    res.list.assign(ranked.begin(), ranked.begin() + std::min(options.list_k, ranked.size()));
    res.ild = IntraListDiversity(res.list, train.item_categories());
    res.novelty = Novelty(res.list, popularity, train.num_users());
    if (train.has_categories()) {
      auto p = CategoryDistribution(train.UserItems(u), train.item_categories(),
                                    train.num_categories());
      auto qd = CategoryDistribution(res.list, train.item_categories(), train.num_categories());
      res.kl = CalibrationKl(p, qd, options.calibration_alpha);
    }
    res.long_tail = LongTailShare(res.list, head);
  };
  ParallelForWithScratch(results.size(), options.threads, 1, make_scratch, evaluate_user);
  return AggregateUserMetrics(results, n_items, options.keep_per_user);
}

EvalReport AggregateUserMetrics(const std::vector<UserMetrics>& results, uint32_t n_items,
                                bool keep_per_user_ndcg) {
  EvalReport report;
  report.users = results.size();
  std::vector<double> exposure(n_items, 0.0);
  std::vector<bool> seen(n_items, false);
  size_t distinct = 0;
  for (const UserMetrics& r : results) {
    report.ndcg += r.ndcg;
    report.recall += r.recall;
    report.ild += r.ild;
    report.novelty += r.novelty;
    report.calibration_kl += r.kl;
    report.long_tail_share += r.long_tail;
    for (uint32_t i : r.list) {
      exposure[i] += 1.0;
      if (!seen[i]) seen[i] = true, ++distinct;
    }
    if (keep_per_user_ndcg) report.per_user_ndcg.push_back(r.ndcg);
  }
  if (!results.empty()) {
    const double n = static_cast<double>(results.size());
    report.ndcg /= n;
    report.recall /= n;
    report.ild /= n;
    report.novelty /= n;
    report.calibration_kl /= n;
    report.long_tail_share /= n;
  }
  report.coverage = n_items ? static_cast<double>(distinct) / n_items : 0.0;
  report.gini = Gini(exposure);
  return report;
}

}  // namespace recdb::eval
