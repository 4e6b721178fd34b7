#include "engine/models/fused.h"

#include <gtest/gtest.h>

#include <cmath>

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

// FusedOptions::weight_bags: each bag is one coordinate search (on its own
// bootstrap resample, in its own order), whose weights lie on the grid; the
// blend takes their mean (as shares of each bag's sum, scaled back to the
// bags' mean sum), which leaves the grid when the bags disagree. Seeded.
TEST(ModelsFusedTest, BaggedWeightsAverageTheBagsSearches) {
  Dataset d = testdata::Clustered(80, 40, 15);
  auto split = eval::SplitByTime(d);
  ASSERT_TRUE(split.ok());
  auto fit = [&](int bags, uint64_t seed) {
    FusedOptions o;
    o.weight_bags = bags;
    o.weight_bag_seed = seed;
    o.context_weights = false;
    Fused f(PopAndCooc(), o);
    EXPECT_TRUE(f.Fit(split->train).ok());
    std::vector<double> w;
    for (const auto& [name, weight] : f.Weights()) w.push_back(weight);
    return w;
  };
  auto on_grid = [](const std::vector<double>& w) {
    for (double x : w) {
      bool found = false;
      for (double g : FusedOptions().grid) found = found || std::abs(x - g) < 1e-12;
      if (!found) return false;
    }
    return true;
  };
  for (uint64_t seed = 0; seed < 5; ++seed) EXPECT_TRUE(on_grid(fit(1, seed))) << seed;  // one bag: one search
  bool averaged = false;
  for (uint64_t seed = 0; seed < 30 && !averaged; ++seed) averaged = !on_grid(fit(4, seed));
  EXPECT_TRUE(averaged) << "no 4-bag blend left the grid: the bags are not averaged";
  EXPECT_EQ(fit(4, 7), fit(4, 7));
}

}  // namespace
}  // namespace recdb::models
