// An application's Env (recdb/env.h, Options::env), written against the
// public API only: it sees the file operations of recdb's own files (model
// file, index checkpoint, snapshot) and of RocksDB's (WAL, SST, MANIFEST),
// can fail them, and its clock drives retention. A database opened without
// it never calls it.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db_test_util.h"
#include "recdb/db.h"
#include "recdb/env.h"
#include "recdb/privacy.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::CreateOptions;
using test::MakeEvent;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;
constexpr int64_t kDay = 86400;

// What an embedding application would write: counts every operation by
// owner and kind, remembers the files, refuses what it is told to, and
// keeps its own time.
class AppEnv final : public Env {
 public:
  Status OnFileOperation(const FileOperation& op) override {
    std::lock_guard lock(mu_);
    ++counts_[{op.owner, op.kind}];
    files_[op.owner].insert(std::string(op.path));
    if (refuse_ && refuse_->first == op.owner && refuse_->second == op.kind) {
      return Status::IOError("refused by the application's Env");
    }
    return Status::OK();
  }
  int64_t NowMicros() override { return now_seconds_.load() * 1'000'000; }

  int64_t count(FileOwner owner, FileOperationKind kind) {
    std::lock_guard lock(mu_);
    return counts_[{owner, kind}];
  }
  int64_t total() {
    std::lock_guard lock(mu_);
    int64_t n = 0;
    for (const auto& [key, c] : counts_) n += c;
    return n;
  }
  // Whether the name of some file of `owner` it saw contains `part`.
  bool SawFile(FileOwner owner, const std::string& part) {
    std::lock_guard lock(mu_);
    for (const std::string& f : files_[owner]) {
      if (f.find(part) != std::string::npos) return true;
    }
    return false;
  }
  void Refuse(FileOwner owner, FileOperationKind kind) {
    std::lock_guard lock(mu_);
    refuse_ = {owner, kind};
  }
  void AllowAll() {
    std::lock_guard lock(mu_);
    refuse_.reset();
  }
  void AdvanceSeconds(int64_t s) { now_seconds_ += s; }

 private:
  std::mutex mu_;
  std::map<std::pair<FileOwner, FileOperationKind>, int64_t> counts_;
  std::map<FileOwner, std::set<std::string>> files_;
  std::optional<std::pair<FileOwner, FileOperationKind>> refuse_;
  std::atomic<int64_t> now_seconds_{kT0 + 10};
};

std::vector<Event> SomeEvents() {
  std::vector<Event> events;
  for (int u = 0; u < 20; ++u) {
    for (int j = 0; j < 5; ++j) {
      events.push_back(MakeEvent("u" + std::to_string(u), "i" + std::to_string((u + j) % 8),
                                 "view", kT0 + u * 10 + j));
    }
  }
  return events;
}

Status MakeSpaceAndCheckpoint(DB& db) {
  SpaceOptions so;
  so.name = "s";
  so.dimension = 2;
  RECDB_RETURN_IF_ERROR(db.CreateSpace(so));
  RECDB_RETURN_IF_ERROR(
      db.PutVectors({}, "s", EntityKind::kItem, {{"i1", {1.0f, 0.5f}}, {"i2", {0.5f, 1.0f}}}));
  return db.CheckpointIndexes();
}

TEST(EnvTest, SeesRecdbAndRocksDbFileOperations) {
  TempDir dir;
  AppEnv env;
  Options o = CreateOptions();
  o.env = &env;
  {
    auto db = test::OpenOrDie(dir.Sub("db"), o);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->RecordEvents({}, SomeEvents()).ok());
    ASSERT_TRUE(db->Train().ok());
    ASSERT_TRUE(MakeSpaceAndCheckpoint(*db).ok());
    ASSERT_TRUE(db->CreateSnapshot(dir.Sub("backup")).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  // RocksDB's files: written, synced, renamed (CURRENT): the WAL and the
  // MANIFEST among them.
  EXPECT_GT(env.count(FileOwner::kStorage, FileOperationKind::kWrite), 0);
  EXPECT_GT(env.count(FileOwner::kStorage, FileOperationKind::kSync), 0);
  EXPECT_GT(env.count(FileOwner::kStorage, FileOperationKind::kRename), 0);
  EXPECT_TRUE(env.SawFile(FileOwner::kStorage, ".log"));
  EXPECT_TRUE(env.SawFile(FileOwner::kStorage, "/MANIFEST-"));
  // recdb's own files: the model file, the index checkpoint, the snapshot.
  EXPECT_GT(env.count(FileOwner::kRecdb, FileOperationKind::kWrite), 0);
  EXPECT_GT(env.count(FileOwner::kRecdb, FileOperationKind::kSync), 0);
  EXPECT_GT(env.count(FileOwner::kRecdb, FileOperationKind::kRename), 0);
  EXPECT_TRUE(env.SawFile(FileOwner::kRecdb, "/fused.model"));
  EXPECT_TRUE(env.SawFile(FileOwner::kRecdb, ".hnsw"));
  EXPECT_TRUE(env.SawFile(FileOwner::kRecdb, "/snapshot.manifest"));
  EXPECT_FALSE(env.SawFile(FileOwner::kStorage, "/fused.model"));  // told apart
  EXPECT_FALSE(env.SawFile(FileOwner::kStorage, "/snapshot.manifest"));

  // Reopening reads through it too (the model file is opened, RocksDB's
  // files are opened and read).
  const int64_t opens = env.count(FileOwner::kRecdb, FileOperationKind::kOpen);
  const int64_t reads = env.count(FileOwner::kStorage, FileOperationKind::kRead);
  {
    auto db = test::OpenOrDie(dir.Sub("db"), o);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Close().ok());
  }
  EXPECT_GT(env.count(FileOwner::kRecdb, FileOperationKind::kOpen), opens);
  EXPECT_GT(env.count(FileOwner::kStorage, FileOperationKind::kRead), reads);

  // A database opened without it never calls it.
  const int64_t before = env.total();
  Options plain = CreateOptions();
  auto db = test::OpenOrDie(dir.Sub("db"), plain);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->RecordEvents({}, SomeEvents()).ok());
  ASSERT_TRUE(db->Train().ok());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_EQ(env.total(), before);
}

TEST(EnvTest, ARefusedOperationIsAnIOErrorCarryingTheEnvsMessage) {
  TempDir dir;
  AppEnv env;
  Options o = CreateOptions();
  o.env = &env;
  auto db = test::OpenOrDie(dir.Sub("db"), o);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->RecordEvents({}, SomeEvents()).ok());

  // RocksDB's WAL append.
  env.Refuse(FileOwner::kStorage, FileOperationKind::kWrite);
  Status s = db->RecordEvents({}, {MakeEvent("u1", "i1", "view", kT0 + 999)});
  env.AllowAll();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("refused by the application's Env"), std::string::npos)
      << s.ToString();
  db->Close().IgnoreError();  // may report the WAL error
  db.reset();

  // recdb's index checkpoint rename.
  db = test::OpenOrDie(dir.Sub("db"), o);
  ASSERT_NE(db, nullptr);
  env.Refuse(FileOwner::kRecdb, FileOperationKind::kRename);
  s = MakeSpaceAndCheckpoint(*db);
  env.AllowAll();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("rename"), std::string::npos) << s.ToString();
  EXPECT_TRUE(db->CheckpointIndexes().ok());  // allowed again
  EXPECT_TRUE(db->Close().ok());
}

TEST(EnvTest, ItsClockDrivesRetention) {
  TempDir dir;
  AppEnv env;
  Options o = CreateOptions();
  o.env = &env;
  o.retention.ttl_seconds_by_type["view"] = 30 * kDay;
  auto db = test::OpenOrDie(dir.Sub("db"), o);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("a", "i1", "view", kT0),
                                    MakeEvent("a", "i2", "view", kT0 + 20 * kDay)})
                  .ok());
  EXPECT_EQ(db->GetUserHistory("a")->size(), 2u);  // at the Env's time kT0 + 10 s
  env.AdvanceSeconds(30 * kDay);                     // the first view is 30 days old
  EXPECT_EQ(db->GetUserHistory("a")->size(), 1u);
  auto report = db->SweepRetention();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->expired_events_removed, 1);
  env.AdvanceSeconds(30 * kDay);
  EXPECT_EQ(db->GetUserHistory("a")->size(), 0u);
  EXPECT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace recdb
