#include <gtest/gtest.h>

#include <cmath>

#include "engine/models/trending.h"

namespace recdb::models {
namespace {

constexpr int64_t kDay = 86400;

// Item 0: one event at day 0; item 1: one event at day 7; item 2 two events
// at day 0 in context 1. Categories: 0 -> {0}, 1 -> {1}, 2 -> {0, 1}.
Dataset Events() {
  DatasetSpec spec;
  spec.num_users = 3;
  spec.num_items = 3;
  spec.num_categories = 2;
  spec.item_categories = {{0}, {1}, {0, 1}};
  spec.interactions = {{0, 0, 0, 1.0f}, {1, 1, 7 * kDay, 1.0f}, {2, 2, 0, 1.0f, 1},
                       {0, 2, 0, 1.0f, 1}};
  return Dataset::Build(spec).value();
}

TEST(ModelsPopularityTest, DecaysByHalfLife) {
  TrendingOptions o;
  o.half_life_seconds = 7 * kDay;
  Trending t(o);
  ASSERT_TRUE(t.Fit(Events()).ok());
  std::vector<float> s(3);
  t.PopularityAt(7 * kDay, s);  // end of data
  EXPECT_NEAR(s[0], 0.5, 1e-6);
  EXPECT_NEAR(s[1], 1.0, 1e-6);
  EXPECT_NEAR(s[2], 1.0, 1e-6);  // two events, one half-life old
  // As of day 0 (end of the first daily snapshot) item 1 has not happened yet.
  t.PopularityAt(0, s);
  EXPECT_NEAR(s[1], 0.0, 1e-6);
  EXPECT_NEAR(s[2] / s[0], 2.0, 1e-5);
}

TEST(ModelsPopularityTest, TopPerCategoryAndContext) {
  Trending t;
  ASSERT_TRUE(t.Fit(Events()).ok());
  auto all = t.Top(3);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].item, 1u);  // newest; ties (1 vs 2) break by id
  auto cat0 = t.Top(3, 0);
  ASSERT_EQ(cat0.size(), 2u);
  EXPECT_EQ(cat0[0].item, 2u);
  EXPECT_EQ(cat0[1].item, 0u);
  auto ctx = t.Top(3, Trending::kNoCategory, 1);
  ASSERT_EQ(ctx.size(), 1u);
  EXPECT_EQ(ctx[0].item, 2u);
  EXPECT_TRUE(t.Top(3, Trending::kNoCategory, 7).empty());  // unseen context
}

}  // namespace
}  // namespace recdb::models
