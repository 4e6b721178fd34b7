// Properties of the simulated user's response (sim/response_model.h).
#include "sim/response_model.h"

#include <gtest/gtest.h>

namespace recdb::sim {
namespace {

constexpr int kCategories = 4;

std::vector<double> Taste() { return {0.7, 0.1, 0.1, 0.1}; }

UserState FreshUser() { return UserState{}; }

TEST(SimResponseModelTest, PositionBiasLowersClickRateAtLowerSlots) {
  ResponseModel model(ResponseOptions{}, 7, kCategories);
  const UserState st = FreshUser();
  const auto taste = Taste();
  // The same item, further down, is clicked less (probability and draws).
  double previous = 2.0;
  for (size_t slot = 0; slot < 10; ++slot) {
    const double p = model.ClickProbability(st, taste, 42, 0, slot);
    EXPECT_LT(p, previous) << "slot " << slot;
    previous = p;
  }
  // Empirically over many users: the same list, the click rate per slot falls.
  std::vector<int> clicks(10, 0);
  const std::vector<int64_t> items(10, 42);
  const std::vector<int> cats(10, 0);
  for (int64_t u = 0; u < 4000; ++u) {
    const auto r = model.Respond(st, taste, items, cats, u, 1);
    for (size_t j = 0; j < r.size(); ++j) clicks[j] += r[j].click;
  }
  EXPECT_GT(clicks[0], clicks[2]);
  EXPECT_GT(clicks[2], clicks[9]);
  // No position bias: every slot the same probability.
  ResponseOptions flat;
  flat.position_bias = 0;
  ResponseModel none(flat, 7, kCategories);
  EXPECT_DOUBLE_EQ(none.ClickProbability(st, taste, 42, 0, 0),
                   none.ClickProbability(st, taste, 42, 0, 9));
}

// click_scale 0.1 keeps every appeal below the cap of 1, where a lower
// appeal shows as a lower probability.
ResponseOptions Unclipped() {
  ResponseOptions o;
  o.click_scale = 0.1;
  return o;
}

TEST(SimResponseModelTest, SatiationLowersTheAppealOfARepeat) {
  ResponseModel model(Unclipped(), 7, kCategories);
  const auto taste = Taste();
  UserState st = FreshUser();
  const double fresh = model.ClickProbability(st, taste, 42, 0, 0);
  // Shown once (not clicked): the same item appeals less.
  model.Update(&st, {42}, {0}, {SlotResponse{}}, 20);
  const double repeat = model.ClickProbability(st, taste, 42, 0, 0);
  EXPECT_LT(repeat, fresh);
  // A near-duplicate (another item of a category just clicked) loses too.
  UserState other = FreshUser();
  const double before = model.ClickProbability(other, taste, 43, 0, 0);
  model.Update(&other, {44}, {0}, {SlotResponse{true, false}}, 20);
  EXPECT_LT(model.ClickProbability(other, taste, 43, 0, 0), before);
  // ... but not an item of another category.
  EXPECT_DOUBLE_EQ(model.ClickProbability(other, taste, 45, 1, 0),
                   model.ClickProbability(FreshUser(), taste, 45, 1, 0));
  // Satiation off: a repeat keeps its appeal.
  ResponseOptions off = Unclipped();
  off.repeat_satiation = 0;
  off.category_satiation = 0;
  ResponseModel flat(off, 7, kCategories);
  UserState again = FreshUser();
  const double p0 = flat.ClickProbability(again, taste, 42, 0, 0);
  flat.Update(&again, {42}, {0}, {SlotResponse{true, false}}, 20);
  EXPECT_DOUBLE_EQ(flat.ClickProbability(again, taste, 42, 0, 0), p0);
}

TEST(SimResponseModelTest, RepeatSatiationFadesWithItsHalfLife) {
  ResponseOptions o = Unclipped();
  o.repeat_half_life = 2;
  ResponseModel model(o, 7, kCategories);
  const auto taste = Taste();
  UserState st = FreshUser();
  const double fresh = model.ClickProbability(st, taste, 42, 0, 0);
  model.Update(&st, {42}, {0}, {SlotResponse{}}, 20);
  const double just_shown = model.ClickProbability(st, taste, 42, 0, 0);
  EXPECT_NEAR(st.shown[42], 1.0, 1e-12);
  model.Update(&st, {}, {}, {}, 20);
  model.Update(&st, {}, {}, {}, 20);  // two rounds = one half-life
  EXPECT_NEAR(st.shown[42], 0.5, 1e-12);
  const double later = model.ClickProbability(st, taste, 42, 0, 0);
  EXPECT_GT(later, just_shown);
  EXPECT_LT(later, fresh);
  // Never forgotten with half-life 0.
  ResponseOptions never = Unclipped();
  never.repeat_half_life = 0;
  ResponseModel keep(never, 7, kCategories);
  UserState st2 = FreshUser();
  keep.Update(&st2, {42}, {0}, {SlotResponse{}}, 20);
  for (int r = 0; r < 10; ++r) keep.Update(&st2, {}, {}, {}, 20);
  EXPECT_DOUBLE_EQ(st2.shown[42], 1.0);
}

TEST(SimResponseModelTest, CategorySatiationFadesAfterItsRounds) {
  ResponseOptions o = Unclipped();
  o.satiation_rounds = 2;
  ResponseModel model(o, 7, kCategories);
  const auto taste = Taste();
  UserState st = FreshUser();
  const double fresh = model.ClickProbability(st, taste, 43, 0, 0);
  model.Update(&st, {44}, {0}, {SlotResponse{true, false}}, 20);
  EXPECT_LT(model.ClickProbability(st, taste, 43, 0, 0), fresh);
  model.Update(&st, {}, {}, {}, 20);
  model.Update(&st, {}, {}, {}, 20);  // two empty rounds later: forgotten
  EXPECT_DOUBLE_EQ(model.ClickProbability(st, taste, 43, 0, 0), fresh);
}

TEST(SimResponseModelTest, WindowKeepsTheLastConsumedCategories) {
  ResponseModel model(ResponseOptions{}, 7, kCategories);
  UserState st = FreshUser();
  const SlotResponse click{true, false};
  model.Update(&st, {1, 2, 3}, {0, 1, 2}, {click, click, click}, 2);
  ASSERT_EQ(st.window.size(), 2u);
  EXPECT_EQ(st.window[0], 1);
  EXPECT_EQ(st.window[1], 2);
  EXPECT_TRUE(st.consumed.count(1));
}

TEST(SimResponseModelTest, LeavingIsLikelierAfterARoundWithoutClicks) {
  ResponseModel model(ResponseOptions{}, 7, kCategories);
  int with = 0, without = 0;
  for (int64_t u = 0; u < 20000; ++u) {
    with += model.Leaves(u, 3, true);
    without += model.Leaves(u, 3, false);
  }
  EXPECT_LT(with, without);
  EXPECT_NEAR(without / 20000.0, 0.032, 0.008);
}

TEST(SimResponseModelTest, DrawsAreAPureFunctionOfTheKey) {
  ResponseModel a(ResponseOptions{}, 7, kCategories), b(ResponseOptions{}, 7, kCategories);
  const std::vector<int64_t> items = {1, 2, 3, 4};
  const std::vector<int> cats = {0, 0, 1, 2};
  for (int64_t u = 0; u < 50; ++u) {
    const auto ra = a.Respond(UserState{}, Taste(), items, cats, u, 2);
    const auto rb = b.Respond(UserState{}, Taste(), items, cats, u, 2);
    for (size_t j = 0; j < ra.size(); ++j) {
      EXPECT_EQ(ra[j].click, rb[j].click);
      EXPECT_EQ(ra[j].purchase, rb[j].purchase);
    }
  }
  EXPECT_EQ(a.Quality(17), b.Quality(17));
}

}  // namespace
}  // namespace recdb::sim
