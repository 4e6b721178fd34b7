// A small two-taste world for the care tests (impressions, explanations):
// 20 items in categories A and B (a0..a9, b0..b9), 40 users who each view 6
// items of one cluster; the item a9/b9 of each cluster is also in "Rare".
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "db_test_util.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb::test {

inline std::unique_ptr<DB> OpenCareWorld(const std::string& path, Options o = {}) {
  o.create_if_missing = true;
  o.background_threads = 0;
  auto db = OpenOrDie(path, o);
  if (!db) return nullptr;
  std::vector<Item> items;
  for (int i = 0; i < 20; ++i) {
    Item it;
    it.id = (i < 10 ? "a" : "b") + std::to_string(i % 10);
    it.title = (i < 10 ? "Alpha " : "Beta ") + std::to_string(i % 10);
    it.categories = {i < 10 ? "A" : "B"};
    if (i % 10 == 9) it.categories.push_back("Rare");
    items.push_back(it);
  }
  EXPECT_TRUE(db->UpsertItems({}, items).ok());
  std::vector<Event> events;
  for (int u = 0; u < 40; ++u) {
    const char* c = u < 20 ? "a" : "b";
    for (int j = 0; j < 6; ++j) {
      events.push_back(MakeEvent("u" + std::to_string(u), c + std::to_string((u + j) % 10), "view",
                                 1700000000 + u * 100 + j));
    }
  }
  EXPECT_TRUE(db->RecordEvents({}, events).ok());
  EXPECT_TRUE(db->Train().ok());
  return db;
}

}  // namespace recdb::test
