#include "engine/eval/split.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/eval/evaluator.h"
#include "engine/models/most_pop.h"

namespace recdb::eval {
namespace {

using models::Dataset;
using models::DatasetSpec;
using models::Interaction;

TEST(EvalSplitTest, HeldOutRoundsToNearestEvenAndAtLeastOne) {
  SplitOptions o;
  EXPECT_EQ(NumHeldOut(4, o), 0u);   // too few events
  EXPECT_EQ(NumHeldOut(5, o), 1u);   // 1.0
  EXPECT_EQ(NumHeldOut(7, o), 1u);   // 1.4
  EXPECT_EQ(NumHeldOut(8, o), 2u);   // 1.6
  EXPECT_EQ(NumHeldOut(12, o), 2u);  // 2.4000000000000004
  EXPECT_EQ(NumHeldOut(13, o), 3u);  // 2.6
  o.test_fraction = 0.5;
  EXPECT_EQ(NumHeldOut(5, o), 2u);   // 2.5 -> 2 (half to even, like Python)
  EXPECT_EQ(NumHeldOut(7, o), 4u);   // 3.5 -> 4
  o.test_fraction = 0.01;
  EXPECT_EQ(NumHeldOut(10, o), 1u);  // 0.1 -> at least 1
}

TEST(EvalSplitTest, ItemIdsCompareNumericallyThenAsStrings) {
  EXPECT_TRUE(models::ItemIdLess("9", "10"));
  EXPECT_FALSE(models::ItemIdLess("10", "9"));
  EXPECT_TRUE(models::ItemIdLess("007", "10"));
  EXPECT_TRUE(models::ItemIdLess("99999999999999999999999", "a"));
  EXPECT_TRUE(models::ItemIdLess("a10", "a9"));  // strings: bytewise
  EXPECT_EQ(models::RankItemIds({"10", "b", "9", "a"}), (std::vector<uint32_t>{1, 3, 0, 2}));
}

// One user, 6 events, three share the last timestamp: the tie-break by item id
// ("9" < "10" < "11" numerically) decides which single event is test.
TEST(EvalSplitTest, EqualTimestampsBreakByNumericItemId) {
  DatasetSpec spec;
  spec.num_users = 2;
  spec.num_items = 6;
  spec.item_ids = {"10", "11", "9", "1", "2", "3"};
  spec.interactions = {{0, 0, 100}, {0, 1, 100}, {0, 2, 100}, {0, 3, 1}, {0, 4, 2}, {0, 5, 3},
                       {1, 0, 5}, {1, 1, 6}};  // user 1: train-only
  auto d = Dataset::Build(spec);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto s = SplitByTime(*d);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->test_users, (std::vector<uint32_t>{0}));
  EXPECT_EQ(s->test_items[0], (std::vector<uint32_t>{1}));  // "11" is last
  EXPECT_TRUE(s->test_items[1].empty());
  EXPECT_EQ(s->train.interactions().size(), 7u);
  EXPECT_EQ(s->train.UserItems(0).size(), 5u);
}

TEST(EvalSplitTest, EvaluatorBreaksScoreTiesByItemRankAndExcludesTrainItems) {
  // Items 0..3 with ids making rank order 3,2,1,0. MostPop gives all items
  // popularity 1 except item 0 (2 users), so ties are broken by rank.
  DatasetSpec spec;
  spec.num_users = 2;
  spec.num_items = 4;
  spec.item_ids = {"40", "30", "20", "10"};
  spec.interactions = {{0, 0, 1}, {0, 0, 2}, {0, 0, 3}, {0, 0, 4}, {0, 1, 5},  // user 0
                       {1, 0, 1}, {1, 2, 2}, {1, 3, 3}};
  auto d = Dataset::Build(spec);
  ASSERT_TRUE(d.ok());
  auto s = SplitByTime(*d);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->test_users, (std::vector<uint32_t>{0}));
  EXPECT_EQ(s->test_items[0], (std::vector<uint32_t>{1}));
  models::MostPop pop;
  ASSERT_TRUE(pop.Fit(s->train).ok());
  // Train item of user 0 is item 0 (excluded). Items 1,2,3 all have pop 1 in
  // train except item 1 which has 0: order = 3 ("10"), 2 ("20"), 1.
  EvalOptions o;
  o.ndcg_k = 3;
  o.recall_k = 3;
  o.list_k = 3;
  auto r = Evaluate(pop, *s, o);
  EXPECT_EQ(r.users, 1u);
  EXPECT_NEAR(r.ndcg, 1.0 / std::log2(4.0), 1e-12);
  EXPECT_NEAR(r.recall, 1.0, 1e-12);
  EXPECT_NEAR(r.coverage, 3.0 / 4.0, 1e-12);
}

}  // namespace
}  // namespace recdb::eval
