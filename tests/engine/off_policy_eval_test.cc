// EvaluateOffPolicy (recdb/off_policy.h) on a real database whose answer is
// known (tests/tools/off_policy_world.h): rewards from the events after each
// impression, the candidate served as of the impression's time (history
// and exclude_seen before it, items created after it left out), skipped
// impressions, the window and its cut at the next impression, and errors.
#include <gtest/gtest.h>

#include "recdb/off_policy.h"
#include "test_util.h"
#include "tools/off_policy_world.h"

namespace recdb {
namespace {

// "trending" alone: every other recommender of the model at weight 0.
OffPolicyCandidate TrendingAlone(DB* db) {
  OffPolicyCandidate c;
  c.name = "trending";
  auto report = db->GetModelReport();
  EXPECT_TRUE(report.ok());
  for (const auto& [name, w] : report->weights) c.weights[name] = name == "trending" ? 1.0 : 0.0;
  EXPECT_TRUE(c.weights.count("trending"));
  return c;
}

TEST(OffPolicyEvalTest, EstimatesTheKnownWorld) {
  test::TempDir dir;
  auto db = test::OpenOffPolicyWorld(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  OffPolicyOptions o;
  o.candidates = {TrendingAlone(db.get())};
  auto r = EvaluateOffPolicy(db.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->impressions, 4);
  EXPECT_EQ(r->users, 3);
  EXPECT_EQ(r->reward_types,
            (std::vector<std::string>{"click", "like", "add_to_cart", "purchase", "rating"}));
  ASSERT_EQ(r->candidates.size(), 1u);
  const OffPolicyEstimate& e = r->candidates[0].second;
  EXPECT_EQ(e.impressions, 3);
  EXPECT_EQ(e.skipped_impressions, 1);
  EXPECT_EQ(e.slots, 5);
  EXPECT_EQ(e.matches, 3);
  EXPECT_NEAR(e.ips, 2.0, 1e-9);
  EXPECT_NEAR(e.snips, 1.0, 1e-9);
  EXPECT_NEAR(e.logged_reward, 0.6, 1e-9);
  EXPECT_GT(e.ips_half_width, 0);
  // u's two candidate lists ([p0 p1], then [late]) share no item: no
  // repeats, so the closed-loop bounds are IPS's interval (recdb/off_policy.h).
  EXPECT_EQ(e.repeat_slots, 0);
  EXPECT_NEAR(e.fresh_ips, e.ips, 1e-12);
  EXPECT_NEAR(e.bound_high, e.ips + e.ips_half_width, 1e-12);
  EXPECT_EQ(r->model_events, 1407);  // the serving model saw every event
  EXPECT_GT(r->model_version, 0u);
}

TEST(OffPolicyEvalTest, PrivateModelSeesOnlyEarlierEvents) {
  test::TempDir dir;
  auto db = test::OpenOffPolicyWorld(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  OffPolicyOptions o;
  o.candidates = {{"trending", {}, std::nullopt, "trending"}};
  o.model_until = test::kOffPolicyT;
  auto r = EvaluateOffPolicy(db.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 1,100 background views, late's 300, v's view of p0: nothing after kT.
  EXPECT_EQ(r->model_events, 1401);
  EXPECT_EQ(r->model_version, 0u);
  EXPECT_EQ(r->impressions, 4);
  const OffPolicyEstimate& e = r->candidates[0].second;
  EXPECT_EQ(e.slots, 5);
  EXPECT_NEAR(e.ips, 2.0, 1e-9);
  // The serving model is untouched.
  auto serving = db->GetModelReport();
  ASSERT_TRUE(serving.ok());
  EXPECT_EQ(serving->events, 1407);
  o.candidates = {{"x", {}, std::nullopt, "nosuch"}};
  EXPECT_TRUE(EvaluateOffPolicy(db.get(), o).status().IsInvalidArgument());
  o.candidates.clear();
  o.model_until = test::kOffPolicyT - 30 * 86400;  // no events before
  EXPECT_FALSE(EvaluateOffPolicy(db.get(), o).ok());
}

TEST(OffPolicyEvalTest, WindowWidensButStopsAtTheNextImpression) {
  test::TempDir dir;
  auto db = test::OpenOffPolicyWorld(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  OffPolicyOptions o;
  o.candidates = {TrendingAlone(db.get())};
  o.window_seconds = 72 * 3600;
  auto r = EvaluateOffPolicy(db.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const OffPolicyEstimate& e = r->candidates[0].second;
  // v's p3 click at +30 h now counts; u's p1 click at +48 h falls after u's
  // next impression (+36 h): r = [1 1 0 1 1].
  EXPECT_NEAR(e.logged_reward, 0.8, 1e-9);
  EXPECT_NEAR(e.ips, 2.0, 1e-9);
}

TEST(OffPolicyEvalTest, RewardTypesAndTimeRangeSelect) {
  test::TempDir dir;
  auto db = test::OpenOffPolicyWorld(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  OffPolicyOptions o;
  o.candidates = {TrendingAlone(db.get())};
  o.reward_types = {"purchase"};  // only u's p1 purchase: w * r = [0 4 0 0 0]
  auto r = EvaluateOffPolicy(db.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->candidates[0].second.ips, 0.8, 1e-9);
  o.reward_types.clear();
  o.since = test::kOffPolicyT + 1;  // u's second impression only
  r = EvaluateOffPolicy(db.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->impressions, 1);
  EXPECT_EQ(r->candidates[0].second.slots, 1);
  EXPECT_EQ(r->candidates[0].second.matches, 0);
  o.reward_types = {"nope"};
  EXPECT_TRUE(EvaluateOffPolicy(db.get(), o).status().IsInvalidArgument());
}

TEST(OffPolicyEvalTest, FailsWithoutPropensities) {
  test::TempDir dir;
  auto db = test::OpenOffPolicyWorld(dir.Sub("db"), /*with_propensities=*/false);
  ASSERT_NE(db, nullptr);
  auto r = EvaluateOffPolicy(db.get(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsFailedPrecondition());
  EXPECT_NE(r.status().message().find("no impressions with propensities"), std::string::npos)
      << r.status().ToString();
}

TEST(OffPolicyEvalTest, FusedCandidateRunsByDefault) {
  test::TempDir dir;
  auto db = test::OpenOffPolicyWorld(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  auto r = EvaluateOffPolicy(db.get(), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].first, "fused");
  EXPECT_EQ(r->candidates[0].second.slots, 5);
  EXPECT_EQ(r->candidates[0].second.skipped_impressions, 1);
}

}  // namespace
}  // namespace recdb
