// Snapshots, backups and restore (recdb/snapshot.h, engine/snapshot/).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "db_test_util.h"
#include "engine/db_impl/db_impl.h"
#include "privacy_test_util.h"
#include "storage/backup_dir.h"
#include "storage/snapshot_files.h"
#include "storage/snapshot_manifest.h"
#include "test_util.h"

namespace recdb {
namespace {

namespace fs = std::filesystem;
using test::CreateOptions;
using test::MakeEvent;
using test::OpenOrDie;
using test::TempDir;

constexpr int64_t kNow = 1700000000;

std::string ItemId(int i) { return "item" + std::to_string(i); }
std::string UserId(int u) { return "user" + std::to_string(u); }

// A deterministic world: `users` users with 20-40 events each over `items`
// items, popularity skewed, plus an L2 space "img" (never chosen as the
// content space) with a vector per item, checkpointed.
void LoadWorld(DB& db, int users, int items) {
  std::mt19937 rng(7);
  std::vector<Event> events;
  for (int u = 0; u < users; ++u) {
    const int n = 20 + static_cast<int>(rng() % 21);
    const int taste = static_cast<int>(rng() % 5);
    for (int k = 0; k < n; ++k) {
      int item = static_cast<int>(rng() % items);
      if (rng() % 3 != 0) item = (taste * items / 5 + item % (items / 5)) % items;
      events.push_back(MakeEvent(UserId(u), ItemId(item), "view", kNow - 86400 * 30 + u * 97 + k * 3600));
    }
  }
  ASSERT_TRUE(db.RecordEvents({}, events).ok());
  SpaceOptions so;
  so.name = "img";
  so.dimension = 8;
  so.metric = Metric::kL2;
  ASSERT_TRUE(db.CreateSpace(so).ok());
  std::vector<VectorRecord> vectors;
  std::normal_distribution<float> g;
  for (int i = 0; i < items; ++i) {
    VectorRecord r;
    r.id = ItemId(i);
    for (int d = 0; d < 8; ++d) r.values.push_back(g(rng));
    vectors.push_back(std::move(r));
  }
  ASSERT_TRUE(db.PutVectors({}, "img", EntityKind::kItem, vectors).ok());
  ASSERT_TRUE(db.CheckpointIndexes().ok());
}

TrainOptions SmallTrain(bool reuse) {
  TrainOptions t;
  t.learn_weights = true;
  t.reuse_stored_weights = reuse;
  t.ials_factors = 16;
  t.ials_iterations = 5;
  t.threads = 1;
  return t;
}

// Item ids and scores of k=10 recommendations for users 0..n-1.
std::vector<std::vector<std::pair<std::string, double>>> RecommendAll(DB& db, int n) {
  std::vector<std::vector<std::pair<std::string, double>>> out;
  for (int u = 0; u < n; ++u) {
    RecommendRequest req;
    req.user = UserId(u);
    req.now = kNow;
    auto r = db.Recommend(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::pair<std::string, double>> list;
    if (r.ok()) {
      for (const auto& rec : r->items) list.emplace_back(rec.id, rec.score);
    }
    out.push_back(std::move(list));
  }
  return out;
}

std::vector<std::string> SearchIds(DB& db) {
  auto r = db.SearchSimilarToItem("img", ItemId(3), 10);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> ids;
  if (r.ok()) {
    for (const auto& s : *r) ids.push_back(s.id);
  }
  return ids;
}

std::string ReadAll(const std::string& path) { return test::ReadFileOrEmpty(path); }

// Rewrites `path` with one byte flipped, as a new inode: a file the snapshot
// shares with the live database or another snapshot is not touched.
void FlipByteAsNewFile(const std::string& path, size_t offset) {
  std::string bytes = ReadAll(path);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] ^= 0x20;
  fs::remove(path);
  std::ofstream(path, std::ios::binary) << bytes;
}

void RewriteFile(const std::string& path, const std::string& bytes) {
  fs::remove(path);
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(SnapshotTest, ConcurrentWritesAcknowledgedBeforeTheSnapshotAreInIt) {
  TempDir tmp;
  Options o = CreateOptions();
  o.background_threads = 2;
  auto db = OpenOrDie(tmp.Sub("db"), o);
  constexpr int kWriters = 3;
  constexpr int kBatch = 5;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked[kWriters];
  for (auto& a : acked) a = 0;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int64_t b = 0; !stop.load(); ++b) {
        std::vector<Event> batch;
        for (int k = 0; k < kBatch; ++k) {
          batch.push_back(MakeEvent("writer" + std::to_string(w), ItemId(static_cast<int>(b % 50)),
                                    "view", kNow + b * kBatch + k));
        }
        ASSERT_TRUE(db->RecordEvents({}, batch).ok());
        acked[w].store(b + 1);
      }
    });
  }
  threads.emplace_back([&] {  // a reader too
    while (!stop.load()) db->GetUserHistory("writer0").IgnoreError();
  });
  while (acked[kWriters - 1].load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int64_t before[kWriters];
  for (int w = 0; w < kWriters; ++w) before[w] = acked[w].load();
  auto snap = db->CreateSnapshot(tmp.Sub("backup"));
  int64_t after[kWriters];
  for (int w = 0; w < kWriters; ++w) after[w] = acked[w].load();
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_GT(after[0] + after[1] + after[2], before[0] + before[1] + before[2])
      << "writes did not continue during the snapshot";

  auto restored = DB::Restore(tmp.Sub("backup"), tmp.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  for (const std::string& path : {snap->path, tmp.Sub("restored")}) {
    Options ro = CreateOptions();
    ro.create_if_missing = false;
    ro.read_only = path == snap->path;  // the snapshot in place, the restore writable
    auto copy = OpenOrDie(path, ro);
    ASSERT_NE(copy, nullptr);
    int64_t total = 0;
    for (int w = 0; w < kWriters; ++w) {
      auto h = copy->GetUserHistory("writer" + std::to_string(w));
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      const int64_t n = static_cast<int64_t>(h->size());
      total += n;
      EXPECT_GE(n, before[w] * kBatch) << path << ": an acknowledged write is missing";
      EXPECT_LE(n, (after[w] + 1) * kBatch) << path << ": writes that were never made";
      EXPECT_EQ(n % kBatch, 0) << path << ": a batch is split";
      for (int64_t i = 0; i < n; ++i) {  // a prefix of the writer's sequence
        ASSERT_EQ((*h)[i].timestamp, kNow + i) << path;
      }
    }
    auto stats = copy->GetStats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->events, total) << path;
  }
}

TEST(SnapshotTest, RestoredDatabaseRecommendsAsTheOriginalDidAtTheSnapshot) {
  TempDir tmp;
  auto db = OpenOrDie(tmp.Sub("db"));
  LoadWorld(*db, 150, 200);
  ASSERT_TRUE(db->Train(SmallTrain(false)).ok());  // learns and stores fusion weights
  ASSERT_TRUE(db->Train(SmallTrain(true)).ok());
  const auto original = RecommendAll(*db, 30);
  const auto original_search = SearchIds(*db);
  ASSERT_FALSE(original[0].empty());

  // Reads, and writes that change no recommendation (user vectors in the L2
  // space), run while the snapshot is taken.
  std::atomic<bool> stop{false};
  std::atomic<int> users_put{0};
  std::thread writer([&] {
    for (int u = 0; !stop.load() && u < 150; ++u) {
      VectorRecord r{UserId(u), std::vector<float>(8, static_cast<float>(u))};
      ASSERT_TRUE(db->PutVectors({}, "img", EntityKind::kUser, {r}).ok());
      users_put = u + 1;
    }
  });
  std::thread reader([&] {
    while (!stop.load()) RecommendAll(*db, 2);
  });
  while (users_put.load() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int put_before = users_put.load();
  auto snap = db->CreateSnapshot(tmp.Sub("backup"));
  stop = true;
  writer.join();
  reader.join();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  // The original still answers as before (nothing it serves changed).
  EXPECT_EQ(RecommendAll(*db, 30), original);

  auto restored = DB::Restore(snap->path, tmp.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  auto copy = OpenOrDie(tmp.Sub("restored"));
  ASSERT_NE(copy, nullptr);
  // The index files came with the snapshot and agree with its RocksDB cut.
  const auto stats = static_cast<DBImpl*>(copy.get())->spaces()->stats();
  EXPECT_EQ(stats.index_rebuilds, 0u);
  EXPECT_GE(stats.index_loads, 1u);
  for (int u = 0; u < put_before; ++u) {
    EXPECT_TRUE(copy->GetVector("img", EntityKind::kUser, UserId(u)).ok()) << u;
  }
  EXPECT_EQ(SearchIds(*copy), original_search);
  auto report = copy->Train(SmallTrain(true));  // the stored weights came along
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(RecommendAll(*copy, 30), original);
}

TEST(SnapshotTest, FlippedByteInAnyFileFailsVerifyNamingItAndRestoreRefuses) {
  TempDir tmp;
  auto db = OpenOrDie(tmp.Sub("db"));
  LoadWorld(*db, 20, 40);
  auto snap = db->CreateSnapshot(tmp.Sub("backup"));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  storage::SnapshotManifest manifest;
  ASSERT_TRUE(storage::ReadSnapshotManifest(Env::Default(), snap->path, &manifest).ok());
  std::vector<std::string> files{std::string(storage::kSnapshotManifestName)};
  bool has_index = false;
  for (const auto& f : manifest.files) {
    files.push_back(f.path);
    has_index = has_index || f.path.starts_with("derived/space-");
  }
  EXPECT_TRUE(has_index) << "the index checkpoints are not in the snapshot";
  auto ok = VerifySnapshots(tmp.Sub("backup"));
  ASSERT_TRUE(ok.ok() && ok->ok());
  for (const std::string& rel : files) {
    SCOPED_TRACE(rel);
    const std::string path = snap->path + "/" + rel;
    const std::string good = ReadAll(path);
    ASSERT_FALSE(good.empty());
    FlipByteAsNewFile(path, good.size() / 2);
    auto report = VerifySnapshots(tmp.Sub("backup"));
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->problems.size(), 1u);
    EXPECT_EQ(report->problems[0].file, rel);
    EXPECT_EQ(report->problems[0].snapshot, snap->name);
    auto r = DB::Restore(tmp.Sub("backup"), tmp.Sub("restored"));
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(rel), std::string::npos) << r.status().ToString();
    EXPECT_FALSE(fs::exists(tmp.Sub("restored")));
    RewriteFile(path, good);
  }
  // A partial snapshot (no manifest) and a missing file are refused too.
  const std::string manifest_path = snap->path + "/" + std::string(storage::kSnapshotManifestName);
  const std::string manifest_bytes = ReadAll(manifest_path);
  fs::remove(manifest_path);
  auto partial = DB::Restore(snap->path, tmp.Sub("restored"));
  EXPECT_TRUE(!partial.ok() && partial.status().message().find("partial") != std::string::npos)
      << partial.status().ToString();
  RewriteFile(manifest_path, manifest_bytes);
  const std::string victim = snap->path + "/" + manifest.files[0].path;
  const std::string victim_bytes = ReadAll(victim);
  fs::remove(victim);
  auto missing = DB::Restore(snap->path, tmp.Sub("restored"));
  EXPECT_TRUE(!missing.ok() && missing.status().message().find(manifest.files[0].path) !=
                                   std::string::npos)
      << missing.status().ToString();
  RewriteFile(victim, victim_bytes);
  auto restored = DB::Restore(snap->path, tmp.Sub("restored"));
  EXPECT_TRUE(restored.ok()) << restored.status().ToString();
  // The live database was never touched by the flips.
  auto stats = db->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->events, 0);
}

TEST(SnapshotTest, UserForgottenAfterTheSnapshotIsAbsentAfterRestoreWithTheLiveLedger) {
  TempDir tmp;
  const std::string victim = "victim-7731";
  const std::string marker = "ctx-marker-5521";
  auto db = OpenOrDie(tmp.Sub("db"));
  LoadWorld(*db, 10, 40);
  User u;
  u.id = victim;
  u.attributes["city"] = std::string("attr-marker-9014");
  ASSERT_TRUE(db->UpsertUsers({}, {u}).ok());
  Event e = MakeEvent(victim, ItemId(1), "view", kNow);
  e.context["note"] = marker;
  ASSERT_TRUE(db->RecordEvents({}, {e, MakeEvent(victim, ItemId(2), "view", kNow + 1)}).ok());
  ASSERT_TRUE(db->PutVectors({}, "img", EntityKind::kUser, {{victim, std::vector<float>(8, 0.5f)}}).ok());
  // A user forgotten before the snapshot without a sweep: the snapshot's
  // files still hold their bytes, its ledger names them.
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("early-4410", ItemId(3), "view", kNow)}).ok());
  ASSERT_TRUE(db->Close().ok());
  db = OpenOrDie(tmp.Sub("db"));  // flushed: the early user's bytes are in SSTs
  ASSERT_TRUE(db->ForgetUser("early-4410").ok());
  auto snap = db->CreateSnapshot(tmp.Sub("backup"));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_FALSE(test::FilesContaining(snap->path, victim).empty());

  // After the snapshot: the victim is forgotten, and a user who never was in
  // the snapshot is created and forgotten.
  ForgetOptions fo;
  fo.wait_for_physical_erasure = true;
  ASSERT_TRUE(db->ForgetUser(victim, fo).ok());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("ghost-3307", ItemId(4), "view", kNow)}).ok());
  ASSERT_TRUE(db->ForgetUser("ghost-3307", fo).ok());

  // Positive control: restored without the live ledger, the victim is back.
  auto plain = DB::Restore(snap->path, tmp.Sub("plain"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(test::FilesContaining(tmp.Sub("plain"), victim).empty());
  EXPECT_FALSE(test::FilesContaining(tmp.Sub("plain"), marker).empty());
  // The snapshot's own ledger is always re-applied, physically.
  EXPECT_TRUE(test::FilesContaining(tmp.Sub("plain"), "early-4410").empty());

  RestoreOptions ro;
  ro.forget_ledger_from = tmp.Sub("db");  // open: read through a read-only open
  auto r = DB::Restore(snap->path, tmp.Sub("restored"), ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->forgotten_by_live_ledger, 1);
  // early-4410's entry is in the snapshot and the victim's came with the
  // forget: only the ghost's is imported.
  EXPECT_EQ(r->ledger_entries_imported, 1);
  for (const std::string& needle : {victim, marker, std::string("attr-marker-9014"),
                                    std::string("early-4410")}) {
    EXPECT_EQ(test::FilesContaining(tmp.Sub("restored"), needle), std::vector<std::string>{})
        << needle;
  }
  auto copy = OpenOrDie(tmp.Sub("restored"));
  ASSERT_NE(copy, nullptr);
  EXPECT_TRUE(copy->GetUser(victim).status().IsNotFound());
  EXPECT_TRUE(copy->GetVector("img", EntityKind::kUser, victim).status().IsNotFound());
  // The imported ledger drops a re-import of both ids.
  ASSERT_TRUE(copy->RecordEvents({}, {MakeEvent(victim, ItemId(1), "view", kNow),
                                      MakeEvent("ghost-3307", ItemId(1), "view", kNow)})
                  .ok());
  EXPECT_TRUE(copy->GetUser(victim).status().IsNotFound());
  EXPECT_TRUE(copy->GetUser("ghost-3307").status().IsNotFound());
}

TEST(SnapshotTest, SnapshotOpensReadOnlyInPlaceAndRejectsWrites) {
  TempDir tmp;
  auto db = OpenOrDie(tmp.Sub("db"));
  LoadWorld(*db, 20, 40);
  auto snap = db->CreateSnapshot(tmp.Sub("backup"));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  Options o = CreateOptions();
  o.create_if_missing = false;
  auto writable = DB::Open(o, snap->path);
  ASSERT_FALSE(writable.ok());
  EXPECT_TRUE(writable.status().IsFailedPrecondition()) << writable.status().ToString();
  o.read_only = true;
  auto ro = OpenOrDie(snap->path, o);
  ASSERT_NE(ro, nullptr);
  auto live_stats = db->GetStats();
  auto snap_stats = ro->GetStats();
  ASSERT_TRUE(live_stats.ok() && snap_stats.ok());
  EXPECT_EQ(snap_stats->events, live_stats->events);
  EXPECT_EQ(snap_stats->users, live_stats->users);
  EXPECT_EQ(SearchIds(*ro), SearchIds(*db));
  Status w = ro->RecordEvents({}, {MakeEvent(UserId(1), ItemId(1), "view", kNow)});
  EXPECT_TRUE(w.IsFailedPrecondition()) << w.ToString();
  EXPECT_NE(w.message().find("read-only"), std::string::npos);
  EXPECT_TRUE(ro->ForgetUser(UserId(1)).status().IsFailedPrecondition());
  EXPECT_TRUE(ro->CreateSnapshot(tmp.Sub("backup2")).status().IsFailedPrecondition());
  ASSERT_TRUE(ro->Close().ok());
  auto verify = VerifySnapshots(snap->path);  // opening it changed nothing
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->problems[0].file << ": " << verify->problems[0].message;
}

TEST(SnapshotTest, IncrementalSnapshotsShareUnchangedFilesAndPruneKeepsN) {
  TempDir tmp;
  auto db = OpenOrDie(tmp.Sub("db"));
  LoadWorld(*db, 30, 40);
  SnapshotOptions copy;
  copy.link_files = false;  // as on another device: files are copied...
  auto s1 = db->CreateSnapshot(tmp.Sub("backup"), copy);
  auto s2 = db->CreateSnapshot(tmp.Sub("backup"), copy);
  ASSERT_TRUE(s1.ok() && s2.ok());
  // ... once: the second shares every unchanged file with the first.
  EXPECT_EQ(s1->unique_bytes, s1->bytes);
  EXPECT_LT(s2->unique_bytes, s2->bytes / 4) << s2->unique_bytes << " of " << s2->bytes;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("late" + std::to_string(i), ItemId(1), "view", kNow)}).ok());
    ASSERT_TRUE(db->CreateSnapshot(tmp.Sub("backup")).ok());
  }
  auto list = ListSnapshots(tmp.Sub("backup"));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 4u);
  for (const auto& s : *list) EXPECT_TRUE(s.problem.empty()) << s.problem;

  PruneOptions keep2;
  keep2.keep = 2;
  auto pruned = PruneSnapshots(tmp.Sub("backup"), keep2);
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->removed, (std::vector<std::string>{"snapshot-000001", "snapshot-000002"}));
  EXPECT_EQ(pruned->kept, (std::vector<std::string>{"snapshot-000003", "snapshot-000004"}));
  list = ListSnapshots(tmp.Sub("backup"));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, 3u);
  auto verify = VerifySnapshots(tmp.Sub("backup"));  // shared files survived
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok());
  EXPECT_EQ(verify->snapshots, 2u);

  // Max age: snapshot 3 made ten days old (manifest rewritten, re-checksummed).
  const std::string path3 = (*list)[0].path;
  storage::SnapshotManifest m;
  ASSERT_TRUE(storage::ReadSnapshotManifest(Env::Default(), path3, &m).ok());
  m.created_unix_micros -= int64_t{10} * 86400 * 1000000;
  RewriteFile(path3 + "/" + std::string(storage::kSnapshotManifestName), storage::SerializeManifest(m));
  PruneOptions by_age;
  by_age.keep = 10;
  by_age.max_age_seconds = 86400;
  pruned = PruneSnapshots(tmp.Sub("backup"), by_age);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->removed, std::vector<std::string>{"snapshot-000003"});
  auto restored = DB::Restore(tmp.Sub("backup"), tmp.Sub("restored"));  // the newest: 4
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->snapshot.id, 4u);
  auto r = OpenOrDie(tmp.Sub("restored"));
  EXPECT_TRUE(r->GetUser("late1").ok());
  EXPECT_TRUE(PruneSnapshots(tmp.Sub("backup"), PruneOptions{-1, 0}).status().IsInvalidArgument());
}

// Verify and list read a backup directory while another thread creates and
// prunes in it: they wait for the LOCK (shared) instead of reporting the
// files a prune is removing as missing, or its snapshot as damaged.
TEST(SnapshotTest, VerifyAndListDuringCreateAndPruneReportNoFalseProblems) {
  TempDir tmp;
  auto db = OpenOrDie(tmp.Sub("db"));
  LoadWorld(*db, 30, 40);
  SnapshotOptions copy;
  copy.link_files = false;  // copies: a prune really removes bytes
  ASSERT_TRUE(db->CreateSnapshot(tmp.Sub("backup"), copy).ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("w" + std::to_string(i), ItemId(1), "view", kNow)}).ok());
      ASSERT_TRUE(db->CreateSnapshot(tmp.Sub("backup"), copy).ok());
      PruneOptions keep1;
      keep1.keep = 1;
      ASSERT_TRUE(PruneSnapshots(tmp.Sub("backup"), keep1).ok());
    }
    done = true;
  });
  int verifies = 0, lists = 0;
  std::vector<std::string> false_problems;
  while (!done) {
    auto v = VerifySnapshots(tmp.Sub("backup"));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ++verifies;
    for (const auto& p : v->problems) false_problems.push_back(p.snapshot + "/" + p.file + ": " + p.message);
    auto l = ListSnapshots(tmp.Sub("backup"));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ++lists;
    for (const auto& s : *l) {
      if (!s.problem.empty()) false_problems.push_back("list " + s.name + ": " + s.problem);
    }
  }
  writer.join();
  EXPECT_GT(verifies, 5);
  EXPECT_TRUE(false_problems.empty()) << false_problems.size() << " false problems in " << verifies
                                      << " verifies and " << lists << " lists, e.g. " << false_problems[0];

}

TEST(SnapshotTest, RestoreRefusesANonEmptyDestinationAndAMissingSource) {
  TempDir tmp;
  auto db = OpenOrDie(tmp.Sub("db"));
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("u", "i", "view", kNow)}).ok());
  ASSERT_TRUE(db->CreateSnapshot(tmp.Sub("backup")).ok());
  EXPECT_TRUE(DB::Restore(tmp.Sub("nothing"), tmp.Sub("r")).status().IsNotFound());
  fs::create_directories(tmp.Sub("full"));
  std::ofstream(tmp.Sub("full/keep.txt")) << "mine";
  auto r = DB::Restore(tmp.Sub("backup"), tmp.Sub("full"));
  EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
  EXPECT_EQ(ReadAll(tmp.Sub("full/keep.txt")), "mine");
  // An empty existing directory is fine.
  fs::create_directories(tmp.Sub("empty"));
  EXPECT_TRUE(DB::Restore(tmp.Sub("backup"), tmp.Sub("empty")).ok());
}

}  // namespace
}  // namespace recdb
