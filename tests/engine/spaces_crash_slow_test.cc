// kill -9 while vectors are written, deleted and checkpointed: after reopen,
// every acknowledged vector is searchable and no acknowledged delete is.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include "spaces_test_util.h"

namespace recdb::test {
namespace {

constexpr int kItems = 3000;
constexpr int kDim = 8;

// Pipe records: {op, id}. An intent is sent before each call and an
// acknowledgement after it returned OK, so an id whose last record is an
// intent was in flight at the kill and may end either way.
// kReady is sent once the database is open, so the kill lands during writes
// however slow the child's start (exec, open, log replay) is on a busy machine.
enum Op : int32_t { kIntentPut, kAckPut, kIntentDelete, kAckDelete, kReady };

void Send(int fd, Op op, int32_t id) {
  const int32_t rec[2] = {op, id};
  if (write(fd, rec, sizeof(rec)) != sizeof(rec)) _exit(5);
}

void ChildLoop(const std::string& path, int fd) {
  Options o = SpaceTestOptions();
  o.create_if_missing = false;
  auto opened = DBImpl::OpenImpl(o, path);
  if (!opened.ok()) _exit(3);
  std::unique_ptr<DBImpl> db = std::move(opened).value();
  Send(fd, kReady, 0);
  std::mt19937 rng(static_cast<uint32_t>(getpid()));
  for (int n = 0;; ++n) {
    const int i = static_cast<int>(rng() % kItems);
    std::mt19937 vr(static_cast<uint32_t>(n) * 31u + static_cast<uint32_t>(getpid()));
    std::vector<float> v = RandomVector(&vr, kDim);
    Send(fd, kIntentPut, i);
    if (!db->PutVectors(WriteOptions{}, "s", EntityKind::kItem, {{"i" + std::to_string(i), v}})
             .ok()) {
      _exit(4);
    }
    Send(fd, kAckPut, i);
    if (n % 7 == 3) {  // delete a random one (maybe without a vector: a no-op)
      const int d = static_cast<int>(rng() % kItems);
      Send(fd, kIntentDelete, d);
      if (!db->DeleteVectors(WriteOptions{}, "s", EntityKind::kItem, {"i" + std::to_string(d)})
               .ok()) {
        _exit(6);
      }
      Send(fd, kAckDelete, d);
    }
    if (n % 1500 == 1499 && !db->CheckpointIndexes().ok()) _exit(7);
  }
}

// The writer runs in a freshly exec'd copy of this binary: a forked child of
// a process that has used RocksDB inherits its Env with no background
// threads, and its flushes would wait forever.
TEST(SpacesCrashChild, WriteUntilKilled) {
  const char* dir = std::getenv("RECDB_SPACES_CRASH_DIR");
  const char* fd = std::getenv("RECDB_SPACES_CRASH_FD");
  if (dir == nullptr || fd == nullptr) GTEST_SKIP() << "only run by KillNineKeepsEveryAcknowledgedWrite";
  ChildLoop(dir, std::atoi(fd));
}

// Issue #4. Every acknowledged vector is in the recovered index and reachable
// in its graph; nothing deleted is. History: this failed in about 1 of 2 runs
// because removed HNSW nodes stayed linked with zeroed bytes and churn cut
// every link into some live nodes (fixed in index/hnsw_index.cc: UnlinkRemoved,
// UpdateKeepingInLinks, RepairReachability; tests/index/hnsw_churn_test.cc).
// The space searches with ef_search >= the item count, so a search explores
// every node reachable from the entry point: the check is exact about
// durability and reachability and does not depend on HNSW recall (which
// `recdb bench ann` measures). Repeat with
//   engine_slow_tests --gtest_filter='SpacesTest.KillNine*' --gtest_repeat=12
TEST_F(SpacesTest, KillNineKeepsEveryAcknowledgedWrite) {
  OpenDb();
  AddItems(kItems);
  SpaceOptions space = Space("s", kDim, Metric::kL2);
  space.hnsw_ef_search = kItems;
  ASSERT_TRUE(db_->CreateSpace(space).ok());
  CloseDb();

  std::mt19937 rng(1234);
  for (int round = 0; round < 4; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      setenv("RECDB_SPACES_CRASH_DIR", dir_.path().c_str(), 1);
      setenv("RECDB_SPACES_CRASH_FD", std::to_string(fds[1]).c_str(), 1);
      char filter[] = "--gtest_filter=SpacesCrashChild.WriteUntilKilled";
      char self[] = "/proc/self/exe";
      char* argv[] = {self, filter, nullptr};
      execv(self, argv);
      _exit(9);
    }
    close(fds[1]);
    int32_t ready[2] = {-1, -1};
    ASSERT_EQ(read(fds[0], ready, sizeof(ready)), static_cast<ssize_t>(sizeof(ready)));
    ASSERT_EQ(ready[0], kReady);
    // Drain the pipe while the child runs: a full pipe would block the child
    // in write() and every kill would land at the same quiet point.
    std::vector<int32_t> records;
    std::thread drain([&] {
      int32_t r[2];
      while (read(fds[0], r, sizeof(r)) == sizeof(r)) records.insert(records.end(), r, r + 2);
    });
    usleep(100000 + static_cast<useconds_t>(rng() % 1400000));
    kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    drain.join();  // EOF: the only write end died with the child
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
    // Every ack in the pipe was written after its call returned OK.
    enum State { kPresent, kAbsent, kUnknown };
    std::map<int, State> state;
    size_t acks = 0;
    for (size_t r = 0; r + 1 < records.size(); r += 2) {
      const int32_t rec[2] = {records[r], records[r + 1]};
      switch (rec[0]) {
        case kIntentPut:
        case kIntentDelete:
          state[rec[1]] = kUnknown;
          break;
        case kAckPut:
          state[rec[1]] = kPresent;
          ++acks;
          break;
        case kAckDelete:
          state[rec[1]] = kAbsent;
          ++acks;
          break;
        default:
          ADD_FAILURE() << "unexpected pipe record " << rec[0];
      }
    }
    close(fds[0]);
    ASSERT_GT(acks, 0u);

    OpenDb();
    for (const auto& [i, st] : state) {
      if (st == kUnknown) continue;
      const std::string id = "i" + std::to_string(i);
      auto v = db_->GetVector("s", EntityKind::kItem, id);
      if (st == kAbsent) {
        EXPECT_TRUE(v.status().IsNotFound()) << id << " was deleted";
        continue;
      }
      ASSERT_TRUE(v.ok()) << id << ": " << v.status().ToString();
      // Searchable: an exact match of its own vector (score 0 under L2).
      auto hits = Api()->SearchSimilar("s", *v, 10);
      ASSERT_TRUE(hits.ok());
      bool found = false;
      for (const ScoredItem& h : *hits) found = found || h.id == id;
      EXPECT_TRUE(found) << id << " acknowledged but not searchable (round " << round << ")";
    }
    // Nothing deleted is searchable: the index holds exactly RocksDB's vectors.
    int64_t stored = 0;
    for (int i = 0; i < kItems; ++i) {
      stored += db_->GetVector("s", EntityKind::kItem, "i" + std::to_string(i)).ok();
    }
    EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, stored);
    EXPECT_EQ(spaces_->stats().index_rebuilds + spaces_->stats().index_loads, 2u);
    std::printf("round %d: %zu acks, %lld vectors, loads %llu rebuilds %llu replayed %llu\n",
                round, acks, static_cast<long long>(stored),
                static_cast<unsigned long long>(spaces_->stats().index_loads),
                static_cast<unsigned long long>(spaces_->stats().index_rebuilds),
                static_cast<unsigned long long>(spaces_->stats().log_replayed));
    CrashDb();  // next round starts from a non-checkpointed state too
  }
}

}  // namespace
}  // namespace recdb::test
