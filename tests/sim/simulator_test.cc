// The whole loop on a tiny world (50 users, 3 rounds): deterministic,
// complete, and the propensities reach the database (sim/simulator.h).
#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "test_util.h"

namespace recdb::sim {
namespace {

SimOptions Tiny(const std::string& dir) {
  SimOptions o;
  o.seed = 5;
  o.users = 50;
  o.items = 120;
  o.rounds = 3;
  o.retrain_every = 2;
  o.work_dir = dir;
  return o;
}

// Tiny with fused and the simulator's learned policy, learning after
// `learn_rounds` rounds and every `update_every` rounds from a pool of 20.
SimOptions TinyLearned(const std::string& dir, int learn_rounds, int update_every) {
  SimOptions o = Tiny(dir);
  o.policies = {"fused", "learned"};
  o.learned.learn_rounds = learn_rounds;
  o.learned.update_every = update_every;
  o.learned.pool = 20;
  o.learned.steps = 30;
  return o;
}

// Runs `o` on 2 threads, then again in `other_dir` on 1 thread, and
// expects byte-identical JSON (parallelism does not change the result);
// returns the first run.
SimResult RunTwiceExpectingSameJson(SimOptions o, const std::string& other_dir) {
  o.threads = 2;
  auto r1 = RunSimulation(o);
  EXPECT_TRUE(r1.ok()) << r1.status().ToString();
  o.work_dir = other_dir;
  o.threads = 1;
  auto r2 = RunSimulation(o);
  EXPECT_TRUE(r2.ok()) << r2.status().ToString();
  if (!r1.ok() || !r2.ok()) return SimResult{};
  EXPECT_EQ(ResultJson(*r1), ResultJson(*r2));
  return std::move(*r1);
}

TEST(SimulatorTest, SameSeedGivesByteIdenticalJson) {
  test::TempDir a, b, c;
  SimOptions o = Tiny(a.path());
  o.threads = 2;
  auto r1 = RunSimulation(o);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  o.work_dir = b.path();
  o.threads = 1;  // parallelism does not change the result
  auto r2 = RunSimulation(o);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  const std::string j1 = ResultJson(*r1), j2 = ResultJson(*r2);
  EXPECT_EQ(j1, j2);
  // Another seed gives another run.
  o.work_dir = c.path();
  o.seed = 6;
  auto r3 = RunSimulation(o);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_NE(ResultJson(*r3), j1);
}

TEST(SimulatorTest, JsonHoldsParametersMetricsAndOffPolicy) {
  test::TempDir dir;
  auto r = RunSimulation(Tiny(dir.path()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto j = nlohmann::json::parse(ResultJson(*r));
  EXPECT_EQ(j["parameters"]["users"], 50);
  EXPECT_EQ(j["parameters"]["response"]["position_bias"], 1.0);
  EXPECT_EQ(j["parameters"]["care_preset"], "balanced");
  for (const char* m : {"reward", "mean_entropy", "mean_entropy_change", "exposure_gini",
                        "coverage", "users_left", "mean_rounds_to_first_exposure"}) {
    for (const char* p : {"fused", "fused+care", "popularity", "random"}) {
      ASSERT_TRUE(j["metrics"][m].contains(p)) << m << " " << p;
      EXPECT_EQ(j["metrics"][m][p].size(), 3u) << m << " " << p;
    }
  }
  for (const char* p : {"fused", "fused+care", "popularity"}) {
    ASSERT_TRUE(j["off_policy"].contains(p)) << p;
    const auto& e = j["off_policy"][p];
    EXPECT_GT(e["slots"].get<int64_t>(), 0);
    // The closed-loop view: repeats are a share; the bounds are ordered and
    // reach up to the IPS interval's upper end.
    EXPECT_GE(e["repeat_share"].get<double>(), 0.0) << p;
    EXPECT_LE(e["repeat_share"].get<double>(), 1.0) << p;
    EXPECT_LE(e["closed_loop_bounds"][0].get<double>(), e["closed_loop_bounds"][1].get<double>());
    EXPECT_EQ(e["closed_loop_bounds"][1], e["ips_ci95"][1]) << p;
    EXPECT_TRUE(e.contains("truth_in_closed_loop_bounds")) << p;
  }
  // Every policy served someone and earned something.
  for (const auto& [name, ms] : r->rounds) {
    EXPECT_GT(ms[0].active_users, 0) << name;
    EXPECT_GT(ms.back().cumulative_reward, 0) << name;
    EXPECT_GT(ms[0].coverage, 0) << name;
  }
  EXPECT_TRUE(j.contains("care_bar"));
  test::TempDir plots;
  ASSERT_TRUE(WritePlots(*r, plots.path()).ok());
}

TEST(SimulatorTest, RejectsBadOptions) {
  test::TempDir dir;
  SimOptions o = Tiny(dir.path());
  o.policies = {"fused", "nope"};
  EXPECT_FALSE(RunSimulation(o).ok());
  o = Tiny(dir.path());
  o.care_preset = "nope";
  EXPECT_FALSE(RunSimulation(o).ok());
  o = Tiny("");
  EXPECT_FALSE(RunSimulation(o).ok());
}

// The learned policy in the loop: logs on round 1, trains before round 2
// and again before round 3; the same options give the same JSON, its
// parameters moved from theta_0, and the bar section is written.
TEST(SimulatorTest, LearnedPolicyIsDeterministicAndLearns) {
  test::TempDir a, b;
  const SimResult res = RunTwiceExpectingSameJson(TinyLearned(a.path(), 1, 1), b.path());
  ASSERT_FALSE(res.rounds.empty());
  const SimResult* r1 = &res;
  const auto j = nlohmann::json::parse(ResultJson(*r1));
  ASSERT_TRUE(j.contains("learned_bar"));
  EXPECT_EQ(j["learned_bar"]["rounds"][0], 2);
  EXPECT_EQ(j["parameters"]["learned"]["learn_rounds"], 1);
  const auto& theta = r1->parameters.at("learned");
  ASSERT_TRUE(theta.count("rank"));
  ASSERT_TRUE(theta.count("times_shown"));
  double moved = std::abs(theta.at("rank") - 1.0);
  for (const auto& [f, x] : theta) {
    if (f != "rank") moved += std::abs(x);
  }
  EXPECT_GT(moved, 1e-3);  // trained: theta is not theta_0 any more
  EXPECT_GT(r1->rounds.at("learned").back().cumulative_reward, 0);
  EXPECT_TRUE(r1->parameters.at("fused").empty());
}

// recdb-learned: the database's own learned policy in the loop. Round 1's
// Train finds no impressions (the fused list serves, propensity 1); round
// 3's learns from rounds 1-2 and serves drawn lists with their propensities.
TEST(SimulatorTest, DatabaseLearnedPolicyTrainsInTheLoopDeterministically) {
  test::TempDir a, b;
  SimOptions o = Tiny(a.path());
  o.policies = {"fused", "recdb-learned"};
  o.threads = 2;
  auto r1 = RunSimulation(o);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  o.work_dir = b.path();
  o.threads = 1;
  auto r2 = RunSimulation(o);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(ResultJson(*r1), ResultJson(*r2));
  const auto& theta = r1->parameters.at("recdb-learned");
  ASSERT_TRUE(theta.count("rank")) << "the database's policy did not train";
  ASSERT_TRUE(theta.count("times_shown"));
  EXPECT_LE(theta.at("category_share"), -1.0 + 1e-12);  // the habit bound
  // Rounds 1-2 served the fused list: the same rewards as fused (common random numbers).
  const auto& fused = r1->rounds.at("fused");
  const auto& learned = r1->rounds.at("recdb-learned");
  EXPECT_EQ(learned[0].reward, fused[0].reward);
  EXPECT_EQ(learned[1].reward, fused[1].reward);
}

// The learned policy's maths moved into the engine (recdb/policy_gradient.h,
// engine/policy/README.md): the simulator's figures must not move. Golden
// values from the simulator before the move (commit 0f7f99b):
//   recdb-sim --seed 5 --users 80 --items 120 --rounds 6 --retrain-every 2
//     --policies fused,learned --learn-rounds 2 --learned-update-every 2
//     --learned-pool 20 --learned-steps 30
TEST(SimulatorTest, LearnedPolicyFiguresUnchangedByTheMoveIntoTheEngine) {
  test::TempDir dir;
  SimOptions o = TinyLearned(dir.path(), 2, 2);
  o.users = 80;
  o.rounds = 6;
  o.threads = 1;
  o.learned.entropy_weight = 0;  // the regulariser off: the arithmetic of before
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rounds.at("fused").back().cumulative_reward, 78.0);
  EXPECT_EQ(r->rounds.at("learned").back().cumulative_reward, 82.0);
  const auto& theta = r->parameters.at("learned");
  for (const auto& [name, value] : std::map<std::string, double>{{"rank", 0.454665},
                                                                 {"score", 0.449612},
                                                                 {"category_share", -1.0},
                                                                 {"category_recent_clicks", -1.781434},
                                                                 {"popularity", 0.339273},
                                                                 {"times_shown", -0.688971},
                                                                 {"shown_last_round", -0.425418},
                                                                 {"contrib:ials", -0.03382}}) {
    ASSERT_TRUE(theta.count(name)) << name;
    EXPECT_NEAR(theta.at(name), value, 1e-6) << name;
  }
}

// The entropy regulariser reaches the learned policy's training: the same
// run with tau 0 and tau 3 learns different weights, the JSON states tau,
// and the larger tau leaves the rank and score weights (the pull toward the
// fused order) smaller in all.
TEST(SimulatorTest, LearnedEntropyWeightChangesWhatIsLearned) {
  test::TempDir a, b;
  SimOptions o = TinyLearned(a.path(), 2, 2);
  o.users = 80;
  o.rounds = 6;
  o.learned.entropy_weight = 0;
  auto r0 = RunSimulation(o);
  ASSERT_TRUE(r0.ok()) << r0.status().ToString();
  o.work_dir = b.path();
  o.learned.entropy_weight = 3;
  auto r3 = RunSimulation(o);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  const auto j = nlohmann::json::parse(ResultJson(*r3));
  EXPECT_EQ(j["parameters"]["learned"]["entropy_weight"], 3.0);
  const auto& t0 = r0->parameters.at("learned");
  const auto& t3 = r3->parameters.at("learned");
  double norm0 = 0, norm3 = 0;
  for (const auto& [f, x] : t0) {
    if (f != "category_share" && f != "category_recent_clicks") norm0 += x * x;
  }
  for (const auto& [f, x] : t3) {
    if (f != "category_share" && f != "category_recent_clicks") norm3 += x * x;
  }
  EXPECT_LT(norm3, norm0);  // flatter softmax: smaller weights
}

// Off-policy estimates from two loggers: the first's in off_policy, the
// second's in off_policy_from (the learned policy's log, whose propensities
// are the draw's slot marginals); deterministic across thread counts.
TEST(SimulatorTest, OffPolicyFromSeveralLoggers) {
  test::TempDir a, b;
  SimOptions o = TinyLearned(a.path(), 2, 2);
  o.users = 80;
  o.rounds = 6;
  o.policies = {"fused", "random", "learned"};
  o.ope_loggers = {"random", "learned", "absent"};
  const SimResult res = RunTwiceExpectingSameJson(o, b.path());
  ASSERT_FALSE(res.rounds.empty());
  const SimResult* r1 = &res;
  ASSERT_EQ(r1->off_policy.size(), 2u);  // fused and learned, from random
  EXPECT_EQ(r1->off_policy.at("fused").logger, "random");
  ASSERT_EQ(r1->off_policy_from.size(), 1u);
  const auto& from = r1->off_policy_from.at("learned");
  ASSERT_EQ(from.size(), 2u);  // fused and random, from learned
  EXPECT_EQ(from.at("fused").logger, "learned");
  EXPECT_GT(from.at("fused").matches, 0);  // fused's items are in the learned draw's pool
  const auto j = nlohmann::json::parse(ResultJson(*r1));
  EXPECT_TRUE(j["off_policy_from"]["learned"].contains("random"));
}

}  // namespace
}  // namespace recdb::sim
