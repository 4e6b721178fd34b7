#include "engine/eval/metrics.h"
#include "engine/eval/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace recdb::eval {
namespace {

TEST(EvalMetricsTest, NdcgCountsIdealHitsUpToMinOfKAndRelevant) {
  std::vector<uint32_t> ranked = {5, 1, 7, 3};
  std::vector<uint32_t> rel = {1, 3};  // hits at ranks 1 and 3 (0-based)
  const double dcg = 1 / std::log2(3.0) + 1 / std::log2(5.0);
  const double idcg = 1 + 1 / std::log2(3.0);
  EXPECT_NEAR(NdcgAtK(ranked, rel, 10), dcg / idcg, 1e-12);
  // k=2 cuts the second hit; ideal DCG counts min(2, 2) hits.
  EXPECT_NEAR(NdcgAtK(ranked, rel, 2), (1 / std::log2(3.0)) / idcg, 1e-12);
  // k=1: ideal counts a single hit.
  EXPECT_NEAR(NdcgAtK(ranked, rel, 1), 0.0, 1e-12);
  EXPECT_NEAR(NdcgAtK(std::vector<uint32_t>{1}, rel, 1), 1.0, 1e-12);
  EXPECT_EQ(NdcgAtK(ranked, std::vector<uint32_t>{}, 10), 0.0);
}

TEST(EvalMetricsTest, RecallDividesByMinOfKAndRelevant) {
  std::vector<uint32_t> ranked = {5, 1, 7, 3};
  EXPECT_NEAR(RecallAtK(ranked, std::vector<uint32_t>{1, 3, 9}, 20), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(RecallAtK(ranked, std::vector<uint32_t>{1, 3, 9}, 2), 1.0 / 2.0, 1e-12);
}

TEST(EvalMetricsTest, IntraListDiversityIsMeanJaccardDistance) {
  std::vector<std::vector<uint32_t>> cats = {{0, 1}, {1}, {2}, {}};
  // pairs: (0,1) 1-1/2, (0,2) 1, (1,2) 1
  EXPECT_NEAR(IntraListDiversity(std::vector<uint32_t>{0, 1, 2}, cats), (0.5 + 1 + 1) / 3, 1e-12);
  EXPECT_NEAR(IntraListDiversity(std::vector<uint32_t>{3, 3}, cats), 0.0, 1e-12);
  EXPECT_NEAR(IntraListDiversity(std::vector<uint32_t>{3, 2}, cats), 1.0, 1e-12);
}

TEST(EvalMetricsTest, NoveltyIsMeanSelfInformation) {
  std::vector<float> pop = {8, 2, 0};
  // -log2(8/16)=1, -log2(2/16)=3, pop 0 clamps to 1: -log2(1/16)=4
  EXPECT_NEAR(Novelty(std::vector<uint32_t>{0, 1, 2}, pop, 16), (1 + 3 + 4) / 3.0, 1e-12);
}

TEST(EvalMetricsTest, GiniOfEqualAndConcentratedExposure) {
  EXPECT_NEAR(Gini(std::vector<double>{3, 3, 3, 3}), 0.0, 1e-12);
  EXPECT_NEAR(Gini(std::vector<double>{0, 0, 0, 4}), 0.75, 1e-12);  // (n-1)/n
}

TEST(EvalMetricsTest, CalibrationKlWithSmoothing) {
  std::vector<std::vector<uint32_t>> cats = {{0}, {1}, {0, 1}};
  auto p = CategoryDistribution(std::vector<uint32_t>{0, 2}, cats, 2);  // {0.75, 0.25}
  EXPECT_NEAR(p[0], 0.75, 1e-12);
  auto q = CategoryDistribution(std::vector<uint32_t>{1}, cats, 2);  // {0, 1}
  const double a = 0.01;
  const double q0 = a * 0.75, q1 = (1 - a) + a * 0.25;
  EXPECT_NEAR(CalibrationKl(p, q, a), 0.75 * std::log(0.75 / q0) + 0.25 * std::log(0.25 / q1),
              1e-12);
  EXPECT_NEAR(CalibrationKl(p, p, a), 0.0, 1e-12);
}

TEST(EvalMetricsTest, ShortHeadHoldsTheGivenShareOfInteractions) {
  std::vector<float> pop = {1, 10, 5, 4};  // total 20; 20% = 4 -> item 1 alone
  auto head = ShortHead(pop, 0.2);
  EXPECT_EQ(head, (std::vector<bool>{false, true, false, false}));
  head = ShortHead(pop, 0.6);  // 12: items 1 (10) then 2 (15)
  EXPECT_EQ(head, (std::vector<bool>{false, true, true, false}));
}

TEST(EvalMetricsTest, LongTailShareAndTheAggregator) {
  const std::vector<bool> head = {true, false, false, false};
  EXPECT_DOUBLE_EQ(LongTailShare(std::vector<uint32_t>{0, 1, 2}, head), 2.0 / 3);
  EXPECT_DOUBLE_EQ(LongTailShare(std::vector<uint32_t>{}, head), 0.0);
  UserMetrics a, b;
  a.ndcg = 1.0, a.recall = 0.5, a.long_tail = 0.0, a.list = {0, 1};
  b.ndcg = 0.0, b.recall = 0.25, b.long_tail = 1.0, b.list = {0};
  EvalReport r = AggregateUserMetrics({a, b}, 4, /*keep_per_user_ndcg=*/true);
  EXPECT_EQ(r.users, 2u);
  EXPECT_DOUBLE_EQ(r.ndcg, 0.5);
  EXPECT_DOUBLE_EQ(r.recall, 0.375);
  EXPECT_DOUBLE_EQ(r.long_tail_share, 0.5);
  EXPECT_DOUBLE_EQ(r.coverage, 0.5);  // items 0 and 1 of 4
  EXPECT_EQ(r.per_user_ndcg, (std::vector<double>{1.0, 0.0}));
  EXPECT_DOUBLE_EQ(r.gini, Gini(std::vector<double>{2, 1, 0, 0}));
  EXPECT_TRUE(AggregateUserMetrics({a}, 4, false).per_user_ndcg.empty());
}

}  // namespace
}  // namespace recdb::eval
