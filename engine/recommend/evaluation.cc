#include "engine/recommend/evaluation.h"

#include <chrono>
#include <functional>
#include <memory>

#include "engine/eval/evaluator.h"
#include "engine/eval/split.h"
#include "engine/models/cooccurrence.h"
#include "engine/models/ease.h"
#include "engine/models/fused.h"
#include "engine/models/ials.h"
#include "engine/models/item_knn.h"
#include "engine/models/most_pop.h"
#include "engine/models/trending.h"

namespace recdb {

StatusOr<EvaluationReport> EvaluateRecommenders(const models::Dataset& data,
                                                const EvaluateOptions& options) {
  using namespace models;  // NOLINT: local to this function
  const int threads = std::max(1, options.threads);
  using Maker = std::function<std::unique_ptr<Recommender>()>;
  std::vector<std::pair<std::string, Maker>> makers;
  makers.emplace_back("mostpop", [] { return std::make_unique<MostPop>(); });
  makers.emplace_back("ials", [threads] {
    IalsOptions o;
    o.threads = threads;
    return std::make_unique<Ials>(o);
  });
  makers.emplace_back("ease", [] { return std::make_unique<Ease>(); });
  makers.emplace_back("itemknn", [threads] {
    ItemKnnOptions o;
    o.threads = threads;
    return std::make_unique<ItemKnn>(o);
  });
  makers.emplace_back("recentknn", [threads] {
    RecentKnnOptions o;
    o.threads = threads;
    return std::make_unique<RecentKnn>(o);
  });
  makers.emplace_back("cooccurrence", [threads] {
    CooccurrenceOptions o;
    o.threads = threads;
    return std::make_unique<Cooccurrence>(o);
  });
  makers.emplace_back("trending", [] { return std::make_unique<Trending>(); });
  makers.emplace_back("fused", [threads] {
    FusedOptions o;
    o.threads = threads;
    return std::make_unique<Fused>(DefaultFusedComponents(threads), o);
  });
  for (const auto& name : options.recommenders) {
    bool known = false;
    for (const auto& m : makers) known = known || m.first == name;
    if (!known) return Status::InvalidArgument("eval: unknown recommender '" + name + "'");
  }

  RECDB_ASSIGN_OR_RETURN(eval::TemporalSplit split, eval::SplitByTime(data));
  EvaluationReport report;
  report.users = data.num_users();
  report.items = data.num_items();
  report.test_users = static_cast<int64_t>(split.test_users.size());
  eval::EvalOptions eo;
  eo.threads = threads;
  for (auto& [name, make] : makers) {
    if (!options.recommenders.empty() &&
        std::find(options.recommenders.begin(), options.recommenders.end(), name) ==
            options.recommenders.end()) {
      continue;
    }
    std::unique_ptr<Recommender> model = make();
    const auto t0 = std::chrono::steady_clock::now();
    Status st = model->Fit(split.train);
    if (!st.ok()) return st.WithContext("eval: " + name);
    EvalMetrics m;
    m.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    eval::EvalReport r = eval::Evaluate(*model, split, eo);
    m.ndcg_at_10 = r.ndcg;
    m.recall_at_20 = r.recall;
    m.coverage_at_10 = r.coverage;
    m.ild_at_10 = r.ild;
    m.novelty_at_10 = r.novelty;
    m.gini_at_10 = r.gini;
    m.calibration_kl_at_10 = r.calibration_kl;
    m.long_tail_share_at_10 = r.long_tail_share;
    report.recommenders[name] = m;
    if (name == "fused") {
      for (const auto& [c, w] : static_cast<const Fused&>(*model).Weights()) report.fused_weights[c] = w;
    }
  }
  return report;
}

}  // namespace recdb
