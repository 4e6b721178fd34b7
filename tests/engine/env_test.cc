// An application's Env (recdb/env.h, Options::env), written against the
// public API only: it sees the file operations of recdb's own files (model
// file, index checkpoint, snapshot) and of RocksDB's (WAL, SST, MANIFEST),
// can fail them, and its clock drives retention. A database opened without
// it never calls it.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
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

// Each test's database directory and an AppEnv in Options::env.
class EnvTest : public ::testing::Test {
 protected:
  EnvTest() { options_.env = &env_; }
  std::unique_ptr<DB> OpenDb() { return test::OpenOrDie(dir_.Sub("db"), options_); }

  TempDir dir_;
  AppEnv env_;
  Options options_ = CreateOptions();
};

Status MakeSpaceAndCheckpoint(DB& db) {
  SpaceOptions so;
  so.name = "s";
  so.dimension = 2;
  RECDB_RETURN_IF_ERROR(db.CreateSpace(so));
  RECDB_RETURN_IF_ERROR(
      db.PutVectors({}, "s", EntityKind::kItem, {{"i1", {1.0f, 0.5f}}, {"i2", {0.5f, 1.0f}}}));
  return db.CheckpointIndexes();
}

TEST_F(EnvTest, SeesRecdbAndRocksDbFileOperations) {
  {
    auto db = OpenDb();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->RecordEvents({}, SomeEvents()).ok());
    ASSERT_TRUE(db->Train().ok());
    ASSERT_TRUE(MakeSpaceAndCheckpoint(*db).ok());
    ASSERT_TRUE(db->CreateSnapshot(dir_.Sub("backup")).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  // RocksDB's files: written, synced, renamed (CURRENT): the WAL and the
  // MANIFEST among them.
  EXPECT_GT(env_.count(FileOwner::kStorage, FileOperationKind::kWrite), 0);
  EXPECT_GT(env_.count(FileOwner::kStorage, FileOperationKind::kSync), 0);
  EXPECT_GT(env_.count(FileOwner::kStorage, FileOperationKind::kRename), 0);
  EXPECT_TRUE(env_.SawFile(FileOwner::kStorage, ".log"));
  EXPECT_TRUE(env_.SawFile(FileOwner::kStorage, "/MANIFEST-"));
  // recdb's own files: the model file, the index checkpoint, the snapshot.
  EXPECT_GT(env_.count(FileOwner::kRecdb, FileOperationKind::kWrite), 0);
  EXPECT_GT(env_.count(FileOwner::kRecdb, FileOperationKind::kSync), 0);
  EXPECT_GT(env_.count(FileOwner::kRecdb, FileOperationKind::kRename), 0);
  EXPECT_TRUE(env_.SawFile(FileOwner::kRecdb, "/fused.model"));
  EXPECT_TRUE(env_.SawFile(FileOwner::kRecdb, ".hnsw"));
  EXPECT_TRUE(env_.SawFile(FileOwner::kRecdb, "/snapshot.manifest"));
  EXPECT_FALSE(env_.SawFile(FileOwner::kStorage, "/fused.model"));  // told apart
  EXPECT_FALSE(env_.SawFile(FileOwner::kStorage, "/snapshot.manifest"));

  // Reopening reads through it too (the model file is opened, RocksDB's
  // files are opened and read).
  const int64_t opens = env_.count(FileOwner::kRecdb, FileOperationKind::kOpen);
  const int64_t reads = env_.count(FileOwner::kStorage, FileOperationKind::kRead);
  {
    auto db = OpenDb();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Close().ok());
  }
  EXPECT_GT(env_.count(FileOwner::kRecdb, FileOperationKind::kOpen), opens);
  EXPECT_GT(env_.count(FileOwner::kStorage, FileOperationKind::kRead), reads);

  // A database opened without it never calls it.
  const int64_t before = env_.total();
  Options plain = CreateOptions();
  auto db = test::OpenOrDie(dir_.Sub("db"), plain);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->RecordEvents({}, SomeEvents()).ok());
  ASSERT_TRUE(db->Train().ok());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_EQ(env_.total(), before);
}

TEST_F(EnvTest, ARefusedOperationIsAnIOErrorCarryingTheEnvsMessage) {
  auto db = OpenDb();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->RecordEvents({}, SomeEvents()).ok());

  // RocksDB's WAL append.
  env_.Refuse(FileOwner::kStorage, FileOperationKind::kWrite);
  Status s = db->RecordEvents({}, {MakeEvent("u1", "i1", "view", kT0 + 999)});
  env_.AllowAll();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("refused by the application's Env"), std::string::npos)
      << s.ToString();
  db->Close().IgnoreError();  // may report the WAL error
  db.reset();

  // recdb's index checkpoint rename.
  db = OpenDb();
  ASSERT_NE(db, nullptr);
  env_.Refuse(FileOwner::kRecdb, FileOperationKind::kRename);
  s = MakeSpaceAndCheckpoint(*db);
  env_.AllowAll();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("rename"), std::string::npos) << s.ToString();
  EXPECT_TRUE(db->CheckpointIndexes().ok());  // allowed again
  EXPECT_TRUE(db->Close().ok());
}

TEST_F(EnvTest, ItsClockDrivesRetention) {
  options_.retention.ttl_seconds_by_type["view"] = 30 * kDay;
  auto db = OpenDb();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("a", "i1", "view", kT0),
                                    MakeEvent("a", "i2", "view", kT0 + 20 * kDay)})
                  .ok());
  EXPECT_EQ(db->GetUserHistory("a")->size(), 2u);  // at the Env's time kT0 + 10 s
  env_.AdvanceSeconds(30 * kDay);                     // the first view is 30 days old
  EXPECT_EQ(db->GetUserHistory("a")->size(), 1u);
  auto report = db->SweepRetention();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->expired_events_removed, 1);
  env_.AdvanceSeconds(30 * kDay);
  EXPECT_EQ(db->GetUserHistory("a")->size(), 0u);
  EXPECT_TRUE(db->Close().ok());
}

// RestoreOptions::env: the restore's reads and writes go through it, and a
// refused write fails the restore, leaving no destination behind.
TEST_F(EnvTest, RestoreRunsThroughRestoreOptionsEnv) {
  {
    Options plain = CreateOptions();
    auto db = test::OpenOrDie(dir_.Sub("db"), plain);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->RecordEvents({}, SomeEvents()).ok());
    ASSERT_TRUE(db->CreateSnapshot(dir_.Sub("backup")).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  EXPECT_EQ(env_.total(), 0);
  // Without it, the restore never calls the application's Env.
  ASSERT_TRUE(DB::Restore(dir_.Sub("backup"), dir_.Sub("plain")).ok());
  EXPECT_EQ(env_.total(), 0);

  RestoreOptions ro;
  ro.env = &env_;
  auto report = DB::Restore(dir_.Sub("backup"), dir_.Sub("restored"), ro);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(env_.SawFile(FileOwner::kRecdb, "/snapshot.manifest"));  // read
  EXPECT_TRUE(env_.SawFile(FileOwner::kRecdb, "/restored/db/"));       // copied into
  EXPECT_GT(env_.count(FileOwner::kRecdb, FileOperationKind::kWrite), 0);
  // The restored copy is opened with it: RocksDB's files go through it too.
  EXPECT_TRUE(env_.SawFile(FileOwner::kStorage, "/restored/db/"));

  env_.Refuse(FileOwner::kRecdb, FileOperationKind::kWrite);
  auto refused = DB::Restore(dir_.Sub("backup"), dir_.Sub("refused"), ro);
  env_.AllowAll();
  ASSERT_FALSE(refused.ok());
  // recdb's own files fail as POSIX calls do (EIO): an IOError naming the file.
  EXPECT_TRUE(refused.status().IsIOError()) << refused.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("refused")));  // nothing left behind
}

}  // namespace
}  // namespace recdb
