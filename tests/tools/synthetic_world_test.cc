#include "tools/import/synthetic_world.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tools/import/record.h"

namespace recdb::tools {
namespace {

SyntheticWorldOptions Small(uint64_t seed = 7) {
  SyntheticWorldOptions o;
  o.seed = seed;
  o.users = 200;
  o.items = 150;
  o.events = 5000;
  return o;
}

TEST(SyntheticWorldTest, DeterministicUnderASeed) {
  SyntheticWorld a(Small()), b(Small()), c(Small(8));
  EXPECT_EQ(a.ItemAt(17), b.ItemAt(17));
  EXPECT_EQ(a.UserAt(5), b.UserAt(5));
  EXPECT_EQ(a.UserEvents(3), b.UserEvents(3));
  bool differs = false;
  for (int64_t u = 0; u < 20 && !differs; ++u) differs = a.UserEvents(u) != c.UserEvents(u);
  EXPECT_TRUE(differs);
}

TEST(SyntheticWorldTest, HitsTheEventCountExactlyWithValidRecords) {
  SyntheticWorld w(Small());
  int64_t n = 0;
  std::set<std::string> types(SyntheticWorld::EventTypes().begin(),
                              SyntheticWorld::EventTypes().end());
  std::map<std::string, int64_t> per_item;
  ASSERT_TRUE(w.ForEachEvent([&](const Event& e) {
                 ++n;
                 EXPECT_TRUE(types.count(e.type)) << e.type;
                 EXPECT_TRUE(ValidateEvent(e).ok());
                 EXPECT_EQ(e.has_value, e.type == "rating");
                 if (e.has_value) {
                   EXPECT_GE(e.value, 1.0);
                   EXPECT_LE(e.value, 5.0);
                 }
                 EXPECT_TRUE(e.context.count("session") && e.context.count("device"));
                 ++per_item[e.item];
                 return Status::OK();
               }).ok());
  EXPECT_EQ(n, 5000);
  for (int64_t i = 0; i < w.num_items(); ++i) {
    Item item = w.ItemAt(i);
    EXPECT_TRUE(ValidateItem(item).ok());
    EXPECT_FALSE(item.title.empty());
    EXPECT_FALSE(item.categories.empty());
  }
  // Power-law popularity: the top item has far more events than the median.
  std::vector<int64_t> counts;
  for (const auto& [_, c] : per_item) counts.push_back(c);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_GT(counts.front(), 10 * counts[counts.size() / 2]);
}

TEST(SyntheticWorldTest, HistoriesAreInTimeOrderWithinThePeriod) {
  SyntheticWorld w(Small());
  for (int64_t u = 0; u < w.num_users(); ++u) {
    auto events = w.UserEvents(u);
    for (size_t i = 1; i < events.size(); ++i) {
      ASSERT_LE(events[i - 1].timestamp, events[i].timestamp);
    }
    for (const auto& e : events) {
      EXPECT_GE(e.timestamp, w.options().start_ts);
      EXPECT_LT(e.timestamp, w.options().start_ts + (w.options().days + 5) * 86400);
    }
  }
}

TEST(SyntheticWorldTest, TastesDrift) {
  SyntheticWorld w(Small());
  int drifted = 0;
  for (int64_t u = 0; u < 50; ++u) {
    auto start = w.UserTaste(u, w.options().start_ts);
    auto end = w.UserTaste(u, w.options().start_ts + w.options().days * 86400);
    double diff = 0;
    for (size_t c = 0; c < start.size(); ++c) diff += std::abs(start[c] - end[c]);
    drifted += diff > 0.2;
  }
  EXPECT_GT(drifted, 25);
}

// LoadSyntheticWorld writes every record once, in batches of the size asked
// (the last one short), users only when asked, and stops at the first error.
TEST(SyntheticWorldTest, LoadsIntoADatabaseInBatches) {
  test::TempDir dir;
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  SyntheticWorldOptions wo = Small();
  wo.users = 20;
  wo.items = 15;
  wo.events = 300;
  const SyntheticWorld world(wo);
  for (bool users : {false, true}) {
    SCOPED_TRACE(users ? "with users" : "without users");
    auto db = DB::Open(o, dir.Sub(users ? "with" : "without"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    std::map<std::string, std::vector<int64_t>> calls;
    LoadWorldOptions lo;
    lo.batch_size = 7;
    lo.users = users;
    lo.on_batch = [&](const char* kind, int64_t done, int64_t total) {
      calls[kind].push_back(done);
      EXPECT_LE(done, total);
    };
    Status s = LoadSyntheticWorld(db->get(), world, lo);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(calls["items"], (std::vector<int64_t>{7, 14, 15}));
    EXPECT_EQ(calls["events"].size(), 43u);  // 42 full batches of 7, then 6
    EXPECT_EQ(calls["events"].back(), 300);
    EXPECT_EQ(calls.count("users"), users ? 1u : 0u);
    auto stats = (*db)->GetStats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->items, 15);
    EXPECT_EQ(stats->events, 300);
    EXPECT_EQ(stats->users, 20);  // the events name every user (Small's quota)
    ASSERT_TRUE((*db)->Close().ok());
  }
  // A closed database refuses the first batch: the error comes back.
  auto db = DB::Open(o, dir.Sub("closed"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Close().ok());
  EXPECT_FALSE(LoadSyntheticWorld(db->get(), world).ok());
}

}  // namespace
}  // namespace recdb::tools
