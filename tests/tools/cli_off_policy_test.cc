// `recdb eval DIR --off-policy` end to end: the built binary on a database
// with a known answer (tests/tools/off_policy_world.h), its JSON, its table,
// and its error when no impression carries propensities.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tools/cli_runner.h"
#include "tools/off_policy_world.h"

namespace recdb::test {
namespace {

class CliOffPolicyTest : public CliTestBase {
 protected:
  std::string MakeWorld(bool with_propensities) {
    const std::string path = dir_.Sub(with_propensities ? "db" : "db-none");
    auto db = OpenOffPolicyWorld(path, with_propensities);
    EXPECT_NE(db, nullptr);
    if (db) {
      EXPECT_TRUE(db->Close().ok());
    }
    return path;
  }
};

TEST_F(CliOffPolicyTest, JsonReportsTheKnownEstimates) {
  const std::string db = MakeWorld(true);
  nlohmann::json j = RunJson("eval " + db + " --off-policy --json --recommenders trending,fused");
  ASSERT_TRUE(j.contains("off_policy")) << j.dump(2);
  const auto& o = j["off_policy"];
  EXPECT_EQ(o["impressions"], 4);
  EXPECT_EQ(o["users"], 3);
  EXPECT_EQ(o["window_hours"], 24.0);
  const auto& m = o["candidates"]["trending"];
  EXPECT_EQ(m["impressions"], 3);
  EXPECT_EQ(m["skipped_impressions"], 1);
  EXPECT_EQ(m["slots"], 5);
  EXPECT_EQ(m["matches"], 3);
  EXPECT_NEAR(m["ips"].get<double>(), 2.0, 1e-9);
  EXPECT_NEAR(m["snips"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(m["logged_reward"].get<double>(), 0.6, 1e-9);
  ASSERT_EQ(m["ips_ci95"].size(), 2u);
  EXPECT_LT(m["ips_ci95"][0].get<double>(), 2.0);
  EXPECT_GT(m["ips_ci95"][1].get<double>(), 2.0);
  EXPECT_TRUE(o["candidates"].contains("fused"));
  EXPECT_EQ(o["candidates"]["fused"]["slots"], 5);

  j = RunJson("eval " + db + " --off-policy --json --recommenders trending --window-hours 72");
  EXPECT_NEAR(j["off_policy"]["candidates"]["trending"]["logged_reward"].get<double>(), 0.8, 1e-9);

  j = RunJson("eval " + db + " --off-policy --json --recommenders trending --model-until " +
              std::to_string(kOffPolicyT));
  EXPECT_EQ(j["off_policy"]["model"]["private"], true);
  EXPECT_EQ(j["off_policy"]["model"]["events"], 1401);
  EXPECT_NEAR(j["off_policy"]["candidates"]["trending"]["ips"].get<double>(), 2.0, 1e-9);
}

TEST_F(CliOffPolicyTest, TablePrintsOneRowPerCandidate) {
  const std::string db = MakeWorld(true);
  RunResult r = Run("eval " + db + " --off-policy --diversity 0.5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("IPS/slot"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfused "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfused+care "), std::string::npos) << r.out;
}

TEST_F(CliOffPolicyTest, NoPropensitiesIsAnError) {
  const std::string db = MakeWorld(false);
  RunResult r = Run("eval " + db + " --off-policy");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("no impressions with propensities"), std::string::npos) << r.err;
  r = Run("eval " + db + " --off-policy --recommenders nosuch");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("unknown recommender 'nosuch'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace recdb::test
