// The concurrency stress run shared by the fast and the slow stress tests
// (concurrency_stress_test.cc, concurrency_stress_slow_test.cc). Built to be
// run under ThreadSanitizer (scripts/test.sh --tsan), where every data race
// the mix reaches is a failure, and in the plain build, where the invariants
// below must hold.
//
// On one database directory, for a given number of seconds, threads run at
// once: writers (event batches, item and user upserts, vectors put and
// deleted), readers (Recommend with explanations and re-ranking,
// SimilarItems, SearchSimilarToItem, GetUser, GetUserHistory, GetItem,
// GetStats), a Train loop, retention sweeps, a ForgetUser loop,
// RecordImpressions and CreateSnapshot; the scheduler retrains, sweeps and
// checkpoints in the background meanwhile. Then it checks:
//  - every acknowledged write is readable, exactly (histories, last item
//    title, last user attribute, each vector as last put or deleted);
//    readers check the same during the run against the writes acknowledged
//    before their read started;
//  - expired (TTL) events are never returned, inactive users are forgotten
//    by the final sweep, forgotten users stay gone;
//  - the backup directory verifies, the last snapshot holds every write
//    acknowledged before it was started and restores to a database that
//    trains and recommends;
//  - after Close and reopen, every acknowledged write is still there and
//    Train + Recommend work.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db_test_util.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb::test {

// What one stress run did, per operation (successful calls).
struct StressCounts {
  std::atomic<int64_t> event_batches{0}, events{0}, item_upserts{0}, user_upserts{0},
      vector_puts{0}, vector_deletes{0}, recommends{0}, similar{0}, vector_searches{0},
      point_reads{0}, histories{0}, trains{0}, sweeps{0}, forgets{0}, impressions{0},
      snapshots{0}, checkpoints{0};

  std::string ToString() const {
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "event_batches=%lld events=%lld item_upserts=%lld user_upserts=%lld "
                  "vector_puts=%lld vector_deletes=%lld recommends=%lld similar=%lld "
                  "vector_searches=%lld point_reads=%lld histories=%lld trains=%lld "
                  "sweeps=%lld forgets=%lld impressions=%lld snapshots=%lld checkpoints=%lld",
                  L(event_batches), L(events), L(item_upserts), L(user_upserts), L(vector_puts),
                  L(vector_deletes), L(recommends), L(similar), L(vector_searches),
                  L(point_reads), L(histories), L(trains), L(sweeps), L(forgets),
                  L(impressions), L(snapshots), L(checkpoints));
    return buf;
  }

 private:
  static long long L(const std::atomic<int64_t>& v) { return static_cast<long long>(v.load()); }
};

// Stress duration: $RECDB_STRESS_SECONDS when set, else `default_seconds`.
inline double StressSeconds(double default_seconds) {
  const char* env = std::getenv("RECDB_STRESS_SECONDS");
  if (env != nullptr && *env != '\0') {
    const double s = std::atof(env);
    if (s > 0) return s;
  }
  return default_seconds;
}

class ConcurrencyStress {
 public:
  static constexpr int kWriters = 2;
  static constexpr int kUsersPerWriter = 12;
  static constexpr int kItems = 120;  // writer w owns the items i with i % kWriters == w
  static constexpr int kDim = 8;
  static constexpr const char* kSpace = "emb";

  explicit ConcurrencyStress(const std::string& root)
      : db_dir_(root + "/db"), backup_dir_(root + "/backup"), restore_dir_(root + "/restored") {
    now_ = static_cast<int64_t>(std::time(nullptr));
  }

  // Runs the whole scenario; gtest assertions report any failure.
  void Run(double seconds) {
    SCOPED_TRACE("stress seconds=" + std::to_string(seconds));
    db_ = OpenOrDie(db_dir_, StressOptions());
    ASSERT_NE(db_, nullptr);
    ASSERT_NO_FATAL_FAILURE(Load());
    ASSERT_NO_FATAL_FAILURE(RunThreads(seconds));
    ASSERT_NO_FATAL_FAILURE(CheckFinal(*db_, /*after_sweep=*/false));
    auto sweep = db_->SweepRetention();
    ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
    ASSERT_NO_FATAL_FAILURE(CheckFinal(*db_, /*after_sweep=*/true));
    ASSERT_NO_FATAL_FAILURE(CheckSnapshot());
    ASSERT_TRUE(db_->Close().ok());
    db_.reset();
    db_ = OpenOrDie(db_dir_, StressOptions());
    ASSERT_NE(db_, nullptr);
    ASSERT_NO_FATAL_FAILURE(CheckFinal(*db_, /*after_sweep=*/true));
    ASSERT_NO_FATAL_FAILURE(TrainAndRecommend(*db_));
    ASSERT_TRUE(db_->Close().ok());
    db_.reset();
    std::printf("[ stress   ] %.1f s: %s\n", seconds, counts_.ToString().c_str());
    ::testing::Test::RecordProperty("stress_counts", counts_.ToString());
  }

  const StressCounts& counts() const { return counts_; }

 private:
  // Writes acknowledged by one writer; only that writer changes it, under
  // mu (readers copy the parts they check under mu).
  struct WriterState {
    std::mutex mu;
    // views[u] = timestamps of the acknowledged "view" events of user u of
    // this writer, ascending.
    std::array<std::vector<int64_t>, kUsersPerWriter> views;
    std::map<int, std::string> item_title;            // item -> last acknowledged title
    std::array<double, kUsersPerWriter> user_attr{};  // last acknowledged "level"
    std::map<int, std::vector<float>> vectors;        // item -> last put (absent: deleted)
    std::vector<std::string> inactive_users;          // forgotten by the final sweep
  };

  Options StressOptions() const {
    Options o = CreateOptions();
    o.background_threads = 2;
    o.retrain_interval_seconds = 1;
    o.index_checkpoint_interval_seconds = 1;
    o.retention.ttl_seconds_by_type["click"] = 3600;
    o.retention.delete_inactive_users_after_days = 30;
    o.retention.sweep_interval_seconds = 1;
    return o;
  }

  static std::string UserId(int w, int u) {
    return "w" + std::to_string(w) + "-u" + std::to_string(u);
  }
  static std::string ItemId(int i) { return "i" + std::to_string(i); }

  static ItemFilter AnyItem() {
    ItemFilter f;
    f.available_only = false;
    return f;
  }

  static TrainOptions SmallTrain() {
    TrainOptions t;
    t.ials_factors = 8;
    t.ials_iterations = 3;
    t.threads = 1;
    t.reuse_stored_weights = true;
    return t;
  }

  std::vector<float> RandomVector(std::mt19937& rng) const {
    std::normal_distribution<float> g;
    std::vector<float> v(kDim);
    for (float& x : v) x = g(rng);
    v[0] += 0.5f;  // never all-zero under cosine
    return v;
  }

  // Items, users, a first batch of events, the space and a first model.
  void Load() {
    std::mt19937 rng(1);
    std::vector<Item> items;
    for (int i = 0; i < kItems; ++i) {
      Item it;
      it.id = ItemId(i);
      it.title = "title " + std::to_string(i) + " v0";
      it.categories = {"c" + std::to_string(i % 7)};
      items.push_back(it);
      writers_[i % kWriters].item_title[i] = it.title;
    }
    ASSERT_TRUE(db_->UpsertItems({}, items).ok());
    std::vector<User> users;
    for (int w = 0; w < kWriters; ++w) {
      for (int u = 0; u < kUsersPerWriter; ++u) {
        User user;
        user.id = UserId(w, u);
        user.attributes["level"] = 0.0;
        users.push_back(user);
      }
    }
    ASSERT_TRUE(db_->UpsertUsers({}, users).ok());
    std::vector<Event> events;
    for (int w = 0; w < kWriters; ++w) {
      for (int u = 0; u < kUsersPerWriter; ++u) {
        for (int k = 0; k < 8; ++k) {
          const int64_t ts = NextTimestamp(w);
          events.push_back(MakeEvent(UserId(w, u), ItemId(static_cast<int>(rng() % kItems)),
                                     "view", ts));
          writers_[w].views[u].push_back(ts);
        }
      }
    }
    ASSERT_TRUE(db_->RecordEvents({}, events).ok());
    SpaceOptions so;
    so.name = kSpace;
    so.dimension = kDim;
    so.metric = Metric::kCosine;
    so.hnsw_m = 8;
    so.hnsw_ef_construction = 40;
    ASSERT_TRUE(db_->CreateSpace(so).ok());
    std::vector<VectorRecord> vectors;
    for (int i = 0; i < kItems; ++i) {
      VectorRecord r{ItemId(i), RandomVector(rng)};
      writers_[i % kWriters].vectors[i] = r.values;
      vectors.push_back(std::move(r));
    }
    ASSERT_TRUE(db_->PutVectors({}, kSpace, EntityKind::kItem, vectors).ok());
    auto trained = db_->Train(SmallTrain());
    ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  }

  // View timestamps: per writer strictly increasing (so each user's views
  // ascend), from 20 days ago: well inside the 30-day inactivity bound.
  int64_t NextTimestamp(int w) { return now_ - 20 * 86400 + next_ts_[w]++; }

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(failures_mu_);
    if (failures_.size() < 20) failures_.push_back(what);
  }

  void RunThreads(double seconds) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) threads.emplace_back([&, w] { Writer(w, stop); });
    for (int r = 0; r < 2; ++r) threads.emplace_back([&, r] { Reader(r, stop); });
    threads.emplace_back([&] { Trainer(stop); });
    threads.emplace_back([&] { Sweeper(stop); });
    threads.emplace_back([&] { Forgetter(stop); });
    threads.emplace_back([&] { Impressions(stop); });
    threads.emplace_back([&] { Snapshotter(stop); });
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop = true;
    for (auto& t : threads) t.join();
    std::lock_guard<std::mutex> lock(failures_mu_);
    for (const auto& f : failures_) ADD_FAILURE() << f;
    EXPECT_GT(counts_.event_batches.load(), 0);
    EXPECT_GT(counts_.recommends.load(), 0);
    EXPECT_GT(counts_.snapshots.load(), 0);
    EXPECT_GT(counts_.sweeps.load(), 0);
    EXPECT_GT(counts_.trains.load(), 0);
    EXPECT_GT(counts_.forgets.load(), 0);
  }

  void Writer(int w, const std::atomic<bool>& stop) {
    std::mt19937 rng(100 + w);
    WriterState& state = writers_[w];
    int inactive = 0;
    for (int round = 0; !stop.load(); ++round) {
      // An event batch: views to check, plus clicks that expired already
      // (TTL 1 h) and must never be returned.
      std::vector<Event> batch;
      std::vector<std::pair<int, int64_t>> views;
      for (int k = 0; k < 6; ++k) {
        const int u = static_cast<int>(rng() % kUsersPerWriter);
        const int64_t ts = NextTimestamp(w);
        batch.push_back(MakeEvent(UserId(w, u), ItemId(static_cast<int>(rng() % kItems)), "view", ts));
        views.emplace_back(u, ts);
      }
      batch.push_back(MakeEvent(UserId(w, static_cast<int>(rng() % kUsersPerWriter)),
                                ItemId(static_cast<int>(rng() % kItems)), "click", now_ - 2 * 86400));
      Status s = db_->RecordEvents({}, batch);
      if (!s.ok()) {
        Fail("RecordEvents: " + s.ToString());
      } else {
        std::lock_guard<std::mutex> lock(state.mu);
        for (const auto& [u, ts] : views) state.views[u].push_back(ts);
        counts_.event_batches++;
        counts_.events += static_cast<int64_t>(batch.size());
      }
      if (round % 3 == 0) {  // an item of this writer, retitled
        const int i = static_cast<int>(rng() % (kItems / kWriters)) * kWriters + w;
        Item it;
        it.id = ItemId(i);
        it.title = "title " + std::to_string(i) + " v" + std::to_string(round);
        it.categories = {"c" + std::to_string((i + round) % 7)};
        s = db_->UpsertItems({}, {it});
        if (!s.ok()) {
          Fail("UpsertItems: " + s.ToString());
        } else {
          std::lock_guard<std::mutex> lock(state.mu);
          state.item_title[i] = it.title;
          counts_.item_upserts++;
        }
      }
      if (round % 4 == 1) {  // a user of this writer, new attribute value
        const int u = static_cast<int>(rng() % kUsersPerWriter);
        User user;
        user.id = UserId(w, u);
        user.attributes["level"] = static_cast<double>(round);
        s = db_->UpsertUsers({}, {user});
        if (!s.ok()) {
          Fail("UpsertUsers: " + s.ToString());
        } else {
          std::lock_guard<std::mutex> lock(state.mu);
          state.user_attr[u] = round;
          counts_.user_upserts++;
        }
      }
      if (round % 2 == 0) {  // vectors: put two, sometimes delete one
        std::vector<VectorRecord> records;
        for (int k = 0; k < 2; ++k) {
          const int i = static_cast<int>(rng() % (kItems / kWriters)) * kWriters + w;
          records.push_back({ItemId(i), RandomVector(rng)});
        }
        s = db_->PutVectors({}, kSpace, EntityKind::kItem, records);
        if (!s.ok()) {
          Fail("PutVectors: " + s.ToString());
        } else {
          std::lock_guard<std::mutex> lock(state.mu);
          for (const auto& r : records) state.vectors[std::stoi(r.id.substr(1))] = r.values;
          counts_.vector_puts++;
        }
        if (round % 6 == 0) {
          const int i = static_cast<int>(rng() % (kItems / kWriters)) * kWriters + w;
          s = db_->DeleteVectors({}, kSpace, EntityKind::kItem, {ItemId(i)});
          if (!s.ok()) {
            Fail("DeleteVectors: " + s.ToString());
          } else {
            std::lock_guard<std::mutex> lock(state.mu);
            state.vectors.erase(i);
            counts_.vector_deletes++;
          }
        }
      }
      if (round % 25 == 0) {  // a user last active 60 days ago: the sweep forgets them
        const std::string id = "w" + std::to_string(w) + "-old" + std::to_string(inactive++);
        s = db_->RecordEvents({}, {MakeEvent(id, ItemId(static_cast<int>(rng() % kItems)), "view",
                                             now_ - 60 * 86400)});
        if (!s.ok()) {
          Fail("RecordEvents(inactive): " + s.ToString());
        } else {
          std::lock_guard<std::mutex> lock(state.mu);
          state.inactive_users.push_back(id);
        }
      }
    }
  }

  // The view timestamps a history holds; fails on an expired click.
  std::vector<int64_t> ViewsOf(const std::vector<Event>& history, const std::string& who) {
    std::vector<int64_t> out;
    for (size_t k = 0; k < history.size(); ++k) {
      const Event& e = history[k];
      if (k > 0 && history[k - 1].timestamp > e.timestamp) Fail(who + ": history out of order");
      if (e.type == "click") Fail(who + ": expired click returned");
      if (e.type == "view") out.push_back(e.timestamp);
    }
    return out;
  }

  void Reader(int r, const std::atomic<bool>& stop) {
    std::mt19937 rng(200 + r);
    while (!stop.load()) {
      const int w = static_cast<int>(rng() % kWriters);
      const int u = static_cast<int>(rng() % kUsersPerWriter);
      const std::string user = UserId(w, u);
      // History: a superset of the views acknowledged before the read.
      std::vector<int64_t> acked;
      {
        std::lock_guard<std::mutex> lock(writers_[w].mu);
        acked = writers_[w].views[u];
      }
      auto history = db_->GetUserHistory(user);
      if (!history.ok()) {
        Fail("GetUserHistory " + user + ": " + history.status().ToString());
      } else {
        const auto seen = ViewsOf(*history, user);
        if (!std::includes(seen.begin(), seen.end(), acked.begin(), acked.end())) {
          Fail("GetUserHistory " + user + ": an acknowledged view is missing");
        }
        counts_.histories++;
      }
      auto got_user = db_->GetUser(user);
      if (!got_user.ok()) Fail("GetUser " + user + ": " + got_user.status().ToString());
      auto item = db_->GetItem(ItemId(static_cast<int>(rng() % kItems)));
      if (!item.ok()) Fail("GetItem: " + item.status().ToString());
      auto stats = db_->GetStats();
      if (!stats.ok()) Fail("GetStats: " + stats.status().ToString());
      if (got_user.ok() && item.ok() && stats.ok()) counts_.point_reads++;

      RecommendRequest req;
      req.user = user;
      req.k = 10;
      if (rng() % 2 == 0) {
        CareOptions care;
        care.diversity = 0.5;
        care.exploration = 0.2;
        care.exploration_seed = rng();
        req.care = care;
      }
      auto rec = db_->Recommend(req);
      if (!rec.ok()) {
        Fail("Recommend " + user + ": " + rec.status().ToString());
      } else {
        // May be empty: a user can have seen every item (exclude_seen).
        if (rec->items.size() > req.k) {
          Fail("Recommend " + user + ": " + std::to_string(rec->items.size()) + " items");
        }
        for (const auto& it : rec->items) {
          if (it.id.empty() || !std::isfinite(it.score)) Fail("Recommend: bad item");
          if (it.explanation.sentence.empty() && it.explanation.evidence.empty()) {
            Fail("Recommend: " + it.id + " has no explanation");
          }
        }
        counts_.recommends++;
      }
      const std::string probe = ItemId(static_cast<int>(rng() % kItems));
      auto similar = db_->SimilarItems(probe, 5);
      if (!similar.ok()) {
        Fail("SimilarItems " + probe + ": " + similar.status().ToString());
      } else {
        for (const auto& it : similar->items) {
          if (it.id == probe) Fail("SimilarItems returned the probe item");
        }
        counts_.similar++;
      }
      auto near = db_->SearchSimilarToItem(kSpace, probe, 5);
      if (near.ok()) {
        counts_.vector_searches++;
      } else if (!near.status().IsNotFound()) {  // NotFound: its vector is deleted
        Fail("SearchSimilarToItem: " + near.status().ToString());
      }
    }
  }

  void Trainer(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      auto report = db_->Train(SmallTrain());
      if (!report.ok()) {
        Fail("Train: " + report.status().ToString());
      } else {
        counts_.trains++;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void Sweeper(const std::atomic<bool>& stop) {
    for (int round = 0; !stop.load(); ++round) {
      auto report = db_->SweepRetention();
      if (!report.ok()) {
        Fail("SweepRetention: " + report.status().ToString());
      } else {
        counts_.sweeps++;
      }
      if (round % 2 == 1) {
        Status s = db_->CheckpointIndexes();
        if (!s.ok()) {
          Fail("CheckpointIndexes: " + s.ToString());
        } else {
          counts_.checkpoints++;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Creates a user with events and a user vector, then forgets them.
  void Forgetter(const std::atomic<bool>& stop) {
    std::mt19937 rng(300);
    for (int n = 0; !stop.load(); ++n) {
      const std::string id = "victim" + std::to_string(n);
      std::vector<Event> events;
      const int count = 1 + static_cast<int>(rng() % 5);
      for (int k = 0; k < count; ++k) {
        events.push_back(MakeEvent(id, ItemId(static_cast<int>(rng() % kItems)), "view",
                                   now_ - 3600 + k));
      }
      Status s = db_->RecordEvents({}, events);
      if (!s.ok()) {
        Fail("RecordEvents(victim): " + s.ToString());
        continue;
      }
      s = db_->PutVectors({}, kSpace, EntityKind::kUser, {{id, RandomVector(rng)}});
      if (!s.ok()) Fail("PutVectors(user): " + s.ToString());
      ForgetOptions fo;
      fo.wait_for_physical_erasure = (n % 5 == 4);
      auto receipt = db_->ForgetUser(id, fo);
      if (!receipt.ok()) {
        Fail("ForgetUser " + id + ": " + receipt.status().ToString());
        continue;
      }
      if (receipt->events_removed != count || (s.ok() && receipt->vectors_removed != 1)) {
        Fail("ForgetUser " + id + ": removed " + std::to_string(receipt->events_removed) +
             " events, " + std::to_string(receipt->vectors_removed) + " vectors");
      }
      {
        std::lock_guard<std::mutex> lock(forgotten_mu_);
        forgotten_.push_back(id);
      }
      counts_.forgets++;
      if (!db_->GetUser(id).status().IsNotFound()) Fail("forgotten " + id + " still readable");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Impressions(const std::atomic<bool>& stop) {
    std::mt19937 rng(400);
    while (!stop.load()) {
      const std::string user =
          UserId(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kUsersPerWriter));
      std::vector<std::string> shown;
      for (int k = 0; k < 5; ++k) shown.push_back(ItemId(static_cast<int>(rng() % kItems)));
      Status s = db_->RecordImpressions({}, user, shown);
      if (!s.ok()) {
        Fail("RecordImpressions: " + s.ToString());
      } else {
        counts_.impressions++;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Snapshots; remembers the views acknowledged before the last one started.
  void Snapshotter(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      std::array<std::array<size_t, kUsersPerWriter>, kWriters> before{};
      for (int w = 0; w < kWriters; ++w) {
        std::lock_guard<std::mutex> lock(writers_[w].mu);
        for (int u = 0; u < kUsersPerWriter; ++u) before[w][u] = writers_[w].views[u].size();
      }
      auto info = db_->CreateSnapshot(backup_dir_);
      if (!info.ok()) {
        Fail("CreateSnapshot: " + info.status().ToString());
      } else {
        last_snapshot_ = info->path;
        views_before_snapshot_ = before;
        counts_.snapshots++;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }

  // Every acknowledged write, exactly; on `db` (the live or reopened one).
  void CheckFinal(DB& db, bool after_sweep) {
    for (int w = 0; w < kWriters; ++w) {
      const WriterState& state = writers_[w];  // writers have stopped
      for (int u = 0; u < kUsersPerWriter; ++u) {
        const std::string user = UserId(w, u);
        auto history = db.GetUserHistory(user);
        ASSERT_TRUE(history.ok()) << user << ": " << history.status().ToString();
        EXPECT_EQ(ViewsOf(*history, user), state.views[u]) << user;
        auto got = db.GetUser(user);
        ASSERT_TRUE(got.ok()) << user << ": " << got.status().ToString();
        ASSERT_TRUE(got->attributes.count("level")) << user;
        EXPECT_EQ(std::get<double>(got->attributes.at("level")), state.user_attr[u]) << user;
      }
      for (const auto& [i, title] : state.item_title) {
        auto item = db.GetItem(ItemId(i));
        ASSERT_TRUE(item.ok()) << ItemId(i) << ": " << item.status().ToString();
        EXPECT_EQ(item->title, title) << ItemId(i);
      }
      for (int i = w; i < kItems; i += kWriters) {
        auto v = db.GetVector(kSpace, EntityKind::kItem, ItemId(i));
        auto want = state.vectors.find(i);
        if (want == state.vectors.end()) {
          EXPECT_TRUE(v.status().IsNotFound()) << ItemId(i) << ": deleted vector returned";
        } else {
          ASSERT_TRUE(v.ok()) << ItemId(i) << ": " << v.status().ToString();
          EXPECT_EQ(*v, want->second) << ItemId(i);
          // The index finds it too (unless another item has the same direction).
          auto near = db.SearchSimilar(kSpace, want->second, 1, AnyItem());
          ASSERT_TRUE(near.ok()) << near.status().ToString();
          ASSERT_EQ(near->size(), 1u);
          EXPECT_GT((*near)[0].score, 0.9999f) << ItemId(i);
        }
      }
      if (after_sweep) {
        for (const auto& id : state.inactive_users) {
          EXPECT_TRUE(db.GetUser(id).status().IsNotFound()) << id << " outlived retention";
        }
      }
    }
    for (const auto& id : forgotten_) {
      EXPECT_TRUE(db.GetUser(id).status().IsNotFound()) << id;
      EXPECT_TRUE(db.GetUserHistory(id).status().IsNotFound()) << id;
    }
  }

  void TrainAndRecommend(DB& db) {
    auto trained = db.Train(SmallTrain());
    ASSERT_TRUE(trained.ok()) << trained.status().ToString();
    RecommendRequest req;
    req.user = UserId(0, 0);
    req.exclude_seen = false;
    // The impression thread has shown this user every item many times with
    // no later event, so impression rotation rightly leaves nothing to list.
    CareOptions care;
    care.rotate_after_impressions = 0;
    req.care = care;
    auto rec = db.Recommend(req);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    EXPECT_EQ(rec->items.size(), req.k);
  }

  void CheckSnapshot() {
    ASSERT_FALSE(last_snapshot_.empty());
    auto verify = VerifySnapshots(backup_dir_);
    ASSERT_TRUE(verify.ok()) << verify.status().ToString();
    EXPECT_TRUE(verify->ok()) << verify->problems.size() << " problems, first: "
                              << (verify->problems.empty() ? "" : verify->problems[0].file + ": " +
                                                                      verify->problems[0].message);
    EXPECT_EQ(verify->snapshots, static_cast<uint64_t>(counts_.snapshots.load()));
    RestoreOptions ro;
    ro.forget_ledger_from = db_dir_;
    ro.open_options = StressOptions();  // the retention policy hides expired clicks
    auto restored = DB::Restore(last_snapshot_, restore_dir_, ro);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    auto copy = OpenOrDie(restore_dir_, StressOptions());
    ASSERT_NE(copy, nullptr);
    for (int w = 0; w < kWriters; ++w) {
      for (int u = 0; u < kUsersPerWriter; ++u) {
        const std::string user = UserId(w, u);
        auto history = copy->GetUserHistory(user);
        ASSERT_TRUE(history.ok()) << user << ": " << history.status().ToString();
        const auto seen = ViewsOf(*history, user);
        const auto& all = writers_[w].views[u];
        const std::vector<int64_t> before(all.begin(),
                                          all.begin() + views_before_snapshot_[w][u]);
        // Every view acknowledged before the snapshot started, and only
        // acknowledged views (a prefix of them: each user's views ascend).
        EXPECT_GE(seen.size(), before.size()) << user;
        EXPECT_TRUE(std::equal(before.begin(), before.end(), seen.begin(),
                               seen.begin() + std::min(seen.size(), before.size())))
            << user;
        EXPECT_TRUE(seen.size() <= all.size() && std::equal(seen.begin(), seen.end(), all.begin()))
            << user;
      }
    }
    for (const auto& id : forgotten_) {
      EXPECT_TRUE(copy->GetUser(id).status().IsNotFound()) << id << " back after restore";
    }
    ASSERT_NO_FATAL_FAILURE(TrainAndRecommend(*copy));
    ASSERT_TRUE(copy->Close().ok());
  }

  const std::string db_dir_, backup_dir_, restore_dir_;
  int64_t now_ = 0;
  std::unique_ptr<DB> db_;
  std::array<WriterState, kWriters> writers_;
  std::array<int64_t, kWriters> next_ts_{};  // each writer's own slot
  StressCounts counts_;
  std::mutex failures_mu_;
  std::vector<std::string> failures_;
  std::mutex forgotten_mu_;
  std::vector<std::string> forgotten_;  // read after the threads joined
  // Written by the snapshot thread only, read after it joined.
  std::string last_snapshot_;
  std::array<std::array<size_t, kUsersPerWriter>, kWriters> views_before_snapshot_{};
};

}  // namespace recdb::test
