#include "storage/id_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace recdb::storage {
namespace {

TEST(IdMapTest, FindsWhatWasInsertedAndNothingElse) {
  IdMap map;
  EXPECT_FALSE(map.Find("u1").has_value());
  for (uint32_t i = 0; i < 100000; ++i) map.Insert("user" + std::to_string(i), i);
  EXPECT_EQ(map.size(), 100000u);
  EXPECT_EQ(map.mapped(), 100000u);
  for (uint32_t i = 0; i < 100000; ++i) {
    ASSERT_EQ(map.Find("user" + std::to_string(i)), i);
    ASSERT_EQ(map.External(i), "user" + std::to_string(i));
  }
  for (uint32_t i = 100000; i < 110000; ++i) ASSERT_FALSE(map.Find("user" + std::to_string(i)));
  EXPECT_FALSE(map.Find(""));
  EXPECT_EQ(map.External(100000), "");
}

// Random inserts (out of order, as at open), erases and lookups against a
// std::unordered_map; long ids exercise heap strings, erases tombstones.
TEST(IdMapTest, AgreesWithUnorderedMapUnderRandomInsertsAndErases) {
  std::mt19937_64 rng(3);
  IdMap map;
  map.Reserve(100);
  std::unordered_map<std::string, uint32_t> ref;
  std::vector<std::string> ids;
  for (uint32_t i = 0; i < 20000; ++i) {
    ids.push_back((rng() % 2 ? "a-rather-long-external-id-" : "i") + std::to_string(rng()));
  }
  std::vector<uint32_t> order(ids.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (uint32_t iid : order) {
    if (ref.count(ids[iid])) continue;  // a duplicate random id
    map.Insert(ids[iid], iid);
    ref[ids[iid]] = iid;
    if (rng() % 4 == 0) {  // forget a random mapped id
      const uint32_t victim = order[rng() % order.size()];
      auto it = ref.find(ids[victim]);
      if (it != ref.end() && it->second == victim) {
        map.Erase(victim);
        ref.erase(it);
        EXPECT_EQ(map.External(victim), "");
      }
    }
  }
  EXPECT_EQ(map.mapped(), ref.size());
  for (uint32_t iid = 0; iid < ids.size(); ++iid) {
    auto it = ref.find(ids[iid]);
    auto found = map.Find(ids[iid]);
    if (it == ref.end()) {
      ASSERT_FALSE(found.has_value()) << ids[iid];
    } else {
      ASSERT_EQ(found, it->second) << ids[iid];
    }
  }
}

TEST(IdMapTest, ErasedSlotsAreNotReusedAndLaterIdsStayFindable) {
  IdMap map;
  for (uint32_t i = 0; i < 1000; ++i) map.Insert("x" + std::to_string(i), i);
  for (uint32_t i = 0; i < 1000; i += 2) map.Erase(i);
  map.Erase(5000);  // beyond size(): ignored
  EXPECT_EQ(map.mapped(), 500u);
  EXPECT_EQ(map.size(), 1000u);
  for (uint32_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(map.Find("x" + std::to_string(i)).has_value(), i % 2 == 1) << i;
  }
  // Many more inserts after the erases (tombstones dropped at growth).
  for (uint32_t i = 1000; i < 50000; ++i) map.Insert("x" + std::to_string(i), i);
  for (uint32_t i = 1; i < 50000; i += 7) {
    EXPECT_EQ(map.Find("x" + std::to_string(i)).has_value(), i >= 1000 || i % 2 == 1) << i;
  }
}

}  // namespace
}  // namespace recdb::storage
