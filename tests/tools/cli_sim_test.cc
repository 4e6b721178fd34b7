// `recdb sim` end to end: the built `recdb` binary execs its sibling
// recdb-sim (tools/cli/cmd_sim.cc), runs a tiny closed loop and writes
// OUT/sim.json and one SVG per metric; the same seed gives the same bytes
// (sim/README.md promises byte-identical JSON); bad input exits non-zero
// with a message naming it.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tools/cli_runner.h"

namespace recdb::test {
namespace {

constexpr const char* kTiny =
    "sim --users 30 --items 60 --rounds 4 --learn-rounds 2 --policies fused,random,learned";

class CliSimTest : public CliTestBase {};

TEST_F(CliSimTest, WritesTheJsonAndPlotsAndTheSameSeedGivesTheSameBytes) {
  const std::string a = dir_.Sub("a"), b = dir_.Sub("b");
  RunResult r = Run(std::string(kTiny) + " --out " + a);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("learned vs fused"), std::string::npos) << r.out;
  const std::string json = ReadFileOrEmpty(a + "/sim.json");
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json;
  EXPECT_EQ(j["parameters"]["users"], 30);
  EXPECT_EQ(j["parameters"]["rounds"], 4);
  for (const char* p : {"fused", "random", "learned"}) {
    ASSERT_TRUE(j["summary"].contains(p)) << p;
    EXPECT_GE(j["summary"][p]["cumulative_reward"].get<double>(), 0.0) << p;
    ASSERT_TRUE(j["metrics"]["reward"].contains(p)) << p;
    EXPECT_EQ(j["metrics"]["reward"][p].size(), 4u) << p;
  }
  // Off-policy estimates of the other policies from the random policy's log.
  EXPECT_TRUE(j["off_policy"].contains("fused")) << j["off_policy"].dump();
  for (const char* svg : {"reward.svg", "cumulative_reward.svg", "mean_entropy_change.svg"}) {
    EXPECT_NE(ReadFileOrEmpty(a + "/" + svg).find("<svg"), std::string::npos) << svg;
  }
  // The per-policy databases are removed unless --keep-dbs.
  EXPECT_FALSE(std::filesystem::exists(a + "/dbs/fused"));

  r = Run(std::string(kTiny) + " --out " + b + " --keep-dbs");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadFileOrEmpty(b + "/sim.json"), json);
  EXPECT_TRUE(std::filesystem::exists(b + "/dbs"));
}

TEST_F(CliSimTest, BadInputExitsNonZeroNamingIt) {
  const std::string out = " --out " + dir_.Sub("bad");
  RunResult r = Run("sim --policies fused,bogus --users 10 --items 30 --rounds 2" + out);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown policy 'bogus'"), std::string::npos) << r.err;
  r = Run("sim --userz 3" + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown flag --userz"), std::string::npos) << r.err;
  r = Run("sim --users x" + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad value 'x' for --users"), std::string::npos) << r.err;
  r = Run("sim --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--learned-max-per-category"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace recdb::test
