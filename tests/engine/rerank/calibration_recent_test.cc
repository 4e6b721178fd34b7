// CareOptions::calibration_recent_items (engine/rerank/README.md
// "Calibration against recent consumption"): the user's last N distinct
// items count with the list, so calibration makes up for recent
// consumption. Its own binary, so that it does not rebuild every engine test.
#include <gtest/gtest.h>

#include "engine/rerank/rerank.h"
#include "engine/rerank_pool.h"

namespace recdb::rerank {
namespace {

// The pool of tests/engine/rerank_pool.h.
class RecentCalibrationTest : public ::testing::Test, public test::TenCandidates {};

// calibration_recent_items: the recent items count with the list. A user
// whose history is a third of each category but who just consumed only
// category 1 is shown less of category 1 than the list alone would be.
TEST_F(RecentCalibrationTest, RecentItemsCountWithTheList) {
  UserFacts user;
  user.history_mix = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  user.recent_items = {20, 21, 22, 23};  // newest first; all category 1
  categories_.resize(24);
  for (uint32_t i = 20; i < 24; ++i) categories_[i] = {1u};
  CareOptions care;
  care.calibration = 0.9;
  auto count_in = [&](const std::vector<Placed>& out, uint32_t c) {
    int n = 0;
    for (const auto& p : out) n += categories_[p.item][0] == c ? 1 : 0;
    return n;
  };
  const auto alone = Rerank(pool_, 6, care, {}, facts_, user, 1);
  care.calibration_recent_items = 4;
  const auto with_recent = Rerank(pool_, 6, care, {}, facts_, user, 1);
  EXPECT_EQ(count_in(alone, 1), 2) << "the list alone: a third of each category";
  EXPECT_EQ(count_in(with_recent, 1), 0) << "category 1 was just consumed: none of it";
  EXPECT_GT(count_in(with_recent, 0), count_in(alone, 0));
  for (const auto& p : with_recent) EXPECT_LT(p.item, 10u) << "recent items are never listed";
  // Only the first calibration_recent_items count; without calibration nothing changes.
  care.calibration_recent_items = 1;
  EXPECT_GE(count_in(Rerank(pool_, 6, care, {}, facts_, user, 1), 1), 1);
  care.calibration = 0;
  care.calibration_recent_items = 4;
  EXPECT_EQ(Items(Rerank(pool_, 6, care, {}, facts_, user, 1)),
            (std::vector<uint32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(RecentDistinctTest, NewestFirstWithoutRepeats) {
  const std::vector<uint32_t> history = {1, 2, 3, 2, 4, 4};
  EXPECT_EQ(RecentDistinct(history, 3), (std::vector<uint32_t>{4, 2, 3}));
  EXPECT_EQ(RecentDistinct(history, 10), (std::vector<uint32_t>{4, 2, 3, 1}));
  EXPECT_TRUE(RecentDistinct(history, 0).empty());
}

TEST(RecentCalibrationValidationTest, AtMostAThousandItems) {
  CareOptions care;
  care.calibration_recent_items = 1001;
  EXPECT_TRUE(ValidateCare(care).IsInvalidArgument());
  care.calibration_recent_items = 1000;
  EXPECT_TRUE(ValidateCare(care).ok());
}

}  // namespace
}  // namespace recdb::rerank
