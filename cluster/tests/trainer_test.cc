// The cluster's trainer (cluster/trainer.h, issue #21 item 5) against a real
// 3-server JetStream cluster on 127.0.0.1: the election through a KV lease,
// a trained model published as a versioned, checksummed artifact and
// installed by a serving node, a damaged chunk refused while the previous
// model keeps serving. Every wait is bounded. Label "cluster".
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cluster/node.h"
#include "cluster/trainer.h"
#include "cluster_fixture.h"
#include "../../tests/engine/db_test_util.h"

namespace recdb::cluster {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Acquire's answer; a failure counts as "not held" and fails the test.
bool Got(const StatusOr<bool>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() && *r;
}

// The holder as the bucket's replicas report it once they caught up with
// the last write (Holder reads any replica: a moment behind); waits up to 3 s
// for `want`, then returns what it reads.
std::string HolderOf(TrainerLock& lock, const std::string& want) {
  std::string got = "?";
  const auto start = Clock::now();
  do {
    auto h = lock.Holder();
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    got = h.ok() ? *h : "?";
    if (got == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (MillisSince(start) < 3000);
  return got;
}

class TrainerTest : public ClusterFixture {
 protected:
  TrainerTest() : ClusterFixture("trainer-test") {}

  LogOptions Log() {
    LogOptions o;
    o.servers = nats_->Urls();
    o.stream = "t";
    o.partitions = 8;
    return o;
  }

  NodeOptions Opts(const std::string& name) {
    NodeOptions o;
    o.log = Log();
    o.db_path = dir_ + "/" + name;
    o.db_options.background_threads = 0;
    o.db_options.write_buffer_bytes = 4u << 20;
    o.db_options.block_cache_bytes = 8u << 20;
    return o;
  }

  std::unique_ptr<ClusterNode> OpenNode(const NodeOptions& o) {
    auto n = ClusterNode::Open(o);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok()) return nullptr;
    EXPECT_TRUE((*n)->Start().ok());
    return std::move(n).value();
  }

  // Events first..first+n-1 of 40 users in two tastes over 30 items.
  static std::vector<ClusterEvent> Batch(int first, int n) {
    std::vector<ClusterEvent> out(n);
    for (int j = 0; j < n; ++j) {
      const int k = first + j;
      const int user = k % 40;
      out[j].id = "e" + std::to_string(k);
      out[j].event.user = "u" + std::to_string(user);
      out[j].event.item = (user % 2 ? "a" : "b") + std::to_string((user + k / 40) % 15);
      out[j].event.type = "view";
      out[j].event.timestamp = 1000000 + k;
    }
    return out;
  }

  uint64_t Write(ClusterNode& node, const std::vector<ClusterEvent>& b) {
    StatusOr<WriteReceipt> r = Status::Aborted("not tried");
    for (int a = 0; a < 3 && !r.ok(); ++a) r = node.RecordEvents(b);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->last_sequence : 0;
  }

  // The node's top 5 (ids and scores), through the one helper the DB tests use.
  static std::vector<std::pair<std::string, double>> Top(ClusterNode& node,
                                                         const std::string& user) {
    return test::TopScores(*node.db(), user);
  }
};

TEST_F(TrainerTest, ExactlyOneCandidateHoldsTheLockAndAnotherTakesOverAfterTheLease) {
  auto log_a = EventLog::Connect(Log());
  auto log_b = EventLog::Connect(Log());
  ASSERT_TRUE(log_a.ok() && log_b.ok());
  ASSERT_TRUE((*log_a)->OpenStream(true).ok());
  constexpr int64_t kTtlMs = 3000;
  TrainerLock a(log_a->get(), {.candidate = "a", .ttl_ms = kTtlMs});
  TrainerLock b(log_b->get(), {.candidate = "b", .ttl_ms = kTtlMs});
  TrainerLock bad(log_b->get(), {.candidate = "not a name", .ttl_ms = kTtlMs});
  EXPECT_TRUE(bad.Acquire().status().IsInvalidArgument());
  EXPECT_EQ(HolderOf(b, ""), "");

  auto got_a = a.Acquire();
  ASSERT_TRUE(got_a.ok()) << got_a.status().ToString();
  EXPECT_TRUE(*got_a);
  // While a renews (every second, for two leases), b never gets it.
  const auto start = Clock::now();
  auto last_renewal = start;
  while (MillisSince(start) < 2 * kTtlMs) {
    auto got_b = b.Acquire();
    ASSERT_TRUE(got_b.ok()) << got_b.status().ToString();
    EXPECT_FALSE(*got_b);
    EXPECT_FALSE(b.held());
    auto renewed = a.Acquire();
    ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
    ASSERT_TRUE(*renewed) << "the holder keeps the lock while it renews";
    last_renewal = Clock::now();
    EXPECT_EQ(HolderOf(b, "a"), "a");
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }
  // a stops renewing: b takes over once the lease ran out (plus the
  // servers' expiry granularity and a loaded machine's slack).
  bool took = false;
  while (!took && MillisSince(last_renewal) < kTtlMs + 10000) {
    auto got_b = b.Acquire();
    ASSERT_TRUE(got_b.ok()) << got_b.status().ToString();
    took = *got_b;
    if (!took) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(took) << "b did not take the lock within " << kTtlMs + 10000
                    << " ms of the last renewal";
  const int64_t after = MillisSince(last_renewal);
  // 500 ms: the renewal's round trip (counted here from its return) on a
  // loaded machine.
  EXPECT_GE(after, kTtlMs - 500) << "b took the lock before the lease ran out";
  std::printf("takeover %lld ms after the last renewal (lease %lld ms)\n",
              static_cast<long long>(after), static_cast<long long>(kTtlMs));
  EXPECT_EQ(HolderOf(a, "b"), "b");
  // a's renewal now finds b's revision: a no longer holds it.
  auto late = a.Acquire();
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_FALSE(*late);
  EXPECT_FALSE(a.held());
  // Release gives it up at once.
  ASSERT_TRUE(b.Release().ok());
  EXPECT_FALSE(b.held());
  auto again = a.Acquire();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(*again);
  // Releasing a lock someone else holds changes nothing.
  ASSERT_TRUE(b.Release().ok());
  EXPECT_EQ(HolderOf(b, "a"), "a");
}

TEST_F(TrainerTest, ServingNodeInstallsThePublishedModelAndRefusesADamagedOne) {
  auto trainer = OpenNode(Opts("trainer"));
  auto serving = OpenNode(Opts("serving"));
  ASSERT_TRUE(trainer && serving);
  uint64_t last = Write(*trainer, Batch(0, 1200));
  ASSERT_TRUE(trainer->WaitForSequence(last, 30000).ok());
  ASSERT_TRUE(serving->WaitForSequence(last, 30000).ok());

  TrainerLock lock(trainer->log(), {.candidate = "trainer", .ttl_ms = 10000});
  TrainerLock other(serving->log(), {.candidate = "serving", .ttl_ms = 10000});
  // Without the lock nothing is trained or published.
  auto refused = TrainAndPublishModel(trainer.get(), &lock);
  EXPECT_TRUE(refused.status().IsFailedPrecondition()) << refused.status().ToString();
  ASSERT_TRUE(Got(lock.Acquire()));
  ASSERT_FALSE(Got(other.Acquire()));
  EXPECT_TRUE(InstallNewestModel(serving.get(), 0).status().IsNotFound());

  ShipOptions ship;
  ship.chunk_bytes = 16 << 10;  // several chunks per file
  auto v1 = TrainAndPublishModel(trainer.get(), &lock, {}, ship);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1u);
  EXPECT_EQ(v1->position, last);
  EXPECT_EQ(v1->trainer, "trainer");
  ASSERT_GT(v1->chunks, 2u);
  ASSERT_FALSE(v1->files.empty());
  EXPECT_EQ(v1->files[0].name, "fused.model");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/trainer.model-out"));

  // The serving node installs it and answers as the trainer does.
  auto installed = InstallNewestModel(serving.get(), 0, ship);
  ASSERT_TRUE(installed.ok()) << installed.status().ToString();
  EXPECT_TRUE(installed->installed);
  EXPECT_EQ(installed->manifest.version, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/serving.model-in"));
  const auto v1_answer = Top(*trainer, "u3");
  ASSERT_FALSE(v1_answer.empty());
  EXPECT_EQ(Top(*serving, "u3"), v1_answer);
  EXPECT_EQ(Top(*serving, "u8"), Top(*trainer, "u8"));
  const uint64_t serving_v1 = serving->db()->GetModelReport()->model_version;
  EXPECT_EQ(serving_v1, trainer->db()->GetModelReport()->model_version);
  // Nothing newer: no fetch, no install.
  auto same = InstallNewestModel(serving.get(), installed->manifest.version, ship);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(same->installed);

  // Version 2 after more events; its first chunk is replaced by a copy with
  // one byte flipped (the manifest unchanged).
  last = Write(*trainer, Batch(1200, 800));
  ASSERT_TRUE(trainer->WaitForSequence(last, 30000).ok());
  ASSERT_TRUE(serving->WaitForSequence(last, 30000).ok());
  ASSERT_TRUE(Got(lock.Acquire()));
  auto v2 = TrainAndPublishModel(trainer.get(), &lock, {}, ship);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2u);
  const std::string stream = ModelStreamName("t", v2->artifact);
  const std::string subject = ModelSubject("t", v2->artifact);
  ASSERT_NO_FATAL_FAILURE(FlipLastByteOfFirstChunk(trainer->log(), stream, subject));
  const auto v1_on_serving = Top(*serving, "u3");
  auto damaged = InstallNewestModel(serving.get(), 1, ship);
  ASSERT_FALSE(damaged.ok());
  EXPECT_TRUE(damaged.status().IsCorruption()) << damaged.status().ToString();
  EXPECT_NE(damaged.status().message().find("damaged chunk"), std::string::npos)
      << damaged.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/serving.model-in"));
  // The previous model keeps serving (the same model version; the answers
  // are v1's with the serving node's own, fresher histories).
  EXPECT_EQ(serving->db()->GetModelReport()->model_version, serving_v1);
  EXPECT_EQ(Top(*serving, "u3"), v1_on_serving);

  // Version 3 arrives intact and installs; with keep 2, version 1 is retired.
  ASSERT_TRUE(Got(lock.Acquire()));
  auto v3 = TrainAndPublishModel(trainer.get(), &lock, {}, ship);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_EQ(v3->version, 3u);
  auto listed = ListPublishedModels(trainer->log());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].version, 3u);
  EXPECT_EQ((*listed)[1].version, 2u);
  EXPECT_TRUE(trainer->log()->ArtifactMessages(ModelStreamName("t", v1->artifact))
                  .status()
                  .IsNotFound());
  auto v3_installed = InstallNewestModel(serving.get(), 1, ship);
  ASSERT_TRUE(v3_installed.ok()) << v3_installed.status().ToString();
  EXPECT_TRUE(v3_installed->installed);
  EXPECT_EQ(Top(*serving, "u3"), Top(*trainer, "u3"));

  // A holder whose lease was taken cannot publish.
  ASSERT_TRUE(lock.Release().ok());
  ASSERT_TRUE(Got(other.Acquire()));
  auto stale = TrainAndPublishModel(trainer.get(), &lock, {}, ship);
  EXPECT_TRUE(stale.status().IsFailedPrecondition()) << stale.status().ToString();
  EXPECT_EQ(ListPublishedModels(trainer->log())->front().version, 3u);
}

// Waits (bounded) until pred() holds.
template <typename Pred>
bool WaitFor(Pred pred, int64_t ms) {
  const auto start = Clock::now();
  while (!pred()) {
    if (MillisSince(start) > ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

TEST_F(TrainerTest, LoopsElectOneTrainerTheOtherInstallsAndTakesOverWhenItStops) {
  auto a = OpenNode(Opts("a"));
  auto b = OpenNode(Opts("b"));
  ASSERT_TRUE(a && b);
  ModelLoopOptions o;
  EXPECT_TRUE(ModelLoop::Start(a.get(), o).status().IsInvalidArgument()) << "nothing to do";
  o.train = true;
  EXPECT_TRUE(ModelLoop::Start(a.get(), o).status().IsInvalidArgument()) << "no candidate";
  o.train = true;
  o.follow = true;
  o.ttl_ms = 3000;
  o.interval_ms = 300;
  o.ship.chunk_bytes = 64 << 10;
  o.candidate = "a";
  auto loop_a = ModelLoop::Start(a.get(), o);
  ASSERT_TRUE(loop_a.ok()) << loop_a.status().ToString();
  // a holds the lock before b stands.
  ASSERT_TRUE(WaitFor([&] { return (*loop_a)->stats().holds_lock; }, 20000));
  o.candidate = "b";
  auto loop_b = ModelLoop::Start(b.get(), o);
  ASSERT_TRUE(loop_b.ok()) << loop_b.status().ToString();

  uint64_t last = Write(*a, Batch(0, 1200));
  ASSERT_TRUE(a->WaitForSequence(last, 30000).ok());
  ASSERT_TRUE(b->WaitForSequence(last, 30000).ok());
  // a publishes a model covering `last`; b installs it.
  auto published = [&](ModelLoop& loop, ClusterNode& node, const std::string& trainer) {
    return WaitFor(
        [&] {
          auto all = ListPublishedModels(node.log());
          return all.ok() && !all->empty() && all->front().position >= last &&
                 all->front().trainer == trainer &&
                 loop.stats().published_version == all->front().version;
        },
        60000);
  };
  ASSERT_TRUE(published(**loop_a, *a, "a")) << (*loop_a)->stats().last_error;
  const uint64_t v = (*loop_a)->stats().published_version;
  ASSERT_TRUE(WaitFor([&] { return (*loop_b)->stats().installed_version == v; }, 60000))
      << (*loop_b)->stats().last_error;
  EXPECT_FALSE((*loop_b)->stats().holds_lock);
  EXPECT_EQ((*loop_b)->stats().published_version, 0u);
  EXPECT_EQ(Top(*b, "u3"), Top(*a, "u3"));
  // Nothing new: no further version.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(ListPublishedModels(a->log())->front().version, v);

  // a's loop stops (and releases): b becomes the trainer and publishes the
  // next version once new events arrive.
  (*loop_a)->Stop();
  ASSERT_TRUE(WaitFor([&] { return (*loop_b)->stats().holds_lock; }, 20000))
      << (*loop_b)->stats().last_error;
  last = Write(*a, Batch(1200, 400));
  ASSERT_TRUE(b->WaitForSequence(last, 30000).ok());
  ASSERT_TRUE(published(**loop_b, *b, "b")) << (*loop_b)->stats().last_error;
  EXPECT_EQ((*loop_b)->stats().published_version, v + 1);
  EXPECT_EQ((*loop_b)->stats().last_error, "");
}

// Whether any file under `dir` holds `needle`.
bool AnyFileHolds(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(TrainerTest, AForgetRetiresTheModelsTrainedBeforeItAndTheNextVersionHasNoTrace) {
  auto trainer = OpenNode(Opts("trainer"));
  auto serving = OpenNode(Opts("serving"));
  ASSERT_TRUE(trainer && serving);
  // The user "target" carries a planted context value (a feature of the
  // dataset vocabulary, so it is in the model file).
  const std::string planted = "planted-7f3a9c";
  std::vector<ClusterEvent> events = Batch(0, 1200);
  for (int j = 0; j < 25; ++j) {
    ClusterEvent e;
    e.id = "t" + std::to_string(j);
    e.event.user = "target";
    e.event.item = "a" + std::to_string(j % 15);
    e.event.type = "view";
    e.event.timestamp = 2000000 + j;
    e.event.context["note"] = planted;
    events.push_back(e);
  }
  uint64_t last = Write(*trainer, events);
  ASSERT_TRUE(trainer->WaitForSequence(last, 30000).ok());
  TrainerLock lock(trainer->log(), {.candidate = "trainer", .ttl_ms = 10000});
  ASSERT_TRUE(Got(lock.Acquire()));
  auto v1 = TrainAndPublishModel(trainer.get(), &lock);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  ASSERT_TRUE(FetchPublishedModel(trainer->log(), *v1, dir_ + "/v1").ok());
  ASSERT_TRUE(AnyFileHolds(dir_ + "/v1", planted)) << "the test must be able to fail";

  auto receipt = serving->ForgetUser("forget-target", "target");
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->retired_models, 1);
  EXPECT_TRUE(ListPublishedModels(trainer->log())->empty());
  EXPECT_TRUE(trainer->log()->ArtifactMessages(ModelStreamName("t", v1->artifact))
                  .status()
                  .IsNotFound());
  EXPECT_TRUE(InstallNewestModel(serving.get(), 0).status().IsNotFound());

  // The trainer applies the marker, trains again: version 2 (not 1 again),
  // without the planted value.
  ASSERT_TRUE(trainer->WaitForSequence(receipt->marker_sequence, 30000).ok());
  ASSERT_TRUE(Got(lock.Acquire()));
  auto v2 = TrainAndPublishModel(trainer.get(), &lock);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2u);
  EXPECT_GE(v2->position, receipt->marker_sequence);
  ASSERT_TRUE(FetchPublishedModel(trainer->log(), *v2, dir_ + "/v2").ok());
  EXPECT_FALSE(AnyFileHolds(dir_ + "/v2", planted));
  // The serving node installs it.
  auto installed = InstallNewestModel(serving.get(), 0);
  ASSERT_TRUE(installed.ok()) << installed.status().ToString();
  EXPECT_EQ(installed->manifest.version, 2u);
  EXPECT_TRUE(installed->installed);
}

// RunRoundNow (POST /v1/cluster/models) and train_after (serve
// --train-after): with a pause far longer than the test, rounds run only on
// demand, each after the call; the trainer trains only once enough new
// messages are past the newest model; the node's report carries the state.
TEST_F(TrainerTest, RoundsOnDemandTrainOnlyAfterEnoughNewMessages) {
  auto a = OpenNode(Opts("a"));
  ASSERT_TRUE(a);
  ModelLoopOptions o;
  o.train = true;
  o.candidate = "a";
  o.ttl_ms = 60000;
  o.interval_ms = 600000;  // no scheduled round within the test
  o.ship.chunk_bytes = 64 << 10;
  o.train_after = 0;
  EXPECT_TRUE(ModelLoop::Start(a.get(), o).status().IsInvalidArgument()) << "train_after 0";
  o.train_after = 500;
  auto loop = ModelLoop::Start(a.get(), o);
  ASSERT_TRUE(loop.ok()) << loop.status().ToString();
  // 300 messages: below train_after, no model (the round ran after the call:
  // it saw them applied).
  uint64_t last = Write(*a, Batch(0, 300));
  ASSERT_TRUE(a->WaitForSequence(last, 30000).ok());
  auto st = (*loop)->RunRoundNow(60000);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_TRUE(st->holds_lock);
  EXPECT_EQ(st->published_version, 0u) << st->last_error;
  EXPECT_TRUE(ListPublishedModels(a->log())->empty());
  EXPECT_TRUE(a->Report().trainer);
  EXPECT_EQ(a->Report().model_version, 0u);
  // 300 more: 600 >= 500, the next round (run now, not in 10 minutes)
  // publishes version 1 covering them.
  last = Write(*a, Batch(300, 300));
  ASSERT_TRUE(a->WaitForSequence(last, 30000).ok());
  st = (*loop)->RunRoundNow(60000);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->published_version, 1u) << st->last_error;
  EXPECT_EQ(st->last_error, "");
  auto all = ListPublishedModels(a->log());
  ASSERT_TRUE(all.ok() && all->size() == 1u);
  EXPECT_EQ(all->front().position, last);
  EXPECT_EQ(a->Report().model_version, 1u);
  EXPECT_TRUE(a->Report().trainer);
  // 300 more: 300 past version 1's position < 500, nothing new.
  last = Write(*a, Batch(600, 300));
  ASSERT_TRUE(a->WaitForSequence(last, 30000).ok());
  st = (*loop)->RunRoundNow(60000);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->published_version, 1u);
  EXPECT_EQ(ListPublishedModels(a->log())->size(), 1u);
  // Stopped: the lock is released, the report says so, no more rounds.
  (*loop)->Stop();
  EXPECT_FALSE(a->Report().trainer);
  EXPECT_EQ(a->Report().model_version, 1u);
  EXPECT_TRUE((*loop)->RunRoundNow(1000).status().IsAborted());
  TrainerLock probe(a->log(), {.candidate = "probe"});
  EXPECT_EQ(HolderOf(probe, ""), "");
}

// A restarted follower reports and serves the version it installed at once,
// and its first round downloads nothing: a chunk of that version is damaged
// before the restart, so a download would fail the round. A crash
// between DB::InstallModel and the record (simulated: a version installed
// without its record) makes the node claim no version, never the previous one.
// InstalledModelVersion, 99 on an error (which fails the test).
uint64_t Held(ClusterNode* node) {
  StatusOr<uint64_t> v = InstalledModelVersion(node);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : 99;
}

TEST_F(TrainerTest, ARestartedFollowerKeepsItsVersionAndDownloadsOnlyNewerOnes) {
  auto trainer = OpenNode(Opts("trainer"));
  auto serving = OpenNode(Opts("serving"));
  ASSERT_TRUE(trainer && serving);
  TrainerLock lock(trainer->log(), {.candidate = "trainer", .ttl_ms = 60000});
  ASSERT_TRUE(Got(lock.Acquire()));
  ShipOptions ship;
  ship.chunk_bytes = 64 << 10;
  auto publish = [&](int first, int n) {
    const uint64_t last = Write(*trainer, Batch(first, n));
    EXPECT_TRUE(trainer->WaitForSequence(last, 30000).ok());
    EXPECT_TRUE(serving->WaitForSequence(last, 30000).ok());
    EXPECT_TRUE(Got(lock.Acquire()));
    return TrainAndPublishModel(trainer.get(), &lock, {}, ship);
  };
  ModelLoopOptions o;
  o.follow = true;
  o.interval_ms = 600000;  // rounds only on demand (and the first at start)
  o.ship = ship;
  auto follow = [&](ClusterNode* node) {
    auto loop = ModelLoop::Start(node, o);
    EXPECT_TRUE(loop.ok()) << loop.status().ToString();
    return loop.ok() ? std::move(loop).value() : nullptr;
  };

  auto v1 = publish(0, 600);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(Held(trainer.get()), 1u) << "the trainer serves v1";
  EXPECT_EQ(Held(serving.get()), 0u);
  auto loop = follow(serving.get());
  ASSERT_TRUE(loop);
  auto st = loop->RunRoundNow(60000);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->installed_version, 1u) << st->last_error;
  EXPECT_EQ(Held(serving.get()), 1u);
  const auto v1_answer = Top(*serving, "u3");
  ASSERT_FALSE(v1_answer.empty());

  // Restart the follower with v1's first chunk damaged: downloading v1
  // again would fail its round (Corruption).
  loop.reset();
  ASSERT_TRUE(serving->Close().ok());
  serving.reset();
  ASSERT_NO_FATAL_FAILURE(FlipLastByteOfFirstChunk(trainer->log(), ModelStreamName("t", v1->artifact),
                                                   ModelSubject("t", v1->artifact)));
  serving = OpenNode(Opts("serving"));
  ASSERT_TRUE(serving);
  EXPECT_EQ(Held(serving.get()), 1u);
  EXPECT_EQ(Top(*serving, "u3"), v1_answer);
  loop = follow(serving.get());
  ASSERT_TRUE(loop);
  EXPECT_EQ(serving->Report().model_version, 1u) << "reported before any round ends";
  EXPECT_EQ(loop->stats().installed_version, 1u);
  st = loop->RunRoundNow(60000);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->installed_version, 1u);
  EXPECT_EQ(st->last_error, "") << "a round after the restart downloaded v1 again";
  EXPECT_EQ(Top(*serving, "u3"), v1_answer);

  // v2 installed without its record, as by a crash just after InstallModel:
  // the record (v1) names other bytes, so the restarted node claims nothing
  // and its first round installs v2 (and records it).
  loop.reset();
  auto v2 = publish(600, 400);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  ASSERT_EQ(v2->version, 2u);
  const std::string fetched = dir_ + "/v2-files";
  ASSERT_TRUE(FetchPublishedModel(serving->log(), *v2, fetched, ship).ok());
  ASSERT_TRUE(serving->db()->InstallModel(fetched).ok());
  ASSERT_TRUE(serving->Close().ok());
  serving.reset();
  serving = OpenNode(Opts("serving"));
  ASSERT_TRUE(serving);
  EXPECT_EQ(Held(serving.get()), 0u);
  EXPECT_EQ(Top(*serving, "u3"), Top(*trainer, "u3")) << "it serves v2's bytes";
  loop = follow(serving.get());
  ASSERT_TRUE(loop);
  st = loop->RunRoundNow(60000);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->installed_version, 2u) << st->last_error;
  EXPECT_EQ(Held(serving.get()), 2u);
  EXPECT_EQ(serving->Report().model_version, 2u);
}

TEST_F(TrainerTest, AHalfReplicaIsNoTrainer) {
  NodeOptions o = Opts("half");
  o.owned = {0, 1, 2, 3};
  auto half = OpenNode(o);
  ASSERT_TRUE(half);
  TrainerLock lock(half->log(), {.candidate = "half", .ttl_ms = 10000});
  ASSERT_TRUE(Got(lock.Acquire()));
  auto r = TrainAndPublishModel(half.get(), &lock);
  EXPECT_TRUE(r.status().IsFailedPrecondition()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("every partition"), std::string::npos);
}

}  // namespace
}  // namespace recdb::cluster
