// Helpers shared by the DB tests (tests/engine/db_*_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "recdb/db.h"

namespace recdb::test {

inline Options CreateOptions() {
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  o.write_buffer_bytes = 4u << 20;
  o.block_cache_bytes = 8u << 20;
  return o;
}

inline std::unique_ptr<DB> OpenOrDie(const std::string& path, const Options& o = CreateOptions()) {
  auto db = DB::Open(o, path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

inline Event MakeEvent(std::string user, std::string item, std::string type, int64_t ts) {
  Event e;
  e.user = std::move(user);
  e.item = std::move(item);
  e.type = std::move(type);
  e.timestamp = ts;
  return e;
}

// The top `k` of `user`'s Recommend as (item, score) pairs; empty (and a
// test failure) when Recommend fails. For comparing two models' answers.
inline std::vector<std::pair<std::string, double>> TopScores(DB& db, const std::string& user,
                                                             size_t k = 5) {
  RecommendRequest r;
  r.user = user;
  r.k = k;
  auto res = db.Recommend(r);
  EXPECT_TRUE(res.ok()) << res.status().ToString();
  std::vector<std::pair<std::string, double>> out;
  if (res.ok()) {
    for (const auto& it : res->items) out.emplace_back(it.id, it.score);
  }
  return out;
}

inline std::vector<Item> AllItems(DB& db) {
  std::vector<Item> out;
  EXPECT_TRUE(db.ForEachItem([&](const Item& i) {
                  out.push_back(i);
                  return Status::OK();
                }).ok());
  return out;
}
inline std::vector<User> AllUsers(DB& db) {
  std::vector<User> out;
  EXPECT_TRUE(db.ForEachUser([&](const User& u) {
                  out.push_back(u);
                  return Status::OK();
                }).ok());
  return out;
}
inline std::vector<Event> AllEvents(DB& db) {
  std::vector<Event> out;
  EXPECT_TRUE(db.ForEachEvent([&](const Event& e) {
                  out.push_back(e);
                  return Status::OK();
                }).ok());
  return out;
}

}  // namespace recdb::test
