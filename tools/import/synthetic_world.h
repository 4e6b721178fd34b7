// SyntheticWorld: a deterministic, realistic-looking recommendation world
// (catalog, users, interaction log) generated from a seed, for `recdb demo`,
// benchmarks and tests.
//
// The world has structure a recommender can find:
//   - items belong to a primary category (sometimes a second), have a
//     creator, text generated from per-category word lists, a price, tags;
//   - item popularity follows a power law (Zipf, `popularity_exponent`);
//   - each user has latent tastes over categories that drift from a start
//     mix to an end mix over the simulated period, and a power-law activity
//     level;
//   - events come in sessions (context "session", "device" mobile/desktop/tv,
//     device-specific hour-of-day patterns) and follow a funnel: view ->
//     click -> add_to_cart -> purchase, plus ratings (1-5) that track taste.
//
// Everything is a pure function of (options, index): ItemAt(i), UserAt(u) and
// UserEvents(u) may be called in any order, from any thread, and give the same
// result; memory is O(items + users * categories), so 100K items / 1M events
// is cheap. Event counts hit options.events exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "recdb/db.h"
#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb::tools {

struct SyntheticWorldOptions {
  uint64_t seed = 42;
  int64_t users = 2000;
  int64_t items = 1000;
  // Total events; 0 = 20 per user.
  int64_t events = 0;
  // Creators (brands, studios, authors); 0 = items / 8 (at least 1).
  int64_t creators = 0;
  // Zipf exponent of item popularity (1.0 = classic long tail).
  double popularity_exponent = 1.0;
  // Simulated period: events fall in [start_ts, start_ts + days * 86400).
  int64_t start_ts = 1700000000;  // 2023-11-14
  int64_t days = 60;
  // Fraction of users who refuse event storage / training (consent).
  double no_store_fraction = 0.0;
  double no_training_fraction = 0.0;
};

class SyntheticWorld {
 public:
  explicit SyntheticWorld(const SyntheticWorldOptions& options);

  const SyntheticWorldOptions& options() const { return options_; }
  int64_t num_items() const { return options_.items; }
  int64_t num_users() const { return options_.users; }
  int64_t num_events() const { return total_events_; }

  // The category names, and the event types the world uses (all recdb
  // defaults: view, click, add_to_cart, purchase, rating).
  static const std::vector<std::string>& Categories();
  static const std::vector<std::string>& EventTypes();

  static std::string ItemId(int64_t i) { return "i" + std::to_string(i); }
  static std::string UserId(int64_t u) { return "u" + std::to_string(u); }

  // REQUIRES: 0 <= i < num_items(), 0 <= u < num_users().
  Item ItemAt(int64_t i) const;
  User UserAt(int64_t u) const;
  // The user's events, oldest first; sizes sum to num_events().
  std::vector<Event> UserEvents(int64_t u) const;
  // Ground truth: item i's primary category (index into Categories()) and
  // user u's taste over categories at time ts (sums to 1).
  int ItemCategory(int64_t i) const { return item_category_[i]; }
  std::vector<double> UserTaste(int64_t u, int64_t ts) const;

  // Visits all items / users / events (user by user) in index order. A
  // non-OK Status from `fn` stops the walk and is returned.
  Status ForEachItem(const std::function<Status(const Item&)>& fn) const;
  Status ForEachUser(const std::function<Status(const User&)>& fn) const;
  Status ForEachEvent(const std::function<Status(const Event&)>& fn) const;

 private:
  struct UserProfile {
    std::vector<float> taste_start;
    std::vector<float> taste_end;
  };
  UserProfile Profile(int64_t u) const;
  int64_t SampleItem(int category, uint64_t* rng) const;

  SyntheticWorldOptions options_;
  int64_t total_events_ = 0;
  std::vector<int> item_category_;
  std::vector<int> item_second_category_;  // -1 if none
  // Per category: its items and their cumulative popularity weights.
  std::vector<std::vector<int64_t>> category_items_;
  std::vector<std::vector<double>> category_cdf_;
  std::vector<int64_t> user_quota_;  // events per user
};

struct LoadWorldOptions {
  // Records per UpsertItems / UpsertUsers / RecordEvents call.
  size_t batch_size = 10000;
  // Also writes the users' profiles (UpsertUsers) between items and events;
  // without them the events alone create the users.
  bool users = false;
  // Called after every batch written: the kind ("items", "users", "events"),
  // records of that kind written so far and their total. May be empty.
  std::function<void(const char* kind, int64_t done, int64_t total)> on_batch;
};

// Writes `world` into `db`: its items, then (with `users`) its users, then its
// events, each in batches of `batch_size` (every call atomic in the DB). What
// `recdb demo`, the benchmarks and the tests that start from a synthetic
// world share. A non-OK Status from the DB stops the load and is returned;
// batches written before it stay written.
Status LoadSyntheticWorld(DB* db, const SyntheticWorld& world, const LoadWorldOptions& options = {});

}  // namespace recdb::tools
