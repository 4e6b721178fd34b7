// End-to-end tests of `recdb backup create|list|verify|prune|restore`.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tools/cli_runner.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using recdb::test::RunResult;

class CliBackupTest : public recdb::test::CliTestBase {
 protected:
  void SetUp() override {
    std::ofstream events(dir_.Sub("events.jsonl"));
    for (int i = 0; i < 500; ++i) {
      events << R"({"user":"u)" << i % 25 << R"(","item":"i)" << i % 40
             << R"(","type":"view","ts":)" << 1700000000 + i << "}\n";
    }
    events.close();
    ASSERT_EQ(Run("init " + db_).code, 0);
    ASSERT_EQ(Run("import " + db_ + " --events " + dir_.Sub("events.jsonl") + " --quiet").code, 0);
  }

  const std::string db_ = dir_.Sub("db");
  const std::string bk_ = dir_.Sub("backups");
};

TEST_F(CliBackupTest, CreateListVerifyPruneRestore) {
  json first = RunJson("backup create " + db_ + " " + bk_ + " --json");
  EXPECT_EQ(first["id"], 1);
  EXPECT_EQ(first["format_version"], 1);
  EXPECT_GT(first["files"].get<int>(), 2);
  json second = RunJson("backup create " + db_ + " " + bk_ + " --json");
  EXPECT_EQ(second["name"], "snapshot-000002");
  EXPECT_LT(second["unique_bytes"].get<int64_t>(), second["bytes"].get<int64_t>());
  json list = RunJson("backup list " + bk_ + " --json");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["sequence_number"], second["sequence_number"]);
  json verify = RunJson("backup verify " + bk_ + " --json");
  EXPECT_EQ(verify["ok"], true);
  EXPECT_EQ(verify["snapshots"], 2);

  // Read-only in place.
  json stats = RunJson("stats " + second["path"].get<std::string>() + " --json");
  EXPECT_EQ(stats["events"], 500);

  // One flipped byte in the newest snapshot (a new inode: the database and
  // the first snapshot keep theirs).
  std::string victim;
  for (const auto& e : fs::directory_iterator(second["path"].get<std::string>() + "/db")) {
    if (e.path().extension() == ".sst") victim = e.path().string();
  }
  ASSERT_FALSE(victim.empty());
  std::string bytes = recdb::test::ReadFileOrEmpty(victim);
  bytes[bytes.size() / 3] ^= 1;
  fs::remove(victim);
  std::ofstream(victim, std::ios::binary) << bytes;
  const std::string rel = "snapshot-000002/db/" + fs::path(victim).filename().string();
  RunResult bad = Run("backup verify " + bk_);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find(rel), std::string::npos) << bad.err;
  RunResult refused = Run("backup restore " + bk_ + " " + dir_.Sub("r0"));
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("corruption"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dir_.Sub("r0")));

  // The first snapshot restores; forgetting in the live DB then restoring
  // with its ledger forgets the user in the copy too.
  ASSERT_EQ(Run("forget " + db_ + " --user u3").code, 0);
  json restored = RunJson("backup restore " + bk_ + "/snapshot-000001 " + dir_.Sub("r1") +
                          " --forget-ledger " + db_ + " --json");
  EXPECT_EQ(restored["forgotten_by_live_ledger"], 1);
  EXPECT_EQ(RunJson("stats " + dir_.Sub("r1") + " --json")["events"], 480);
  EXPECT_NE(Run("get " + dir_.Sub("r1") + " --user u3").code, 0);

  json pruned = RunJson("backup prune " + bk_ + " --keep 1 --json");
  EXPECT_EQ(pruned["removed"], json::array({"snapshot-000001"}));
  EXPECT_EQ(RunJson("backup list " + bk_ + " --json").size(), 1u);
  EXPECT_EQ(Run("backup prune " + bk_).code, 2);  // --keep is required
  EXPECT_EQ(Run("backup frobnicate " + bk_).code, 2);
}

}  // namespace
