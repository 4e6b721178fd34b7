#include "engine/models/fused.h"

#include <gtest/gtest.h>

#include "engine/eval/evaluator.h"
#include "engine/eval/split.h"
#include "engine/models/cooccurrence.h"
#include "engine/models/most_pop.h"
#include "models_test_data.h"

namespace recdb::models {
namespace {

std::vector<Fused::Component> PopAndCooc() {
  return {{"mostpop", [] { return std::make_unique<MostPop>(); }, 1.0},
          {"cooc", [] {
             CooccurrenceOptions o;
             o.min_users = 1;
             return std::make_unique<Cooccurrence>(o);
           }, 1.0}};
}

TEST(ModelsFusedTest, FixedWeightsFollowTheWeightedComponent) {
  Dataset d = testdata::Clustered();
  FusedOptions o;
  o.learn_weights = false;
  auto comps = PopAndCooc();
  comps[0].weight = 0.0;
  Fused f(comps, o);
  ASSERT_TRUE(f.Fit(d).ok());
  CooccurrenceOptions co;
  co.min_users = 1;
  Cooccurrence c(co);
  ASSERT_TRUE(c.Fit(d).ok());
  std::vector<uint32_t> hist = {0, 2, 4};
  auto a = Recommend(f, testdata::Query(hist), 3, hist, d.item_rank());
  auto b = Recommend(c, testdata::Query(hist), 3, hist, d.item_rank());
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].item, b[k].item);
}

TEST(ModelsFusedTest, LearnsWeightsOnValidationOnlyAndDeterministically) {
  Dataset d = testdata::Clustered(80, 40, 15);
  auto split = eval::SplitByTime(d);
  ASSERT_TRUE(split.ok());
  Fused f(PopAndCooc()), g(PopAndCooc());
  ASSERT_TRUE(f.Fit(split->train).ok());
  ASSERT_TRUE(g.Fit(split->train).ok());
  EXPECT_EQ(f.Weights(), g.Weights());
  EXPECT_GT(f.validation_ndcg(), 0.5);
  // The sequence signal must dominate popularity on this data.
  EXPECT_GT(f.Weights()[1].second, f.Weights()[0].second);
  auto r = eval::Evaluate(f, *split);
  EXPECT_GT(r.ndcg, 0.5);
}

}  // namespace
}  // namespace recdb::models
