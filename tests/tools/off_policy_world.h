// A small world with a known off-policy answer, shared by the engine test
// (tests/engine/off_policy_eval_test.cc) and the CLI test
// (tests/tools/cli_off_policy_test.cc).
//
// Items p0..p9 with popularity 200, 180, ..., 20 (background users b0..b199
// view them a day before kT) and "late", created at kT + 100 yet viewed by
// 300 users an hour before kT (a pre-release): the most popular item in
// trending's table as of kT, but it did not exist at kT. The
// candidate "trending alone" (every other weight 0) then lists p0, p1, ...
// minus what the user had seen before the impression (and, from kT + 100
// on, late first).
//
//   user  impression (time: items / propensities)   events after it
//   u     kT:       p0 p1 / 0.5 0.25                 click p0 +10 s, view p0 +30 s,
//         kT + 36h: p9 / 1.0                         purchase p1 +20 s, click p1 +48 h
//   v     kT:       p1 p3 / 0.25 0.5                 click p1 +5 s, click p3 +30 h
//         (v viewed p0 at kT - 100: the candidate as of kT skips it)
//   w     kT:       p0 p1 / (none: skipped)
//
// Candidate lists as of each impression: u@kT [p0 p1], u@kT+36h [late],
// v@kT [p1 p2]. Rewards (click/purchase, window 24 h): u@kT [1 1], u@kT+36h
// [0], v@kT [1 0]; w * r = [2 4 0 4 0], so over 5 slots IPS = 10/5 = 2.0,
// SNIPS = 10/10 = 1.0, 3 matches, logged reward 3/5 = 0.6. With a 72 h window
// v's p3 click counts (logged 0.8) while u's p1 click at +48 h still does not:
// u's window is cut at its next impression (+36 h).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/db_test_util.h"
#include "recdb/db.h"

namespace recdb::test {

inline constexpr int64_t kOffPolicyT = 1700000000;

// Builds the world in `path` (trained, with impressions unless
// `with_propensities` is false: then none carries propensities) and returns
// the open database.
inline std::unique_ptr<DB> OpenOffPolicyWorld(const std::string& path,
                                              bool with_propensities = true) {
  const int64_t t = kOffPolicyT;
  auto db = OpenOrDie(path);
  if (!db) return nullptr;
  std::vector<Item> items;
  for (int i = 0; i < 10; ++i) {
    Item it;
    it.id = "p" + std::to_string(i);
    it.categories = {"C"};
    items.push_back(it);
  }
  Item late;
  late.id = "late";
  late.categories = {"C"};
  late.created_at = t + 100;
  items.push_back(late);
  EXPECT_TRUE(db->UpsertItems({}, items).ok());
  std::vector<User> users;
  for (const char* id : {"u", "v", "w"}) users.push_back(User{id, {}, {}});
  EXPECT_TRUE(db->UpsertUsers({}, users).ok());
  std::vector<Event> events;
  auto add = [&](std::string user, std::string item, std::string type, int64_t ts) {
    events.push_back(MakeEvent(std::move(user), std::move(item), std::move(type), ts));
  };
  for (int i = 0; i < 10; ++i) {
    for (int b = 0; b < 20 * (10 - i); ++b) {
      add("b" + std::to_string(b), "p" + std::to_string(i), "view", t - 86400 + i);
    }
  }
  for (int c = 0; c < 300; ++c) add("c" + std::to_string(c), "late", "view", t - 3600);
  add("u", "p0", "click", t + 10);
  add("u", "p1", "purchase", t + 20);
  add("u", "p0", "view", t + 30);
  add("u", "p1", "click", t + 48 * 3600);
  add("v", "p0", "view", t - 100);
  add("v", "p1", "click", t + 5);
  add("v", "p3", "click", t + 30 * 3600);
  EXPECT_TRUE(db->RecordEvents({}, events).ok());
  auto shown = [&](const std::string& user, std::vector<std::string> list, int64_t ts,
                   std::vector<double> p) {
    ImpressionContext ic;
    ic.timestamp = ts;
    if (with_propensities) ic.propensities = std::move(p);
    EXPECT_TRUE(db->RecordImpressions({}, user, list, ic).ok());
  };
  shown("u", {"p0", "p1"}, t, {0.5, 0.25});
  shown("u", {"p9"}, t + 36 * 3600, {1.0});
  shown("v", {"p1", "p3"}, t, {0.25, 0.5});
  shown("w", {"p0", "p1"}, t, {});
  TrainOptions to;
  to.learn_weights = false;
  EXPECT_TRUE(db->Train(to).ok());
  return db;
}

}  // namespace recdb::test
