// kill -9 while vectors are written, deleted and checkpointed: after reopen,
// every acknowledged vector is searchable and no acknowledged delete is.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "spaces_test_util.h"

namespace recdb::test {
namespace {

constexpr int kItems = 3000;
constexpr int kDim = 8;

// Pipe records: {op, id}. An intent is sent before each call and an
// acknowledgement after it returned OK, so an id whose last record is an
// intent was in flight at the kill and may end either way.
enum Op : int32_t { kIntentPut, kAckPut, kIntentDelete, kAckDelete };

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
    if (n % 500 == 499 && !db->CheckpointIndexes().ok()) _exit(7);
  }
}

TEST_F(SpacesTest, KillNineKeepsEveryAcknowledgedWrite) {
  OpenDb();
  AddItems(kItems);
  ASSERT_TRUE(db_->CreateSpace(Space("s", kDim, Metric::kL2)).ok());
  CloseDb();

  std::mt19937 rng(1234);
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildLoop(dir_.path(), fds[1]);
      _exit(0);
    }
    close(fds[1]);
    usleep(200000 + static_cast<useconds_t>(rng() % 600000));
    kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
    // Every ack in the pipe was written after its call returned OK.
    enum State { kPresent, kAbsent, kUnknown };
    std::map<int, State> state;
    int32_t rec[2];
    size_t acks = 0;
    while (read(fds[0], rec, sizeof(rec)) == sizeof(rec)) {
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
