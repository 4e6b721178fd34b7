// `recdb bench quality [--data DIR] [--json] [--threads N]`: runs the
// docs/DESIGN.md evaluation protocol on MovieLens (u.data, u.item for genres) for
// every recommender and the learned fusion, and prints accuracy,
// beyond-accuracy metrics and training time. The anchor is
// ../shared/tools/refbaselines.py on the same data: MostPop must match it to
// 4 decimals.
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/eval/evaluator.h"
#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/recommend/evaluation.h"
#include "engine/models/fused.h"
#include "tools/bench/bench.h"

namespace recdb::bench {
namespace {

struct Row {
  std::string name;
  eval::EvalReport report;
  double train_s = 0;
  std::string note;
};

int BenchQualityMain(int argc, char** argv) {
  Flags f("quality");
  f.args().AddFlag("data", "DIR", "the ml-100k directory", "../shared/data/ml-100k");
  f.args().AddFlag("threads", "N", "training and evaluation threads", "2");
  f.args().AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const std::string dir = f.Str("data");
  const bool json = f.Has("json");
  const int threads = static_cast<int>(f.Int("threads", 1));
  if (!f.ok()) return f.exit_code();
  auto data = eval::LoadMovieLens100k(dir);
  if (!data.ok()) {
    std::fprintf(stderr, "quality: %s\n", data.status().ToString().c_str());
    return 1;
  }
  auto split = eval::SplitByTime(*data);
  if (!split.ok()) {
    std::fprintf(stderr, "quality: %s\n", split.status().ToString().c_str());
    return 1;
  }
  const std::vector<NamedRecommender> makers =
      EvaluatedRecommenders(threads, split->train.num_items());
  eval::EvalOptions eo;
  eo.threads = threads;
  std::vector<Row> rows;
  for (const auto& [name, make] : makers) {
    std::unique_ptr<models::Recommender> model = make();
    const auto* fused = dynamic_cast<const models::Fused*>(model.get());
    const auto t0 = std::chrono::steady_clock::now();
    Status st = model->Fit(split->train);
    const double train_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok()) {
      std::fprintf(stderr, "quality: %s: %s\n", name.c_str(), st.ToString().c_str());
      return 1;
    }
    Row row{name, eval::Evaluate(*model, *split, eo), train_s, ""};
    if (fused != nullptr) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "validation ndcg@10 %.4f; weights", fused->validation_ndcg());
      row.note = buf;
      for (auto& [c, w] : fused->Weights()) {
        std::snprintf(buf, sizeof buf, " %s=%.2f", c.c_str(), w);
        row.note += buf;
      }
    }
    rows.push_back(std::move(row));
  }

  if (json) {
    std::printf("{\"data\": \"%s\", \"users\": %u, \"items\": %u, \"test_users\": %zu, \"recommenders\": {",
                dir.c_str(), split->train.num_users(), split->train.num_items(),
                split->test_users.size());
    for (size_t k = 0; k < rows.size(); ++k) {
      const auto& r = rows[k].report;
      std::printf(
          "%s\"%s\": {\"ndcg@10\": %.6f, \"recall@20\": %.6f, \"coverage@10\": %.6f, "
          "\"ild@10\": %.6f, \"novelty@10\": %.6f, \"gini@10\": %.6f, \"calibration_kl@10\": %.6f, "
          "\"long_tail_share@10\": %.6f, \"train_s\": %.3f}",
          k ? ", " : "", rows[k].name.c_str(), r.ndcg, r.recall, r.coverage, r.ild, r.novelty,
          r.gini, r.calibration_kl, r.long_tail_share, rows[k].train_s);
    }
    std::printf("}}\n");
    return 0;
  }
  std::printf("ml-100k protocol (docs/DESIGN.md): %u users, %u items, %zu test users, threads=%d\n",
              split->train.num_users(), split->train.num_items(), split->test_users.size(),
              threads);
  std::printf("%-13s %8s %9s %8s %6s %8s %6s %7s %8s %8s\n", "recommender", "NDCG@10",
              "Recall@20", "Cov@10", "ILD", "novelty", "Gini", "calKL", "longtail", "train_s");
  for (const Row& row : rows) {
    const auto& r = row.report;
    std::printf("%-13s %8.4f %9.4f %8.3f %6.3f %8.2f %6.3f %7.3f %8.3f %8.2f\n", row.name.c_str(),
                r.ndcg, r.recall, r.coverage, r.ild, r.novelty, r.gini, r.calibration_kl,
                r.long_tail_share, row.train_s);
  }
  for (const Row& row : rows) {
    if (!row.note.empty()) std::printf("%s: %s\n", row.name.c_str(), row.note.c_str());
  }
  std::printf(
      "reference (refbaselines.py): MostPop 0.1132/0.1221, ItemKNN 0.1838/0.2131, RecentKNN "
      "0.2300/0.2512, EASE 0.1953/0.2374, iALS 0.1911/0.2388\n"
      "ILD = mean pairwise Jaccard distance of genres; novelty = mean -log2(pop/users); "
      "calKL = KL(history genres || list genres), alpha 0.01, nats\n");
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("quality", BenchQualityMain,
                     "offline recommendation quality on MovieLens (docs/DESIGN.md protocol)");

}  // namespace recdb::bench
