// The protocol on ml-100k: MostPop must reproduce refbaselines.py to 4 decimals.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/eval/evaluator.h"
#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/models/most_pop.h"
#include "test_util.h"

namespace recdb::eval {
namespace {

TEST(EvalMl100kTest, SplitMatchesReferenceCounts) {
  RECDB_REQUIRE_ML100K(dir);
  auto data = LoadMovieLens100k(dir);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->num_users(), 943u);
  EXPECT_EQ(data->num_items(), 1682u);
  EXPECT_EQ(data->num_categories(), 19u);
  auto split = SplitByTime(*data);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->train.interactions().size(), 80000u);
  EXPECT_EQ(split->test_users.size(), 943u);
  size_t test_events = 0;
  for (const auto& t : split->test_items) test_events += t.size();
  EXPECT_EQ(test_events, 20000u);
}

TEST(EvalMl100kTest, MostPopReproducesReferenceToFourDecimals) {
  RECDB_REQUIRE_ML100K(dir);
  auto data = LoadMovieLens100k(dir);
  ASSERT_TRUE(data.ok());
  auto split = SplitByTime(*data);
  ASSERT_TRUE(split.ok());
  models::MostPop pop;
  ASSERT_TRUE(pop.Fit(split->train).ok());
  EvalReport r = Evaluate(pop, *split);
  EXPECT_EQ(std::round(r.ndcg * 1e4) / 1e4, 0.1132) << r.ndcg;
  EXPECT_EQ(std::round(r.recall * 1e4) / 1e4, 0.1221) << r.recall;
  EXPECT_NEAR(r.coverage, 0.043, 0.0005);
}

}  // namespace
}  // namespace recdb::eval
