// I/O fault injection under the public DB API (SQLite's ioerr tests): fail
// the N-th write, sync, rename or read RocksDB issues, for N = 1, 2, ... until
// the operation sequence completes without reaching the fault. Every fault
// must surface as a Status (a crash fails the sweep), and the database
// must then reopen, without faults, holding every acknowledged write and
// agreeing with itself (the crash test's verifier, tools/cli/crashtest_*).
// Each point runs in a child process (this binary, FaultPointTest), so that
// a crash ends only that point and the sweep names every bad one.
#include <execinfo.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/table_properties.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>

#include "fault/scratch_dir.h"
#include "recdb/db.h"
#include "recdb/env.h"
#include "storage/env_file_system.h"
#include "test_env.h"
#include "test_util.h"
#include "tools/cli/crashtest_child.h"
#include "tools/cli/crashtest_model.h"

namespace recdb {
namespace {

using FaultKind = FileOperationKind;
using test::FaultInjectionEnv;

// RocksDB's operations only: recdb's own files have their own suite
// (recdb_files_fault_test.cc).
constexpr FileOwner kRocksDb = FileOwner::kStorage;
const char* KindName(FaultKind kind) { return FileOperationKindName(kind); }

using test::ScratchDir;

Options WorkloadOptions(Env* env = nullptr) {
  Options o;
  o.env = env;
  o.create_if_missing = true;
  o.background_threads = 0;  // no scheduler: the I/O sequence is repeatable
  o.block_cache_bytes = 1u << 20;
  o.write_buffer_bytes = 64u << 10;
  return o;
}

// The sweeps' workload: a fixed sequence that takes every recdb write path
// once (event batch, item and user upserts, event type, vectors put and
// deleted, index checkpoint, training, forget, snapshot, retention sweep,
// space drop), over two opens. Each logged call goes to the crash test's expected-state
// log (tools/cli/crashtest_model.h), so its verifier checks the result. The
// first non-OK Status ends the cycle (the database is then closed, errors
// ignored), as a caller giving up would; the next cycle reopens.
class FaultWorkload {
 public:
  FaultWorkload(const std::string& dir, int cycle, Env* env)
      : dir_(dir), cycle_(cycle), env_(env) {}

  // Returns the first error (OK if the cycle completed).
  Status Run() {
    auto log = cli::crashtest::ExpectedLog::Open(dir_ + "/expected.log", /*sync=*/false);
    if (!log.ok()) return log.status();
    log_ = log->get();
    auto db = DB::Open(WorkloadOptions(env_), dir_ + "/db");
    if (!db.ok()) return db.status();
    db_ = db->get();
    Status s = cycle_ == 0 ? First() : Second();
    Status c = db_->Close();
    return s.ok() ? c : s;
  }

 private:
  using Call = std::function<Status()>;

  Status Logged(const std::string& what, const Call& call) {
    const std::string op = "c" + std::to_string(cycle_) + "." + std::to_string(n_++);
    RECDB_RETURN_IF_ERROR(log_->Intent(op, what));
    Status s = call();
    if (!s.ok()) {
      log_->Fail(op, s.ToString()).IgnoreError();
      return s;
    }
    return log_->Ack(op);
  }
  int64_t Version() const { return cycle_ * 10'000'000 + n_; }

  Status Item(int i) {
    const std::string id = cli::crashtest::ItemId(i);
    const int64_t v = Version();
    return Logged("ITEM " + id + " " + std::to_string(v),
                  [&] { return db_->UpsertItems({}, {cli::crashtest::MakeItem(id, v)}); });
  }
  Status User(int u) {
    const std::string id = cli::crashtest::UserId(u);
    const int64_t v = Version();
    return Logged("USER " + id + " " + std::to_string(v),
                  [&] { return db_->UpsertUsers({}, {cli::crashtest::MakeUser(id, v)}); });
  }
  // One batch: event j is user users[j] on item items[j].
  Status Events(const std::vector<int>& users, const std::vector<int>& items) {
    const std::string op = "c" + std::to_string(cycle_) + "." + std::to_string(n_);
    std::vector<Event> events;
    std::string what = "E " + std::to_string(users.size());
    for (size_t j = 0; j < users.size(); ++j) {
      Event e;
      e.user = cli::crashtest::UserId(users[j]);
      e.item = cli::crashtest::ItemId(items[j]);
      e.type = cli::crashtest::kEventTypes[(j + cycle_) % 5];
      e.timestamp = cli::crashtest::kBaseTimestamp + 60 * static_cast<int64_t>(j + 10 * cycle_);
      e.context["op"] = op + "/" + std::to_string(j);
      what += " " + e.user + " " + e.item + " " + e.type + " " + std::to_string(e.timestamp);
      events.push_back(std::move(e));
    }
    return Logged(what, [&] { return db_->RecordEvents({}, events); });
  }
  Status Vector(int i) {
    const std::string id = cli::crashtest::ItemId(i);
    const int64_t v = Version();
    return Logged("VEC " + id + " " + std::to_string(v), [&] {
      return db_->PutVectors({}, cli::crashtest::kSpaceName, EntityKind::kItem,
                             {VectorRecord{id, cli::crashtest::MakeVector(id, v)}});
    });
  }
  Status Train() {
    return Logged("TRAIN", [&]() -> Status {
      TrainOptions to;
      to.learn_weights = false;
      to.ials_factors = 4;
      to.ials_iterations = 1;
      to.threads = 1;
      return db_->Train(to).status();
    });
  }
  Status Recommend() {
    RecommendRequest req;
    req.user = cli::crashtest::UserId(0);
    req.k = 3;
    return db_->Recommend(req).status();
  }

  // Create: every kind of write, a checkpoint, a model, a forget, a snapshot.
  Status First() {
    RECDB_RETURN_IF_ERROR(Logged("ET crash_share 2", [&] {
      return db_->RegisterEventType(EventType{"crash_share", 2.0});
    }));
    for (int i = 0; i < 3; ++i) RECDB_RETURN_IF_ERROR(Item(i));
    RECDB_RETURN_IF_ERROR(User(0));
    RECDB_RETURN_IF_ERROR(Events({0, 1, 2, 0, 1, 3, 3}, {0, 1, 2, 3, 0, 1, 4}));
    SpaceOptions so;
    so.name = cli::crashtest::kSpaceName;
    so.dimension = cli::crashtest::kVectorDim;
    so.hnsw_m = 8;
    so.hnsw_ef_construction = 32;
    RECDB_RETURN_IF_ERROR(db_->CreateSpace(so));
    // A second space, dropped in the second cycle (not in the expected log:
    // the verifier checks the first space; a drop is all or nothing).
    so.name = kDroppedSpace;
    RECDB_RETURN_IF_ERROR(db_->CreateSpace(so));
    RECDB_RETURN_IF_ERROR(db_->PutVectors(
        {}, kDroppedSpace, EntityKind::kItem,
        {VectorRecord{cli::crashtest::ItemId(0), cli::crashtest::MakeVector("d0", 1)},
         VectorRecord{cli::crashtest::ItemId(2), cli::crashtest::MakeVector("d2", 1)}}));
    for (int i = 0; i < 4; ++i) RECDB_RETURN_IF_ERROR(Vector(i));
    RECDB_RETURN_IF_ERROR(Logged("VDEL " + cli::crashtest::ItemId(1), [&] {
      return db_->DeleteVectors({}, cli::crashtest::kSpaceName, EntityKind::kItem,
                                {cli::crashtest::ItemId(1)});
    }));
    RECDB_RETURN_IF_ERROR(db_->CheckpointIndexes());
    RECDB_RETURN_IF_ERROR(Train());
    RECDB_RETURN_IF_ERROR(Recommend());
    RECDB_RETURN_IF_ERROR(Logged("FORGET " + cli::crashtest::UserId(3), [&] {
      return db_->ForgetUser(cli::crashtest::UserId(3)).status();
    }));
    return db_->CreateSnapshot(dir_ + "/backup").status();
  }

  // Reopen (WAL replay, index load): more writes, a retention sweep (flush,
  // compaction, WAL and MANIFEST rotation, checkpoint), a retrain.
  Status Second() {
    RECDB_RETURN_IF_ERROR(Events({0, 2, 4}, {5, 2, 0}));
    RECDB_RETURN_IF_ERROR(Item(5));
    RECDB_RETURN_IF_ERROR(User(2));
    RECDB_RETURN_IF_ERROR(Vector(5));
    // NotFound: the first cycle stopped before creating it.
    if (Status d = db_->DropSpace(kDroppedSpace); !d.ok() && !d.IsNotFound()) return d;
    RECDB_RETURN_IF_ERROR(db_->SweepRetention().status());
    RECDB_RETURN_IF_ERROR(Train());
    return Recommend();
  }

  static constexpr const char* kDroppedSpace = "dropped";
  std::string dir_;
  int cycle_;
  Env* env_;
  int n_ = 0;
  cli::crashtest::ExpectedLog* log_ = nullptr;
  DB* db_ = nullptr;
};

struct SweepResult {
  uint64_t points = 0;         // values of N tried that hit a fault
  uint64_t failed_calls = 0;   // of those, how many made the workload see a non-OK Status
  std::vector<std::string> problems;
};

// The workload's two cycles in the empty directory `dir` with the kind's
// N-th operation failing, then a fault-free check. Returns whether the fault
// was reached.
bool RunWithFault(FaultKind kind, uint64_t n, bool persistent, const std::string& dir,
                  SweepResult* out) {
  const std::string where = std::string(KindName(kind)) + " #" + std::to_string(n) +
                            (persistent ? " (persistent)" : "") + ": ";
  bool hit = false;
  bool failed = false;
  {
    FaultInjectionEnv env;
    env.Arm(kind, n, persistent, kRocksDb);
    failed |= !FaultWorkload(dir, 0, &env).Run().ok();
    failed |= !FaultWorkload(dir, 1, &env).Run().ok();
    hit = env.injected() > 0;
  }
  if (!hit) return false;
  ++out->points;
  if (failed) ++out->failed_calls;
  // Reopen without faults: everything acknowledged is there, and consistent.
  std::string open_error;
  cli::crashtest::VerifyResult r =
      cli::crashtest::Verify(dir + "/db", dir + "/expected.log", &open_error);
  if (!open_error.empty()) out->problems.push_back(where + "reopen failed: " + open_error);
  for (const auto& s : r.lost_details) out->problems.push_back(where + "lost " + s);
  for (const auto& s : r.inconsistencies) out->problems.push_back(where + s);
  // A read-write open must recover too (the read-only one replays the WAL in
  // memory only), and take writes again.
  Options o = WorkloadOptions();
  o.create_if_missing = false;
  auto db = DB::Open(o, dir + "/db");
  if (!db.ok()) {
    // Nothing acknowledged and no database created is fine.
    if (r.acknowledged > 0 || !db.status().IsNotFound()) {
      out->problems.push_back(where + "read-write reopen: " + db.status().ToString());
    }
    return true;
  }
  Item item;
  item.id = "after_fault";
  if (Status s = (*db)->UpsertItems({}, {item}); !s.ok()) {
    out->problems.push_back(where + "write after reopen: " + s.ToString());
  }
  if (Status s = (*db)->Close(); !s.ok()) {
    out->problems.push_back(where + "close after reopen: " + s.ToString());
  }
  return true;
}

// What one injection point run in a child process reported.
struct ChildOutcome {
  bool reached = false;
  bool failed_call = false;
  std::vector<std::string> problems;
};

// Runs point (kind, n) in a child (this binary, FaultPointTest, with
// RECDB_FAULT_POINT set), so that an abort ends only that point and the
// sweep goes on and names every bad point.
ChildOutcome RunPointInChild(FaultKind kind, uint64_t n, bool persistent) {
  ChildOutcome out;
  const std::string where = std::string(KindName(kind)) + " #" + std::to_string(n) +
                            (persistent ? " (persistent)" : "") + ": ";
  const std::string spec = std::string("RECDB_FAULT_POINT=") + KindName(kind) +
                           ":" + std::to_string(n) + (persistent ? ":persistent" : "");
  int fds[2];
  if (::pipe(fds) != 0) {
    out.problems.push_back(where + "pipe failed");
    return out;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string exe = "/proc/self/exe";
  std::string filter = "--gtest_filter=FaultPointTest.FromEnvironment";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  // The child's scratch directory belongs to the parent, so that it goes
  // even when the child dies.
  ScratchDir scratch;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "RECDB_FAULT_", 12) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back(spec);
  env_strings.push_back("RECDB_FAULT_SCRATCH=" + scratch.path());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  std::string output;
  if (rc == 0) {
    char buf[4096];
    ssize_t got;
    while ((got = ::read(fds[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(got));
  }
  ::close(fds[0]);
  if (rc != 0) {
    out.problems.push_back(where + "posix_spawn: " + std::strerror(rc));
    return out;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line == "FAULT-POINT reached") out.reached = true;
    if (line == "FAULT-POINT failed-call") out.failed_call = true;
    if (line.rfind("FAULT-PROBLEM ", 0) == 0) out.problems.push_back(line.substr(14));
  }
  const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (clean_exit) return out;
  out.reached = true;  // a crash counts as reached: it is a failure either way
  if (out.problems.empty()) {
    const std::string tail = output.size() > 1500 ? output.substr(output.size() - 1500) : output;
    out.problems.push_back(where + "child " +
                           (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                : "exited " + std::to_string(WEXITSTATUS(status))) +
                           ":\n" + tail);
  }
  return out;
}

SweepResult Sweep(FaultKind kind, bool persistent) {
  SweepResult result;
  for (uint64_t n = 1;; ++n) {
    ChildOutcome c = RunPointInChild(kind, n, persistent);
    if (!c.reached) break;
    ++result.points;
    if (c.failed_call) ++result.failed_calls;
    for (std::string& p : c.problems) result.problems.push_back(std::move(p));
    if (n > 100000) {
      result.problems.push_back("sweep did not end");
      break;
    }
  }
  return result;
}

void ExpectClean(FaultKind kind, bool persistent, const SweepResult& r) {
  std::printf("fault %-6s %-10s: %llu injection points, %llu surfaced as a non-OK Status\n",
              KindName(kind), persistent ? "persistent" : "transient",
              static_cast<unsigned long long>(r.points),
              static_cast<unsigned long long>(r.failed_calls));
  EXPECT_GT(r.points, 0u) << "the sequence never reached a " << KindName(kind);
  for (size_t i = 0; i < r.problems.size() && i < 20; ++i) ADD_FAILURE() << r.problems[i];
}

// --- The file system itself (fast) --------------------------------------

TEST(RocksDbFaultTest, FirstWriteFailsOpenWithIOError) {
  test::TempDir dir;
  FaultInjectionEnv env;
  env.Arm(FaultKind::kWrite, 1, /*persistent=*/true, kRocksDb);
  Options o;
  o.env = &env;
  o.create_if_missing = true;
  o.background_threads = 0;
  auto db = DB::Open(o, dir.Sub("db"));
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(db.status().IsIOError()) << db.status().ToString();
  EXPECT_NE(db.status().message().find("injected"), std::string::npos);
  EXPECT_GE(env.injected(), 1u);
}

TEST(RocksDbFaultTest, CountsEveryKindAndDisarmStopsFailing) {
  test::TempDir dir;
  FaultInjectionEnv env;
  Options o;
  o.env = &env;
  o.create_if_missing = true;
  o.background_threads = 0;
  {
    auto db = DB::Open(o, dir.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Close().ok());
  }
  for (int k = 0; k < kNumFileOperationKinds; ++k) {
    EXPECT_GT(env.count(static_cast<FaultKind>(k), kRocksDb), 0u)
        << KindName(static_cast<FaultKind>(k));
  }
  env.Arm(FaultKind::kSync, 1, true, kRocksDb);
  env.Disarm();
  auto db = DB::Open(o, dir.Sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE((*db)->Close().ok());
  EXPECT_EQ(env.injected(), 0u);
}

TEST(RocksDbFaultTest, FailedWalWriteIsAStatusAndNotAcknowledged) {
  test::TempDir dir;
  FaultInjectionEnv env;
  Options o;
  o.env = &env;
  o.create_if_missing = true;
  o.background_threads = 0;
  auto db = DB::Open(o, dir.Sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Event e;
  e.user = "u1";
  e.item = "i1";
  e.timestamp = 1700000000;
  ASSERT_TRUE((*db)->RecordEvents({}, {e}).ok());
  env.Arm(FaultKind::kWrite, 1, true, kRocksDb);
  e.timestamp += 1;
  Status s = (*db)->RecordEvents({}, {e});
  EXPECT_FALSE(s.ok());
  env.Disarm();
  (*db)->Close().IgnoreError();  // may report the earlier error
  db->reset();
  o.env = nullptr;
  auto reopened = DB::Open(o, dir.Sub("db"));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto history = (*reopened)->GetUserHistory("u1");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 1u);  // the acknowledged event; the failed one is not there
  auto stats = (*reopened)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 1);
  EXPECT_TRUE((*reopened)->Close().ok());
}

// The sweeps' baseline: without faults the workload succeeds, its verifier
// finds everything, and every kind of operation occurs (the sweep's N stops
// at these counts).
TEST(FaultWorkloadTest, WithoutFaultsEverythingIsThere) {
  ScratchDir dir;
  FaultInjectionEnv env;
  Status s0 = FaultWorkload(dir.path(), 0, &env).Run();
  ASSERT_TRUE(s0.ok()) << s0.ToString();
  Status s1 = FaultWorkload(dir.path(), 1, &env).Run();
  ASSERT_TRUE(s1.ok()) << s1.ToString();
  for (int k = 0; k < kNumFileOperationKinds; ++k) {
    const FaultKind kind = static_cast<FaultKind>(k);
    std::printf("workload: %llu %s operations of RocksDB, %llu of recdb's files\n",
                static_cast<unsigned long long>(env.count(kind, kRocksDb)), KindName(kind),
                static_cast<unsigned long long>(env.count(kind, FileOwner::kRecdb)));
    EXPECT_GT(env.count(kind, kRocksDb), 0u) << KindName(kind);
  }
  std::string open_error;
  cli::crashtest::VerifyResult r =
      cli::crashtest::Verify(dir.Sub("db"), dir.Sub("expected.log"), &open_error);
  EXPECT_EQ(open_error, "");
  EXPECT_EQ(r.in_flight, 0);
  EXPECT_GT(r.acknowledged, 15);
  EXPECT_TRUE(r.lost.empty()) << r.lost_details.front();
  EXPECT_TRUE(r.inconsistencies.empty()) << r.inconsistencies.front();
  // The second cycle dropped the second space.
  Options o = WorkloadOptions();
  o.read_only = true;
  auto db = DB::Open(o, dir.Sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto spaces = (*db)->ListSpaces();
  ASSERT_TRUE(spaces.ok());
  ASSERT_EQ(spaces->size(), 1u);
  EXPECT_EQ((*spaces)[0].options.name, cli::crashtest::kSpaceName);
}

// Every recdb path that deletes a key range (ForgetUser's events and
// impressions, the stats-log fold at Close, vector-log truncation at a
// checkpoint, DropSpace) writes point deletes: no table RocksDB holds after
// Close has a range tombstone (RocksDbDefectDeathTest says why).
TEST(NoRangeTombstonesTest, DeletingPathsWritePointDeletesOnly) {
  test::TempDir dir;
  Options o;
  o.create_if_missing = true;
  {
    auto db = DB::Open(o, dir.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    std::vector<Event> events;
    for (int u = 0; u < 3; ++u) {
      for (int i = 0; i < 4; ++i) {
        Event e;
        e.user = "u" + std::to_string(u);
        e.item = "i" + std::to_string(i);
        e.timestamp = 1700000000 + 10 * u + i;
        events.push_back(e);
      }
    }
    ASSERT_TRUE((*db)->RecordEvents({}, events).ok());
    ASSERT_TRUE((*db)->RecordImpressions({}, "u0", {"i1", "i2"}).ok());
    SpaceOptions so;
    so.name = "s";
    so.dimension = 2;
    ASSERT_TRUE((*db)->CreateSpace(so).ok());
    for (const std::string space : {"s", "t"}) {
      if (space == "t") {
        so.name = "t";
        ASSERT_TRUE((*db)->CreateSpace(so).ok());
      }
      for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE((*db)->PutVectors({}, space, EntityKind::kItem,
                                      {VectorRecord{"i" + std::to_string(i),
                                                    {1.0f, static_cast<float>(i)}}})
                        .ok());
      }
    }
    ASSERT_TRUE((*db)->CheckpointIndexes().ok());  // truncates both vector logs
    auto receipt = (*db)->ForgetUser("u0");
    ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
    EXPECT_EQ(receipt->events_removed, 4);
    EXPECT_EQ(receipt->impressions_removed, 1);
    ASSERT_TRUE((*db)->DropSpace("t").ok());
    ASSERT_TRUE((*db)->Close().ok());  // folds the stats log, flushes every memtable
  }
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.Sub("db/db"), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.Sub("db/db"), descriptors,
                                           &handles, &raw)
                  .ok());
  std::unique_ptr<rocksdb::DB> rdb(raw);
  uint64_t tables = 0, deletions = 0, range_deletions = 0;
  for (size_t i = 0; i < handles.size(); ++i) {
    rocksdb::TablePropertiesCollection props;
    ASSERT_TRUE(rdb->GetPropertiesOfAllTables(handles[i], &props).ok());
    for (const auto& [file, p] : props) {
      ++tables;
      deletions += p->num_deletions;
      range_deletions += p->num_range_deletions;
      EXPECT_EQ(p->num_range_deletions, 0u) << names[i] << " " << file;
    }
  }
  for (auto* h : handles) rdb->DestroyColumnFamilyHandle(h);
  EXPECT_GT(tables, 0u);
  EXPECT_GT(deletions, 4u + 1 + 8);  // the forget, the truncations, the drop
  EXPECT_EQ(range_deletions, 0u);
}

// One injection point in isolation, for debugging what a sweep reports:
//   RECDB_FAULT_POINT=write:666 fault_tests --gtest_filter=FaultPointTest.*
// (or write:666:persistent).
// Skipped when the variable is not set.
TEST(FaultPointTest, FromEnvironment) {
  const char* spec = std::getenv("RECDB_FAULT_POINT");
  if (spec == nullptr || *spec == '\0') GTEST_SKIP() << "RECDB_FAULT_POINT not set";
  const std::string s = spec;
  const size_t c1 = s.find(':');
  ASSERT_NE(c1, std::string::npos) << "want KIND:N[:persistent], got " << s;
  const size_t c2 = s.find(':', c1 + 1);
  const std::string kind_name = s.substr(0, c1);
  const uint64_t n = std::stoull(s.substr(c1 + 1, c2 == std::string::npos ? c2 : c2 - c1 - 1));
  const bool persistent = c2 != std::string::npos && s.substr(c2 + 1) == "persistent";
  int kind = -1;
  for (int k = 0; k < kNumFileOperationKinds; ++k) {
    if (kind_name == KindName(static_cast<FaultKind>(k))) kind = k;
  }
  ASSERT_GE(kind, 0) << "unknown kind " << kind_name;
  // An abort (e.g. RocksDB's assertions) prints its stack into the sweep's
  // report of the point.
  std::signal(SIGABRT, [](int) {
    void* frames[64];
    const int n_frames = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, n_frames, 2);
    std::signal(SIGABRT, SIG_DFL);
    std::raise(SIGABRT);
  });
  SweepResult r;
  // The sweep's parent owns the directory (an abort here would leak it).
  std::optional<ScratchDir> own;
  const char* scratch = std::getenv("RECDB_FAULT_SCRATCH");
  const std::string dir = scratch != nullptr && *scratch != '\0' ? scratch : own.emplace().path();
  const bool reached = RunWithFault(static_cast<FaultKind>(kind), n, persistent, dir, &r);
  std::printf("FAULT-POINT %s\n", reached ? "reached" : "unreached");
  if (r.failed_calls > 0) std::printf("FAULT-POINT failed-call\n");
  for (const std::string& p : r.problems) {
    std::string one_line = p;
    std::replace(one_line.begin(), one_line.end(), '\n', ' ');
    std::printf("FAULT-PROBLEM %s\n", one_line.c_str());
  }
  std::fflush(stdout);
  for (const std::string& p : r.problems) ADD_FAILURE() << p;
}

// Why recdb writes no range tombstones (storage::Store::AddDeletesInRange),
// reproduced on RocksDB alone: Debian's RocksDB 7.8.3 (built with
// assertions) aborts in its own background compaction thread when writing a
// compaction output that ended up empty fails. A bottommost compaction whose
// input holds only range tombstones (which that level drops) still writes an
// empty SST; when that file's append or sync fails, RocksDB neither removes
// the output nor gives it boundary keys, and CompactionJob::Install ->
// UpdateCompactionJobStats calls ExtractUserKey on its empty smallest key.
// With DeleteRange, the sweeps hit this at about a dozen points. When this
// test fails, the installed RocksDB no longer has the defect.
TEST(RocksDbDefectDeathTest, FailedWriteOfEmptyCompactionOutputAborts) {
  // "threadsafe": the child re-runs this test from the start in a new
  // process (a forked one would miss RocksDB's background threads). It
  // finds the parent's directory in the environment, so that the parent
  // removes it after the child's abort.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::optional<ScratchDir> own;
  const char* given = std::getenv("RECDB_FAULT_DEATH_DIR");
  const std::string path = given != nullptr && *given != '\0' ? given : own.emplace().path();
  ::setenv("RECDB_FAULT_DEATH_DIR", path.c_str(), 1);
  auto run = [&] {
    FaultInjectionEnv fault_env;
    auto fs = std::make_shared<storage::EnvFileSystem>(&fault_env);
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    rocksdb::Options o;
    o.create_if_missing = true;
    o.disable_auto_compactions = true;
    o.env = env.get();
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, path + "/db", &raw).ok()) std::exit(3);
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    if (!db->Put(wo, "a", "1").ok() || !db->Put(wo, "b", "2").ok()) std::exit(4);
    if (!db->DeleteRange(wo, db->DefaultColumnFamily(), "a", "z").ok()) std::exit(5);
    if (!db->Flush(rocksdb::FlushOptions()).ok()) std::exit(6);
    // The compaction creates its output (write 1), then appends the empty
    // table at close (write 2): fail that and everything after it.
    fault_env.Arm(FaultKind::kWrite, 2, /*persistent=*/true);
    rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    db->CompactRange(cro, nullptr, nullptr).PermitUncheckedError();
    std::exit(0);
  };
  EXPECT_DEATH(run(), "internal_key.size\\(\\) >= kNumInternalBytes");
  ::unsetenv("RECDB_FAULT_DEATH_DIR");
}

// --- Sweeps over every N (label "fault") ----------------------------------

class FaultSweepTest : public ::testing::TestWithParam<std::tuple<FaultKind, bool>> {};

TEST_P(FaultSweepTest, EveryInjectionPointIsAStatusAndReopensConsistent) {
  auto [kind, persistent] = GetParam();
  ExpectClean(kind, persistent, Sweep(kind, persistent));
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, FaultSweepTest,
    ::testing::Combine(::testing::Values(FaultKind::kWrite, FaultKind::kSync, FaultKind::kRename,
                                         FaultKind::kRead, FaultKind::kOpen),
                       ::testing::Bool()),
    [](const auto& info) {
      return std::string(KindName(std::get<0>(info.param))) +
             (std::get<1>(info.param) ? "Persistent" : "Transient");
    });

}  // namespace
}  // namespace recdb

namespace recdb {
namespace {

// Regression (found by the write sweep, N = 217): after a failed WAL write,
// an index checkpoint called rocksdb FlushWAL(sync), which syncs the failed
// WAL writer; RocksDB 7.8 built with assertions (Debian's) then aborts the
// process. The checkpoint must return the error instead.
TEST(RocksDbFaultTest, CheckpointAfterFailedWalWriteIsAStatus) {
  test::TempDir dir;
  FaultInjectionEnv env;
  Options o;
  o.env = &env;
  o.create_if_missing = true;
  o.background_threads = 0;
  auto db = DB::Open(o, dir.Sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  SpaceOptions so;
  so.name = "s";
  so.dimension = 2;
  ASSERT_TRUE((*db)->CreateSpace(so).ok());
  Item item;
  item.id = "i1";
  ASSERT_TRUE((*db)->UpsertItems({}, {item}).ok());
  ASSERT_TRUE((*db)->PutVectors({}, "s", EntityKind::kItem, {{"i1", {1.0f, 0.5f}}}).ok());
  env.Arm(FaultKind::kWrite, 1, /*persistent=*/false, kRocksDb);
  Event e;
  e.user = "u1";
  e.item = "i1";
  e.timestamp = 1700000000;
  EXPECT_FALSE((*db)->RecordEvents({}, {e}).ok());
  env.Disarm();
  EXPECT_FALSE((*db)->CheckpointIndexes().ok());
  (*db)->Close().IgnoreError();
}

}  // namespace
}  // namespace recdb
