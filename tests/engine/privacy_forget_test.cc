// DB::ForgetUser: what it removes, what it leaves on disk after the sweep,
// the aggregates and models it corrects, the forget ledger, and its latency.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "db_test_util.h"
#include "privacy_test_util.h"
#include "engine/db_impl/db_impl.h"
#include "engine/recommend/training_data.h"
#include "storage/key_codec.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::FilesContaining;
using test::MakeEvent;
using test::OpenOrDie;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;

DBImpl* Impl(DB* db) { return static_cast<DBImpl*>(db); }

// A small world: users u0..u4 and, last, the user to forget, who shares
// items with the others; "lonely-pair" items x and y are co-consumed by the
// target only.
void RecordWorld(DB& db, bool with_target, const std::string& marker = "") {
  std::vector<Event> events;
  for (int u = 0; u < 5; ++u) {
    for (int i = 0; i < 6; ++i) {
      events.push_back(MakeEvent("u" + std::to_string(u), "item" + std::to_string((u + i) % 8),
                                 i % 2 ? "view" : "purchase", kT0 + u * 100 + i));
    }
    events.push_back(MakeEvent("u" + std::to_string(u), u % 2 ? "x" : "y", "view", kT0 + 999));
  }
  ASSERT_TRUE(db.RecordEvents({}, events).ok());
  if (!with_target) return;
  User target;
  target.id = "forget-me-alice";
  target.attributes["email"] = std::string("alice@example.org");
  ASSERT_TRUE(db.UpsertUsers({}, {target}).ok());
  events.clear();
  for (int i = 0; i < 40; ++i) {
    Event e = MakeEvent("forget-me-alice", "item" + std::to_string(i % 8), "view", kT0 + 5000 + i);
    if (i == 17 && !marker.empty()) e.context["note"] = marker;
    events.push_back(e);
  }
  events.push_back(MakeEvent("forget-me-alice", "x", "purchase", kT0 + 6000));
  events.push_back(MakeEvent("forget-me-alice", "y", "purchase", kT0 + 6001));
  ASSERT_TRUE(db.RecordEvents({}, events).ok());
}

TEST(PrivacyForgetTest, ForgetUserRemovesRecordEventsAndCounts) {
  TempDir dir, never;
  auto db = OpenOrDie(dir.path());
  auto ref = OpenOrDie(never.path());
  RecordWorld(*db, true);
  RecordWorld(*ref, false);
  auto before = db->GetStats();
  ASSERT_TRUE(before.ok());

  auto receipt = db->ForgetUser("forget-me-alice");
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->user, "forget-me-alice");
  EXPECT_TRUE(receipt->had_user_record);
  EXPECT_EQ(receipt->events_removed, 42);
  EXPECT_GT(receipt->bytes_estimate, 42 * 20);
  EXPECT_EQ(receipt->ledger_hash.size(), 64u);
  EXPECT_GT(receipt->timestamp, 0);
  EXPECT_FALSE(receipt->physically_erased);

  EXPECT_TRUE(db->GetUser("forget-me-alice").status().IsNotFound());
  EXPECT_TRUE(db->GetUserHistory("forget-me-alice").status().IsNotFound());
  EXPECT_TRUE(db->ExportUser("forget-me-alice").status().IsNotFound());
  for (const Event& e : test::AllEvents(*db)) EXPECT_NE(e.user, "forget-me-alice");
  for (const User& u : test::AllUsers(*db)) EXPECT_NE(u.id, "forget-me-alice");
  auto after = db->GetStats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->users, before->users - 1);
  EXPECT_EQ(after->events, before->events - 42);

  // Per-item counts now equal those of a database that never had the user,
  // both before and after the write-behind is folded.
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string item : {"item0", "item3", "item7", "x", "y"}) {
      auto got = db->GetItemCounts(item);
      auto want = ref->GetItemCounts(item);
      ASSERT_TRUE(got.ok() && want.ok()) << item;
      EXPECT_EQ(got->total, want->total) << item;
      EXPECT_EQ(got->by_type, want->by_type) << item;
      EXPECT_EQ(got->by_day, want->by_day) << item;
    }
    ASSERT_TRUE(Impl(db.get())->FoldItemStats().ok());
  }

  // The training data equals the never-had-the-user database's.
  auto got = BuildTrainingDataset(*Impl(db.get()), *Impl(db.get())->catalog(), nullptr);
  auto want = BuildTrainingDataset(*Impl(ref.get()), *Impl(ref.get())->catalog(), nullptr);
  ASSERT_TRUE(got.ok() && want.ok());
  ASSERT_EQ(got->interactions().size(), want->interactions().size());
  for (size_t i = 0; i < got->interactions().size(); ++i) {
    EXPECT_EQ(got->interactions()[i].user, want->interactions()[i].user);
    EXPECT_EQ(got->interactions()[i].item, want->interactions()[i].item);
  }

  // Counts survive a reopen (the ids family and counters agree).
  db.reset();
  db = OpenOrDie(dir.path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->GetStats()->users, before->users - 1);
  EXPECT_EQ(db->GetItemCounts("x")->total, ref->GetItemCounts("x")->total);
}

TEST(PrivacyForgetTest, ForgetUserErrors) {
  TempDir dir;
  auto db = OpenOrDie(dir.path());
  RecordWorld(*db, true);
  EXPECT_TRUE(db->ForgetUser("").status().IsInvalidArgument());
  EXPECT_TRUE(db->ForgetUser(std::string(kMaxIdBytes + 1, 'a')).status().IsInvalidArgument());
  EXPECT_TRUE(db->ForgetUser("nobody").status().IsNotFound());
  ASSERT_TRUE(db->ForgetUser("forget-me-alice").ok());
  EXPECT_TRUE(db->ForgetUser("forget-me-alice").status().IsFailedPrecondition());
  EXPECT_TRUE(db->UnforgetUser("nobody").IsNotFound());
}

// After ForgetUser + the sweep, no file in the directory holds the id, the
// user's event-key prefix, or a marker from one event's context -- while
// before it every one of them is found (so the scan can fail).
TEST(PrivacyForgetTest, NothingLeftOnDiskAfterSweep) {
  TempDir dir;
  const std::string marker = "MARKER-7f3a9c-unique-context-string";
  auto db = OpenOrDie(dir.path());
  RecordWorld(*db, true, marker);
  const uint32_t uid = *Impl(db.get())->FindUserIid("forget-me-alice");
  char prefix[12];
  storage::EncodeFixed32BE(prefix, uid);
  storage::EncodeFixed64BE(prefix + 4, storage::OrderedFromSigned(kT0 + 5000));
  const std::string key_prefix(prefix, 8);  // uid + the high half of the ordered time

  // Positive control: in the WAL first, then in SST files after a flush.
  for (const std::string& needle : {std::string("forget-me-alice"), marker, key_prefix}) {
    EXPECT_FALSE(FilesContaining(dir.path(), needle).empty()) << "WAL should hold it";
  }
  ASSERT_TRUE(Impl(db.get())->store()->Flush().ok());
  for (const std::string& needle : {std::string("forget-me-alice"), marker, key_prefix}) {
    EXPECT_FALSE(FilesContaining(dir.path() + "/db", needle).empty()) << "SSTs should hold it";
  }
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("u1", "item1", "view", kT0 + 7000)}).ok());

  ForgetOptions options;
  options.wait_for_physical_erasure = true;
  auto receipt = db->ForgetUser("forget-me-alice", options);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_TRUE(receipt->physically_erased);
  for (const std::string& needle :
       {std::string("forget-me-alice"), std::string("alice@example.org"), marker, key_prefix}) {
    std::vector<std::string> hits = FilesContaining(dir.path(), needle);
    EXPECT_TRUE(hits.empty()) << "still on disk in " << (hits.empty() ? "" : hits[0]);
  }
  // The others' data is intact.
  EXPECT_EQ(db->GetUserHistory("u1")->size(), 8u);
  // And still gone after a reopen and another write.
  db.reset();
  db = OpenOrDie(dir.path());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("forget-me-alice", "item1", "view", kT0)}).ok());
  EXPECT_TRUE(db->GetUser("forget-me-alice").status().IsNotFound());
  db.reset();
  for (const std::string& needle : {std::string("forget-me-alice"), marker, key_prefix}) {
    EXPECT_TRUE(FilesContaining(dir.path(), needle).empty()) << needle;
  }
}

// The forgotten user's pair (x, y) gave x and y co-occurrence. After the
// forget and a retrain, the co-occurrence evidence for x's similar items is
// exactly that of a database that never had the user (and differs before).
TEST(PrivacyForgetTest, ModelsDropTheUserAfterRetrain) {
  TempDir dir, never;
  auto db = OpenOrDie(dir.path());
  auto ref = OpenOrDie(never.path());
  RecordWorld(*db, true);
  RecordWorld(*ref, false);
  ASSERT_TRUE(db->Train().ok());
  ASSERT_TRUE(ref->Train().ok());
  auto cooc = [](DB& d) {
    std::map<std::string, double> out;
    auto similar = d.SimilarItems("x", 20);
    EXPECT_TRUE(similar.ok()) << similar.status().ToString();
    if (!similar.ok()) return out;
    for (const Recommendation& r : similar->items) {
      auto it = r.contributions.find("cooc_symmetric");
      out[r.id] = it == r.contributions.end() ? 0.0 : it->second;
    }
    return out;
  };
  const auto want = cooc(*ref);
  ASSERT_FALSE(want.empty());
  EXPECT_NE(cooc(*db), want);  // positive control: the target's pair counts
  ForgetOptions options;
  options.retrain = true;
  auto receipt = db->ForgetUser("forget-me-alice", options);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_TRUE(receipt->model_retrained);
  const auto got = cooc(*db);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [item, c] : want) {
    ASSERT_TRUE(got.count(item)) << item;
    EXPECT_NEAR(got.at(item), c, 1e-9) << item;
  }
}

// The scheduled retrain (no ForgetOptions::retrain) runs on the scheduler.
TEST(PrivacyForgetTest, ForgetSchedulesARetrain) {
  TempDir dir;
  auto db = OpenOrDie(dir.path());  // manual scheduler
  RecordWorld(*db, true);
  auto first = db->Train();
  ASSERT_TRUE(first.ok());
  auto receipt = db->ForgetUser("forget-me-alice");
  ASSERT_TRUE(receipt.ok());
  EXPECT_TRUE(receipt->retrain_scheduled);
  EXPECT_GE(Impl(db.get())->scheduler()->RunPending(), 1u);
  auto second = db->Train();  // the version count proves a retrain ran in between
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->model_version, first->model_version + 2);
}

// A background job's failure is not dropped: forgetting the only user leaves
// no events, the scheduled retrain fails, and GetStats says so and why.
TEST(PrivacyForgetTest, AFailedScheduledRetrainIsVisibleInStats) {
  TempDir dir;
  auto db = OpenOrDie(dir.path());  // manual scheduler
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("only", "item1", "view", kT0),
                                    MakeEvent("only", "item2", "view", kT0 + 1)})
                  .ok());
  ASSERT_TRUE(db->Train().ok());
  EXPECT_TRUE(db->GetStats()->background_jobs.empty());
  auto receipt = db->ForgetUser("only");
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  ASSERT_TRUE(receipt->retrain_scheduled);
  EXPECT_EQ(Impl(db.get())->scheduler()->RunPending(), 1u);
  auto stats = db->GetStats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->background_jobs.size(), 1u);
  const BackgroundJobStats& job = stats->background_jobs[0];
  EXPECT_EQ(job.name, "retrain-after-forget");
  EXPECT_EQ(job.runs, 1u);
  EXPECT_EQ(job.failures, 1u);
  EXPECT_TRUE(job.last_run_failed);
  EXPECT_FALSE(job.last_error.empty());
  // The same failure from a direct Train, for the message.
  auto direct = db->Train();
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(job.last_error, direct.status().ToString());
}

// The ledger re-applies the erasure to a re-import until UnforgetUser, and
// survives a reopen.
TEST(PrivacyForgetTest, LedgerDropsReimportUntilUnforget) {
  TempDir dir;
  auto db = OpenOrDie(dir.path());
  RecordWorld(*db, true);
  ASSERT_TRUE(db->ForgetUser("forget-me-alice").ok());
  db.reset();
  db = OpenOrDie(dir.path());
  const int64_t events = db->GetStats()->events;
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("forget-me-alice", "item1", "view", kT0),
                                    MakeEvent("u1", "item2", "view", kT0)})
                  .ok());
  User again;
  again.id = "forget-me-alice";
  ASSERT_TRUE(db->UpsertUsers({}, {again}).ok());
  EXPECT_TRUE(db->GetUser("forget-me-alice").status().IsNotFound());
  EXPECT_EQ(db->GetStats()->events, events + 1);  // only u1's

  ASSERT_TRUE(db->UnforgetUser("forget-me-alice").ok());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("forget-me-alice", "item1", "view", kT0)}).ok());
  EXPECT_EQ(db->GetUserHistory("forget-me-alice")->size(), 1u);
}

// The user's vectors go through SpaceManager: gone from reads at once, and
// after the sweep their bytes are in no file (RocksDB or index checkpoint).
TEST(PrivacyForgetTest, ForgetUserDeletesVectorsEverywhere) {
  TempDir dir;
  auto db = OpenOrDie(dir.path());
  RecordWorld(*db, true);
  SpaceOptions space;
  space.name = "taste";
  space.dimension = 4;
  space.metric = Metric::kL2;
  ASSERT_TRUE(db->CreateSpace(space).ok());
  // Distinctive float bytes: the needle of the byte scan.
  const std::vector<float> secret = {1234.5678f, -8765.4321f, 3.14159e7f, -2.71828e-7f};
  const std::string needle(reinterpret_cast<const char*>(secret.data()), sizeof(float) * 4);
  ASSERT_TRUE(db->PutVectors({}, "taste", EntityKind::kUser,
                             {{"forget-me-alice", secret}, {"u1", {1, 2, 3, 4}}})
                  .ok());
  ASSERT_TRUE(db->CheckpointIndexes().ok());
  ASSERT_TRUE(Impl(db.get())->store()->Flush().ok());
  EXPECT_FALSE(FilesContaining(dir.path(), needle).empty());  // positive control
  auto exported = db->ExportUser("forget-me-alice");
  ASSERT_TRUE(exported.ok());
  EXPECT_NE(exported->find("\"taste\""), std::string::npos) << *exported;

  ForgetOptions options;
  options.wait_for_physical_erasure = true;
  auto receipt = db->ForgetUser("forget-me-alice", options);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->vectors_removed, 1);
  EXPECT_TRUE(db->GetVector("taste", EntityKind::kUser, "forget-me-alice").status().IsNotFound());
  EXPECT_TRUE(db->GetVector("taste", EntityKind::kUser, "u1").ok());
  std::vector<std::string> hits = FilesContaining(dir.path(), needle);
  EXPECT_TRUE(hits.empty()) << hits[0];
}

TEST(PrivacyForgetTest, ForgetTenThousandEventsUnder50ms) {
  TempDir dir;
  auto db = OpenOrDie(dir.path());
  // Three users of 10,000 events each, forgotten one after the other: the
  // bound holds for the fastest of the three, so one descheduling of this
  // process by a parallel test (ctest -j2 on 2 cores) is not a failure; a
  // forget that is slow every time still is.
  constexpr int kUsers = 3;
  for (int u = 0; u < kUsers; ++u) {
    std::vector<Event> events;
    for (int i = 0; i < 10000; ++i) {
      events.push_back(MakeEvent("heavy" + std::to_string(u), "item" + std::to_string(i % 500),
                                 i % 3 ? "view" : "click", kT0 + i));
    }
    ASSERT_TRUE(db->RecordEvents({}, events).ok());
  }
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("light", "item1", "view", kT0)}).ok());
  double best_ms = 1e9;
  for (int u = 0; u < kUsers; ++u) {
    const auto start = std::chrono::steady_clock::now();
    auto receipt = db->ForgetUser("heavy" + std::to_string(u));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
    EXPECT_EQ(receipt->events_removed, 10000);
    std::printf("ForgetUser(10000 events): %.2f ms\n", ms);
    best_ms = std::min(best_ms, ms);
  }
  if (test::kTimingBoundsApply) {
    EXPECT_LT(best_ms, 50.0);
  }
  EXPECT_EQ(db->GetItemCounts("item1")->total, 1);
}

}  // namespace
}  // namespace recdb
