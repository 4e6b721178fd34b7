// The care stages of engine/rerank on hand-made pools: each knob does what it
// says, and exploration is deterministic under a seed.
#include <gtest/gtest.h>

#include <set>

#include "engine/eval/metrics.h"
#include "engine/rerank/impression_log.h"
#include "engine/rerank/rerank.h"
#include "engine/rerank_pool.h"

namespace recdb::rerank {
namespace {

// The pool of tests/engine/rerank_pool.h.
class RerankTest : public ::testing::Test, public test::TenCandidates {};

TEST_F(RerankTest, EveryKnobOffKeepsTheFusedOrder) {
  auto out = Rerank(pool_, 4, CareOptions{}, {}, facts_, {}, 1);
  EXPECT_EQ(Items(out), (std::vector<uint32_t>{0, 1, 2, 3}));
  for (const auto& p : out) EXPECT_EQ(p.why, Placement::kRelevance);
}

TEST_F(RerankTest, DiversityBringsOtherCategoriesIn) {
  CareOptions care;
  care.diversity = 0.9;  // relevance is a z-score: the useful range is high
  auto out = Rerank(pool_, 4, care, {}, facts_, {}, 1);
  auto items = Items(out);
  EXPECT_EQ(items[0], 0u) << "the most relevant item still leads";
  std::vector<uint32_t> listed(items.begin(), items.end());
  EXPECT_GT(eval::IntraListDiversity(listed, categories_),
            eval::IntraListDiversity(std::vector<uint32_t>{0, 1, 2, 3}, categories_));
  int added = 0;
  for (const auto& p : out) {
    if (p.why != Placement::kDiversity) continue;
    ++added;
    ASSERT_NE(p.category, kNoCategory);
    EXPECT_EQ(categories_[p.item][0], p.category) << "the cited category is the item's own";
  }
  EXPECT_GT(added, 0);
}

TEST_F(RerankTest, CalibrationFollowsTheHistoryMix) {
  UserFacts user;
  user.history_mix = {0.5, 0.25, 0.25};
  CareOptions care;
  care.calibration = 0.9;
  auto out = Rerank(pool_, 4, care, {}, facts_, user, 1);
  auto items = Items(out);
  auto q = eval::CategoryDistribution(items, categories_, 3);
  auto q0 = eval::CategoryDistribution(std::vector<uint32_t>{0, 1, 2, 3}, categories_, 3);
  EXPECT_LT(eval::CalibrationKl(user.history_mix, q), eval::CalibrationKl(user.history_mix, q0));
  for (const auto& p : out) {
    if (p.why == Placement::kCalibration) {
      EXPECT_GT(user.history_mix[p.category], 0) << "cites a category of the history";
    }
  }
}

TEST_F(RerankTest, FairShareGivesLongTailSlotsAndRepaysDeficits) {
  CareOptions care;
  care.fair_share = 0.25;  // 1 of 4 slots
  auto out = Rerank(pool_, 4, care, {}, facts_, {}, 1);
  int tail = 0;
  for (const auto& p : out) tail += long_tail_[p.item] ? 1 : 0;
  EXPECT_EQ(tail, 1);
  EXPECT_EQ(out.back().why, Placement::kFairness);
  UserFacts starved;
  starved.past_long_tail_share = 0.0;  // never shown the long tail: twice the floor
  out = Rerank(pool_, 4, care, {}, facts_, starved, 1);
  tail = 0;
  for (const auto& p : out) tail += long_tail_[p.item] ? 1 : 0;
  EXPECT_EQ(tail, 2);
}

TEST_F(RerankTest, ExplorationIsBoundedAndDeterministicUnderASeed) {
  CareOptions care;
  care.exploration = 0.25;  // 1 of 4 slots
  facts_.exposure = [](uint32_t item) {
    ItemExposure e;
    e.impressions = item == 9 ? 0 : 1000;  // only item 9 is under-exposed
    return e;
  };
  auto out = Rerank(pool_, 4, care, {}, facts_, {}, 7);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out.back().item, 9u);
  EXPECT_EQ(out.back().why, Placement::kExploration);
  facts_.exposure = nullptr;  // nothing recorded: every pool item is a candidate
  care.exploration = 0.5;
  auto a = Items(Rerank(pool_, 4, care, {}, facts_, {}, 42));
  auto b = Items(Rerank(pool_, 4, care, {}, facts_, {}, 42));
  EXPECT_EQ(a, b);
  std::set<std::vector<uint32_t>> lists;
  for (uint64_t seed = 0; seed < 20; ++seed) lists.insert(Items(Rerank(pool_, 4, care, {}, facts_, {}, seed)));
  EXPECT_GT(lists.size(), 1u) << "the seed changes what is explored";
}

TEST_F(RerankTest, ColdItemsOutsideThePoolFillOnlyExplorationSlots) {
  CareOptions care;
  facts_.exposure = [](uint32_t item) {
    ItemExposure e;
    e.impressions = item >= 100 ? 0 : 1000;  // the pool is over-exposed
    return e;
  };
  const std::vector<uint32_t> cold = {100, 101, 3};  // 3 is in the pool: ignored
  facts_.cold = cold;
  // Exploration off: the cold items are not listed.
  EXPECT_EQ(Items(Rerank(pool_, 4, care, {}, facts_, {}, 7)), (std::vector<uint32_t>{0, 1, 2, 3}));
  care.exploration = 0.5;  // 2 of 4 slots
  auto out = Rerank(pool_, 4, care, {}, facts_, {}, 7);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].item, 0u);
  EXPECT_EQ(out[1].item, 1u);
  std::set<uint32_t> explored = {out[2].item, out[3].item};
  EXPECT_EQ(explored, (std::set<uint32_t>{100, 101}));
  for (size_t j = 2; j < 4; ++j) {
    EXPECT_EQ(out[j].why, Placement::kExploration);
    EXPECT_GE(out[j].relevance_rank, pool_.size()) << "ranked past the pool";
    EXPECT_EQ(out[j].score, pool_.back().score);
  }
  // Over-exposed cold items are left out like pool items; buried ones too.
  facts_.exposure = [](uint32_t item) {
    ItemExposure e;
    e.impressions = item == 101 ? 0 : 1000;
    return e;
  };
  Rules rules;
  out = Rerank(pool_, 4, care, rules, facts_, {}, 7);
  EXPECT_EQ(Items(out), (std::vector<uint32_t>{0, 1, 2, 101}));
  rules.bury.insert(101);
  EXPECT_EQ(Items(Rerank(pool_, 4, care, rules, facts_, {}, 7)), (std::vector<uint32_t>{0, 1, 2, 3}));
  // An empty pool still explores.
  out = Rerank({}, 4, care, {}, facts_, {}, 7);
  EXPECT_EQ(Items(out), (std::vector<uint32_t>{101}));
}

TEST_F(RerankTest, PinBoostAndBury) {
  Rules rules;
  rules.pin = {5};
  rules.boost[8] = 2.0;
  rules.bury = {0};
  auto out = Rerank(pool_, 4, CareOptions{}, rules, facts_, {}, 1);
  EXPECT_EQ(Items(out), (std::vector<uint32_t>{5, 8, 1, 2}));
  EXPECT_EQ(out[0].why, Placement::kPinned);
  // A buried item still fills the list when nothing else is left.
  std::vector<Candidate> two = {pool_[0], pool_[1]};
  EXPECT_EQ(Items(Rerank(two, 2, CareOptions{}, rules, facts_, {}, 1)),
            (std::vector<uint32_t>{1, 0}));
}

TEST(RotationTest, ShownNTimesWithoutEngagementLeavesUntilThePeriodPasses) {
  CareOptions care;
  care.rotate_after_impressions = 3;
  care.rotate_period_seconds = 100;
  std::vector<Shown> shown = {
      {1000, {1, 2}, {}, {}}, {1010, {1, 2}, {}, {}}, {1020, {1, 3}, {}, {}}};
  std::unordered_map<uint32_t, int64_t> last_event;
  EXPECT_EQ(RotatedOut(shown, last_event, 1030, care), (std::vector<uint32_t>{1}));
  last_event[1] = 1005;  // engaged after the first impression: stays
  EXPECT_TRUE(RotatedOut(shown, last_event, 1030, care).empty());
  last_event[1] = 999;   // engaged before: does not count
  EXPECT_EQ(RotatedOut(shown, last_event, 1030, care), (std::vector<uint32_t>{1}));
  EXPECT_TRUE(RotatedOut(shown, last_event, 1101, care).empty()) << "the first impression aged out";
  care.rotate_after_impressions = 0;
  EXPECT_TRUE(RotatedOut(shown, {}, 1030, care).empty());
}

TEST(CareValidationTest, KnobsOutOfRangeAreInvalidArgument) {
  CareOptions care;
  EXPECT_TRUE(ValidateCare(care).ok());
  care.diversity = 1.5;
  EXPECT_TRUE(ValidateCare(care).IsInvalidArgument());
  care.diversity = 0;
  care.candidate_factor = 0;
  EXPECT_TRUE(ValidateCare(care).IsInvalidArgument());
}

}  // namespace
}  // namespace recdb::rerank
