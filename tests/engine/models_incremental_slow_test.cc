// Incremental retraining (TrainOptions::incremental, Fused::WarmStartFrom,
// FusedOptions::warm_final_fit) against full refits on ml-100k with the
// DESIGN.md protocol (slow: a few fused fits).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/eval/evaluator.h"
#include "engine/models/fused.h"
#include "ml100k_split.h"

namespace recdb::models {
namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A retrain after 1% more events that keeps the blend and warm-starts iALS
// reaches the quality of a full Train (within 0.5% NDCG@10 and Recall@20:
// issue 17's bar, the retrain a user would otherwise run) in a fraction of
// its time. A cold refit of the same blend (the kept weights) is printed
// beside it: the weights a full Train relearns move the test figure by up to
// ~1.5% on 943 users (docs/BENCHMARKS.md "Blend weight variance"), so that
// figure separates the retrain's own cost from the weights'. With the
// default blend it reads 0.6% above the incremental retrain (2026-12-07).
TEST(ModelsIncrementalTest, WarmRetrainAfterOnePercentMatchesAFullRefit) {
  RECDB_REQUIRE_ML100K_SPLIT(split);
  const Dataset& train = split->train;
  // The newest 1% of the training events arrive after the first model.
  std::vector<Interaction> older = train.interactions();
  std::stable_sort(older.begin(), older.end(),
                   [](const Interaction& a, const Interaction& b) { return a.ts < b.ts; });
  older.resize(older.size() - older.size() / 100);
  auto first_data = train.WithInteractions(std::move(older));
  ASSERT_TRUE(first_data.ok());

  auto first = std::make_shared<Fused>(DefaultFusedComponents());
  ASSERT_TRUE(first->Fit(*first_data).ok());

  auto t0 = std::chrono::steady_clock::now();
  Fused full(DefaultFusedComponents());
  ASSERT_TRUE(full.Fit(train).ok());
  const double full_s = Seconds(t0);

  t0 = std::chrono::steady_clock::now();
  auto components = DefaultFusedComponents();
  const auto weights = first->Weights();
  for (size_t j = 0; j < components.size(); ++j) components[j].weight = weights[j].second;
  FusedOptions fo;
  fo.learn_weights = false;
  Fused incremental(std::move(components), fo);
  incremental.WarmStartFrom(first);
  ASSERT_TRUE(incremental.Fit(train).ok());
  incremental.SetContextDeltas(first->ContextDeltas());
  const double incremental_s = Seconds(t0);

  // The same blend refitted from scratch: cold fits, the kept weights and deltas.
  auto same_components = DefaultFusedComponents();
  for (size_t j = 0; j < same_components.size(); ++j) same_components[j].weight = weights[j].second;
  FusedOptions same_options;
  same_options.learn_weights = false;
  Fused same(std::move(same_components), same_options);
  ASSERT_TRUE(same.Fit(train).ok());
  same.SetContextDeltas(first->ContextDeltas());

  const auto f = eval::Evaluate(full, *split);
  const auto s = eval::Evaluate(same, *split);
  const auto i = eval::Evaluate(incremental, *split);
  std::printf("full Train (weights relearned): ndcg@10 %.4f recall@20 %.4f in %.2f s; full refit of the "
              "same blend: ndcg@10 %.4f recall@20 %.4f; incremental: ndcg@10 %.4f recall@20 %.4f in %.2f s "
              "(%.2fx)\n",
              f.ndcg, f.recall, full_s, s.ndcg, s.recall, i.ndcg, i.recall, incremental_s, incremental_s / full_s);
  EXPECT_GE(i.ndcg, f.ndcg * 0.995);
  EXPECT_GE(i.recall, f.recall * 0.995);
  if (test::kTimingBoundsApply) {
    EXPECT_LT(incremental_s, 0.6 * full_s);
  }
}

// The final fit warm-started from the validation fit (the default) loses no
// quality against two cold fits.
TEST(ModelsIncrementalTest, WarmFinalFitKeepsTheQualityOfTwoColdFits) {
  RECDB_REQUIRE_ML100K_SPLIT(split);
  FusedOptions cold_options;
  cold_options.warm_final_fit = false;
  Fused cold(DefaultFusedComponents(), cold_options);
  Fused warm(DefaultFusedComponents());
  ASSERT_TRUE(cold.Fit(split->train).ok());
  ASSERT_TRUE(warm.Fit(split->train).ok());
  const auto c = eval::Evaluate(cold, *split);
  const auto w = eval::Evaluate(warm, *split);
  std::printf("two cold fits: ndcg@10 %.4f recall@20 %.4f (ials %.2f s); warm final fit: "
              "ndcg@10 %.4f recall@20 %.4f (ials %.2f s)\n",
              c.ndcg, c.recall, cold.fit_seconds(0), w.ndcg, w.recall, warm.fit_seconds(0));
  EXPECT_EQ(warm.Weights(), cold.Weights()) << "the validation fit is the same";
  EXPECT_GE(w.ndcg, c.ndcg * 0.995);
  EXPECT_GE(w.recall, c.recall * 0.995);
}

}  // namespace
}  // namespace recdb::models
