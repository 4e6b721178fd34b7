// The care stages as shipped (rerank::Rerank through RerankedEvaluation,
// i.e. what `recdb eval --calibration/--fair-share/--diversity` reports) on
// ml-100k with the docs/DESIGN.md protocol: each knob buys what
// engine/rerank/README.md says it buys, for at most the NDCG@10 cost it
// states, against the same fitted model with re-ranking off. Skips when
// ml-100k is absent. The variant study (other re-rankers, which only print
// figures) is `recdb bench care-variants`, not a test.
#include <gtest/gtest.h>

#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/models/fused.h"
#include "engine/recommend/evaluation.h"
#include "engine/rerank/rerank_eval.h"
#include "test_util.h"

namespace recdb {
namespace {

class RerankMl100kTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = test::Ml100kDir();
    if (dir.empty()) return;
    auto data = eval::LoadMovieLens100k(dir);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    auto split = eval::SplitByTime(*data);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    split_ = new eval::TemporalSplit(std::move(*split));
    // The fused model exactly as `recdb eval` builds it.
    for (const auto& maker : EvaluatedRecommenders(2, split_->train.num_items())) {
      if (maker.name == "fused") fused_ = maker.make().release();
    }
    ASSERT_NE(fused_, nullptr);
    ASSERT_TRUE(fused_->Fit(split_->train).ok());
    eval::EvalOptions eo;
    eo.threads = 2;
    reranked_ = new rerank::RerankedEvaluation(static_cast<const models::Fused&>(*fused_),
                                               *split_, eo);
    off_ = reranked_->Evaluate(CareOptions{});
  }
  static void TearDownTestSuite() {
    delete reranked_;
    delete fused_;
    delete split_;
  }
  void SetUp() override {
    if (reranked_ == nullptr) GTEST_SKIP() << "ml-100k not found";
  }

  static eval::TemporalSplit* split_;
  static models::Recommender* fused_;
  static rerank::RerankedEvaluation* reranked_;
  static eval::EvalReport off_;
};

eval::TemporalSplit* RerankMl100kTest::split_ = nullptr;
models::Recommender* RerankMl100kTest::fused_ = nullptr;
rerank::RerankedEvaluation* RerankMl100kTest::reranked_ = nullptr;
eval::EvalReport RerankMl100kTest::off_;

// The bounds of these tests leave room for the blend to change, not for it to
// break; the measured figures are in docs/BENCHMARKS.md, "Care re-ranking".
TEST_F(RerankMl100kTest, OffIsTheFusedList) {
  EXPECT_GT(off_.ndcg, 0.24);
  EXPECT_GT(off_.coverage, 0.30);
}

// Calibration cuts the KL by about a third for about 1% of NDCG@10.
TEST_F(RerankMl100kTest, CalibrationCutsGenreKlForLittleAccuracy) {
  CareOptions care;
  care.calibration = 0.2;
  const eval::EvalReport r = reranked_->Evaluate(care);
  EXPECT_LT(r.calibration_kl, 0.75 * off_.calibration_kl);
  EXPECT_GT(r.ndcg, 0.97 * off_.ndcg);
}

// Fair share raises the long-tail share and lowers the Gini for about 1%.
TEST_F(RerankMl100kTest, FairShareRaisesLongTailExposure) {
  CareOptions care;
  care.fair_share = 0.6;
  const eval::EvalReport r = reranked_->Evaluate(care);
  EXPECT_GT(r.long_tail_share, off_.long_tail_share + 0.08);
  EXPECT_LT(r.gini, off_.gini);
  EXPECT_GT(r.ndcg, 0.97 * off_.ndcg);
}

// Diversity 0.9 reaches coverage@10 0.40 within 5% of NDCG@10. The issue's
// +20% ILD is not reached by this or any variant (engine/rerank/README.md).
TEST_F(RerankMl100kTest, DiversityWidensListsWithinFivePercent) {
  CareOptions care;
  care.diversity = 0.9;
  const eval::EvalReport r = reranked_->Evaluate(care);
  EXPECT_GE(r.coverage, 0.38);
  EXPECT_GT(r.ild, 1.14 * off_.ild);
  EXPECT_GT(r.ndcg, 0.95 * off_.ndcg);
}

}  // namespace
}  // namespace recdb
