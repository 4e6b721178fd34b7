// Cold items (engine/rerank/cold_items.h): an item without events is in no
// recommender's pool, yet exploration shows it, within its share of slots,
// deterministically under a seed. And rotation with the database's default
// care moves a daily list's unengaged items out after three days.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "care_test_world.h"
#include "engine/catalog/item_catalog.h"
#include "engine/rerank/cold_items.h"

namespace recdb {
namespace {

constexpr int64_t kT0 = 1800000000;

// The care world, plus items with no events at all, created at kT0.
class ColdExplorationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::OpenCareWorld(dir_.path());
    ASSERT_NE(db_, nullptr);
    std::vector<Item> fresh;
    for (const char* id : {"n0", "n1"}) {
      Item it;
      it.id = id;
      it.title = id;
      it.categories = {"A"};
      it.created_at = kT0;
      fresh.push_back(it);
    }
    ASSERT_TRUE(db_->UpsertItems({}, fresh).ok());
  }
  // Every old item shown once, so that with exploration_max_impressions 1
  // only the new items are under-exposed.
  void ExposeOldItems() {
    std::vector<std::string> old;
    for (int i = 0; i < 10; ++i) old.push_back("a" + std::to_string(i)), old.push_back("b" + std::to_string(i));
    ImpressionContext ctx;
    ctx.timestamp = kT0 - 86400 * 30;  // outside any rotation window
    ASSERT_TRUE(db_->RecordImpressions({}, "u39", old, ctx).ok());
  }
  RecommendResponse Ask(const std::string& user, double exploration, uint64_t seed,
                        std::vector<std::string> exclude = {}) {
    RecommendRequest r;
    r.user = user;
    r.k = 4;
    r.now = kT0 + 3600;
    r.exclude_ids = std::move(exclude);
    r.care = CareOptions{};
    r.care->exploration = exploration;
    r.care->exploration_seed = seed;
    r.care->exploration_max_impressions = 1;
    auto res = db_->Recommend(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : RecommendResponse{};
  }
  static std::vector<std::string> Ids(const RecommendResponse& r) {
    std::vector<std::string> out;
    for (const auto& x : r.items) out.push_back(x.id);
    return out;
  }
  static bool IsNew(const std::string& id) { return id == "n0" || id == "n1"; }
  test::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(ColdExplorationTest, AnItemWithoutEventsIsShownOnlyThroughExploration) {
  // Without exploration nobody is shown a new item.
  for (int u = 0; u < 40; ++u) {
    for (const auto& id : Ids(Ask("u" + std::to_string(u), 0, 1))) {
      EXPECT_FALSE(IsNew(id)) << "u" << u;
    }
  }
  ExposeOldItems();
  // exploration 0.25 at k 4: one slot per list; the new items are the only
  // under-exposed ones, so every list holds exactly one, in its last slot.
  std::map<std::string, int> times;
  for (int u = 0; u < 40; ++u) {
    RecommendResponse r = Ask("u" + std::to_string(u), 0.25, 1);
    ASSERT_EQ(r.items.size(), 4u);
    int fresh = 0;
    for (const auto& x : r.items) fresh += IsNew(x.id) ? 1 : 0;
    EXPECT_EQ(fresh, 1) << "u" << u;
    const Recommendation& last = r.items.back();
    ASSERT_TRUE(IsNew(last.id)) << "u" << u;
    ++times[last.id];
    EXPECT_TRUE(last.contributions.empty()) << "no recommender scored it";
    bool explored = false;
    for (const auto& e : last.explanation.evidence) explored = explored || e.kind == "exploration";
    EXPECT_TRUE(explored);
  }
  EXPECT_GT(times["n0"], 0);
  EXPECT_GT(times["n1"], 0);
  // The request's exclusions hold for cold items.
  for (const auto& id : Ids(Ask("u5", 0.5, 1, {"n0", "n1"}))) EXPECT_FALSE(IsNew(id));
}

TEST_F(ColdExplorationTest, ColdExplorationIsDeterministicUnderASeed) {
  ExposeOldItems();
  std::vector<std::vector<std::string>> a, b, c;
  for (int u = 0; u < 40; ++u) {
    a.push_back(Ids(Ask("u" + std::to_string(u), 0.25, 7)));
    b.push_back(Ids(Ask("u" + std::to_string(u), 0.25, 7)));
    c.push_back(Ids(Ask("u" + std::to_string(u), 0.25, 8)));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c) << "another seed explores other items for some user";
}

TEST_F(ColdExplorationTest, ExposedColdItemsLeaveTheExploration) {
  ExposeOldItems();
  ImpressionContext ctx;
  ctx.timestamp = kT0 - 86400 * 30;
  ASSERT_TRUE(db_->RecordImpressions({}, "u39", {"n0"}, ctx).ok());  // n0 reaches the cap
  for (int u = 0; u < 40; ++u) {
    for (const auto& id : Ids(Ask("u" + std::to_string(u), 0.25, 1))) EXPECT_NE(id, "n0");
  }
}

TEST(ColdItemsTest, SampleOffersEveryColdItemOnceInASeededOrder) {
  ItemCatalog catalog;
  // Items 0..9 of a model: 2 and 5 without interactions; 7 created recently.
  std::vector<float> popularity(10, 3.0f);
  popularity[2] = popularity[5] = 0;
  for (uint32_t i = 0; i < 12; ++i) {
    Item it;
    it.id = "i" + std::to_string(i);
    it.created_at = i == 7 ? kT0 - 3600 : kT0 - 400 * 86400;
    catalog.Upsert(i, it);
  }
  const rerank::ColdItems cold = rerank::ColdItems::Build(popularity, catalog);
  EXPECT_EQ(cold.num_without_interactions(), 2u);
  auto all = [](uint32_t) { return true; };
  // 10 and 11 are newer than the model.
  auto got = cold.Sample(12, kT0, 100, 1, all);
  EXPECT_EQ(std::set<uint32_t>(got.begin(), got.end()), (std::set<uint32_t>{2, 5, 7, 10, 11}));
  EXPECT_EQ(got.size(), 5u) << "each once";
  // A month later item 7 is no longer new.
  got = cold.Sample(12, kT0 + 30 * 86400, 100, 1, all);
  EXPECT_EQ(std::set<uint32_t>(got.begin(), got.end()), (std::set<uint32_t>{2, 5, 10, 11}));
  // Bounded, filtered, seeded.
  EXPECT_EQ(cold.Sample(12, kT0, 2, 1, all).size(), 2u);
  got = cold.Sample(12, kT0, 100, 1, [](uint32_t i) { return i != 5; });
  EXPECT_EQ(std::count(got.begin(), got.end(), 5u), 0);
  EXPECT_EQ(cold.Sample(12, kT0, 2, 9, all), cold.Sample(12, kT0, 2, 9, all));
  std::set<std::vector<uint32_t>> firsts;
  for (uint64_t seed = 0; seed < 20; ++seed) firsts.insert(cold.Sample(12, kT0, 2, seed, all));
  EXPECT_GT(firsts.size(), 3u) << "the seed changes which items are offered";
}

// The sim's daily serving (sim/README.md): one list a day, recorded as
// impressions at the request's time, nothing clicked. With the database's
// default care (no RecommendRequest::care) an item shown on three days is
// out on the fourth, and back once its first impression is 7 days old.
TEST(DefaultRotationTest, DailyListsDropUnengagedItemsAfterThreeDays) {
  test::TempDir dir;
  auto db = test::OpenCareWorld(dir.path());
  ASSERT_NE(db, nullptr);
  // A Monday: days 0-4 and 7 are weekdays, so time context cannot reorder them.
  constexpr int64_t kMonday = kT0 + 3 * 86400;
  std::vector<std::vector<std::string>> lists;
  for (int day = 0; day < 9; ++day) {
    RecommendRequest r;
    r.user = "u3";
    r.k = 2;
    r.now = kMonday + day * 86400;
    auto res = db->Recommend(r);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    std::vector<std::string> ids;
    for (const auto& x : res->items) ids.push_back(x.id);
    lists.push_back(ids);
    ImpressionContext ctx;
    ctx.timestamp = r.now;
    ASSERT_TRUE(db->RecordImpressions({}, "u3", ids, ctx).ok());
  }
  EXPECT_EQ(lists[1], lists[0]);
  EXPECT_EQ(lists[2], lists[0]);
  for (const auto& id : lists[0]) {
    for (int day = 3; day < 7; ++day) {
      EXPECT_EQ(std::count(lists[day].begin(), lists[day].end(), id), 0)
          << id << " shown on days 0-2, listed again on day " << day;
    }
  }
  // Every day: no listed item was shown on 3 of the previous 6 days (all
  // within the 7-day window, none engaged).
  for (int day = 0; day < 9; ++day) {
    for (const auto& id : lists[day]) {
      int shown = 0;
      for (int d = std::max(0, day - 6); d < day; ++d) {
        shown += static_cast<int>(std::count(lists[d].begin(), lists[d].end(), id));
      }
      EXPECT_LT(shown, 3) << id << " on day " << day;
    }
  }
  // Day 7: the day-0 impression is a full period old (the window is
  // (now - 7 days, now]), so the day-0 list's items are back.
  EXPECT_EQ(lists[7], lists[0]);
}

}  // namespace
}  // namespace recdb
