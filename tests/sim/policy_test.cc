// Policies' lists and logged propensities (sim/policy.h).
#include "sim/policy.h"

#include <gtest/gtest.h>

#include <set>

namespace recdb::sim {
namespace {

TEST(SimPolicyTest, RandomLogsOneOverCandidatesAndIsUniformPerSlot) {
  auto policy = MakeRandomPolicy();
  EXPECT_FALSE(policy->UsesModel());
  std::vector<int64_t> live;
  for (int64_t i = 0; i < 20; ++i) live.push_back(i);
  const std::unordered_set<int64_t> consumed = {3, 7, 11, 19};  // 16 candidates left
  std::vector<std::vector<int>> freq(5, std::vector<int>(20, 0));
  const int kRuns = 16000;
  for (int r = 0; r < kRuns; ++r) {
    RankContext ctx;
    ctx.user = r;
    ctx.round = 1;
    ctx.k = 5;
    ctx.seed = 9;
    ctx.live_items = &live;
    ctx.consumed = &consumed;
    auto slate = policy->Rank(nullptr, ctx);
    ASSERT_TRUE(slate.ok());
    ASSERT_EQ(slate->items.size(), 5u);
    ASSERT_EQ(slate->propensities.size(), 5u);
    std::set<int64_t> distinct(slate->items.begin(), slate->items.end());
    EXPECT_EQ(distinct.size(), 5u);
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_DOUBLE_EQ(slate->propensities[j], 1.0 / 16.0);
      EXPECT_FALSE(consumed.count(slate->items[j]));
      ++freq[j][static_cast<size_t>(slate->items[j])];
    }
  }
  // The logged value is the true marginal: each candidate appears at each
  // slot with frequency ~1/16, and over the candidates they sum to 1.
  for (size_t j = 0; j < 5; ++j) {
    double sum = 0;
    for (int64_t i = 0; i < 20; ++i) {
      const double f = static_cast<double>(freq[j][static_cast<size_t>(i)]) / kRuns;
      if (consumed.count(i)) {
        EXPECT_EQ(f, 0.0);
        continue;
      }
      EXPECT_NEAR(f, 1.0 / 16.0, 0.012) << "slot " << j << " item " << i;
      sum += 1.0 / 16.0;
    }
    EXPECT_DOUBLE_EQ(sum, 1.0);
  }
}

TEST(SimPolicyTest, RandomShowsFewerWhenFewCandidatesRemain) {
  auto policy = MakeRandomPolicy();
  const std::vector<int64_t> live = {0, 1, 2};
  const std::unordered_set<int64_t> consumed = {1};
  RankContext ctx;
  ctx.k = 10;
  ctx.live_items = &live;
  ctx.consumed = &consumed;
  auto slate = policy->Rank(nullptr, ctx);
  ASSERT_TRUE(slate.ok());
  ASSERT_EQ(slate->items.size(), 2u);
  EXPECT_DOUBLE_EQ(slate->propensities[0], 0.5);
}

TEST(SimPolicyTest, CarePresetsAndItemIds) {
  auto balanced = CarePreset("balanced");
  ASSERT_TRUE(balanced.ok());
  EXPECT_GT(balanced->calibration, 0);
  EXPECT_GT(balanced->exploration, 0);
  EXPECT_EQ(balanced->calibration_recent_items, 10u);  // the care bar (sim/README.md)
  EXPECT_EQ(balanced->rotate_after_impressions, CareOptions{}.rotate_after_impressions);
  for (const auto& name : CarePresetNames()) EXPECT_TRUE(CarePreset(name).ok()) << name;
  EXPECT_FALSE(CarePreset("nope").ok());
  EXPECT_EQ(ItemIndex("i123"), 123);
  EXPECT_EQ(ItemIndex("u123"), -1);
  EXPECT_EQ(ItemIndex("i12x"), -1);
  EXPECT_EQ(ItemIndex("i"), -1);
}

}  // namespace
}  // namespace recdb::sim
