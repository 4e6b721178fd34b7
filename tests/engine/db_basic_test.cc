// DB open/write/read/reopen behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "db_test_util.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::AllEvents;
using test::AllItems;
using test::AllUsers;
using test::CreateOptions;
using test::MakeEvent;
using test::OpenOrDie;

Item MakeItem(const std::string& id, const std::string& title) {
  Item it;
  it.id = id;
  it.title = title;
  it.description = "about " + title;
  it.categories = {"Drama", "Comedy"};
  it.creator = "studio";
  it.created_at = 1000;
  it.attributes["year"] = 1999.0;
  it.attributes["tags"] = std::vector<std::string>{"a", "b"};
  it.attributes["kids"] = true;
  it.attributes["lang"] = std::string("en");
  return it;
}

TEST(DBTest, OpenCreatesLayoutAndDefaultEventTypes) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.Sub("x"));
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("x/db/CURRENT")));
  EXPECT_TRUE(std::filesystem::is_directory(dir.Sub("x/derived")));
  auto types = db->ListEventTypes();
  ASSERT_TRUE(types.ok());
  std::vector<EventType> want = {{"view", 1},     {"click", 1},  {"like", 2},    {"add_to_cart", 3},
                                 {"purchase", 5}, {"rating", 1}, {"dislike", -1}};
  EXPECT_EQ(*types, want);
  auto stats = db->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->users, 0);
  EXPECT_EQ(stats->items, 0);
  EXPECT_EQ(stats->events, 0);
  EXPECT_EQ(stats->event_types, 7);
}

TEST(DBTest, OpenErrors) {
  test::TempDir dir;
  EXPECT_TRUE(DB::Open(Options{}, dir.Sub("none")).status().IsNotFound());
  { auto db = OpenOrDie(dir.Sub("x")); }
  Options o = CreateOptions();
  o.error_if_exists = true;
  EXPECT_EQ(DB::Open(o, dir.Sub("x")).status().code(), StatusCode::kAlreadyExists);
  auto first = OpenOrDie(dir.Sub("x"));
  EXPECT_TRUE(DB::Open(CreateOptions(), dir.Sub("x")).status().IsIOError());  // LOCK held
}

TEST(DBTest, CloseThenCallsFail) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.path());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_EQ(db->Close().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->GetStats().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->RecordEvents({}, {MakeEvent("u", "i", "view", 1)}).code(),
            StatusCode::kFailedPrecondition);
}

TEST(DBTest, ItemsAndUsersRoundTripAndUpsertReplaces) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.path());
  ASSERT_TRUE(db->UpsertItems({}, {MakeItem("a", "Alpha"), MakeItem("b", "Beta")}).ok());
  EXPECT_EQ(*db->GetItem("a"), MakeItem("a", "Alpha"));
  EXPECT_TRUE(db->GetItem("zzz").status().IsNotFound());
  Item a2 = MakeItem("a", "Alpha 2");
  a2.available = false;
  a2.attributes.clear();
  // A later record with the same id in one batch wins.
  ASSERT_TRUE(db->UpsertItems({}, {MakeItem("a", "ignored"), a2}).ok());
  EXPECT_EQ(*db->GetItem("a"), a2);
  EXPECT_EQ(db->GetStats()->items, 2);

  User u;
  u.id = "u1";
  u.attributes["age"] = 30.0;
  u.consent.training = false;
  ASSERT_TRUE(db->UpsertUsers({}, {u}).ok());
  EXPECT_EQ(*db->GetUser("u1"), u);
  EXPECT_TRUE(db->GetUser("u2").status().IsNotFound());
  EXPECT_EQ(db->GetStats()->users, 1);
}

TEST(DBTest, HistoryIsInTimeOrderAndRangeLimited) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.path());
  // Recorded out of time order, over several batches, with ties.
  std::vector<Event> b1 = {MakeEvent("u", "i3", "view", 300), MakeEvent("u", "i1", "view", 100),
                           MakeEvent("v", "i1", "click", 50)};
  std::vector<Event> b2 = {MakeEvent("u", "i2", "like", 200), MakeEvent("u", "i4", "view", 300)};
  b2[0].context = {{"device", "tv"}};
  b2[1].value = 2.5;
  b2[1].has_value = true;
  ASSERT_TRUE(db->RecordEvents({}, b1).ok());
  ASSERT_TRUE(db->RecordEvents({}, b2).ok());
  auto h = db->GetUserHistory("u");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].item, "i1");
  EXPECT_EQ((*h)[1].item, "i2");
  EXPECT_EQ((*h)[1].type, "like");
  EXPECT_EQ((*h)[1].context.at("device"), "tv");
  EXPECT_EQ((*h)[2].item, "i3");  // tie at 300: recording order
  EXPECT_EQ((*h)[3].item, "i4");
  EXPECT_TRUE((*h)[3].has_value);
  EXPECT_EQ((*h)[3].value, 2.5);
  EXPECT_EQ((*h)[3].user, "u");
  auto r = db->GetUserHistory("u", HistoryRange{150, 300, 0});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].item, "i2");
  auto lim = db->GetUserHistory("u", HistoryRange{0, 1000, 2});
  ASSERT_EQ(lim->size(), 2u);
  EXPECT_EQ((*lim)[1].item, "i2");
  EXPECT_TRUE(db->GetUserHistory("nobody").status().IsNotFound());
  // Auto-created users and items exist with defaults.
  EXPECT_EQ(db->GetUser("v")->consent, Consent{});
  EXPECT_EQ(db->GetItem("i4")->title, "");
  EXPECT_TRUE(db->GetItem("i4")->available);
  auto st = db->GetStats();
  EXPECT_EQ(st->users, 2);
  EXPECT_EQ(st->items, 4);
  EXPECT_EQ(st->events, 5);
}

TEST(DBTest, ItemCountsByTypeAndDay) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.path());
  const int64_t day = 86400;
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("u1", "i", "view", 10 * day + 5),
                                    MakeEvent("u2", "i", "view", 10 * day + 50),
                                    MakeEvent("u1", "i", "purchase", 11 * day),
                                    MakeEvent("u1", "j", "view", 10 * day)})
                  .ok());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("u3", "i", "view", 12 * day)}).ok());
  auto c = db->GetItemCounts("i");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->item, "i");
  EXPECT_EQ(c->total, 4);
  EXPECT_EQ(c->by_type.at("view"), 3);
  EXPECT_EQ(c->by_type.at("purchase"), 1);
  EXPECT_EQ(c->by_day.at(10).at("view"), 2);
  EXPECT_EQ(c->by_day.at(11).at("purchase"), 1);
  EXPECT_EQ(c->by_day.at(12).at("view"), 1);
  EXPECT_EQ(c->by_day.size(), 3u);
  EXPECT_EQ(db->GetItemCounts("j")->total, 1);
  EXPECT_TRUE(db->GetItemCounts("nope").status().IsNotFound());
}

TEST(DBTest, ConsentStoreEventsFalseKeepsOnlyCounts) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.path());
  User u;
  u.id = "private";
  u.consent.store_events = false;
  ASSERT_TRUE(db->UpsertUsers({}, {u}).ok());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("private", "i", "view", 100),
                                    MakeEvent("public", "i", "view", 100)})
                  .ok());
  EXPECT_TRUE(db->GetUserHistory("private")->empty());
  EXPECT_EQ(db->GetUserHistory("public")->size(), 1u);
  EXPECT_EQ(db->GetItemCounts("i")->total, 2);
  EXPECT_EQ(db->GetStats()->events, 1);
  EXPECT_EQ(AllEvents(*db).size(), 1u);
  // Consent survives a reopen (it is loaded from the ids family).
  db.reset();
  db = OpenOrDie(dir.path());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("private", "i", "view", 200)}).ok());
  EXPECT_TRUE(db->GetUserHistory("private")->empty());
  EXPECT_EQ(db->GetItemCounts("i")->total, 3);
}

TEST(DBTest, AutoCreateOffRejectsUnknownIds) {
  test::TempDir dir;
  Options o = CreateOptions();
  o.auto_create_users = false;
  o.auto_create_items = false;
  auto db = OpenOrDie(dir.path(), o);
  Status s = db->RecordEvents({}, {MakeEvent("u", "i", "view", 1)});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("events[0].user"), std::string::npos) << s.message();
  ASSERT_TRUE(db->UpsertUsers({}, {User{"u", {}, {}}}).ok());
  s = db->RecordEvents({}, {MakeEvent("u", "i", "view", 1)});
  EXPECT_NE(s.message().find("events[0].item"), std::string::npos) << s.message();
  ASSERT_TRUE(db->UpsertItems({}, {MakeItem("i", "I")}).ok());
  EXPECT_TRUE(db->RecordEvents({}, {MakeEvent("u", "i", "view", 1)}).ok());
}

TEST(DBTest, RegisterEventTypes) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.path());
  ASSERT_TRUE(db->RegisterEventType({"share", 4}).ok());
  ASSERT_TRUE(db->RegisterEventType({"view", 0.5}).ok());  // updates the weight
  EXPECT_TRUE(db->RegisterEventType({"", 1}).IsInvalidArgument());
  EXPECT_TRUE(db->RegisterEventType({"x", std::nan("")}).IsInvalidArgument());
  auto types = *db->ListEventTypes();
  ASSERT_EQ(types.size(), 8u);
  EXPECT_EQ(types[0], (EventType{"view", 0.5}));
  EXPECT_EQ(types[7], (EventType{"share", 4}));
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("u", "i", "share", 1)}).ok());
  db.reset();
  db = OpenOrDie(dir.path());
  EXPECT_EQ(*db->ListEventTypes(), types);
  EXPECT_EQ(db->GetUserHistory("u")->at(0).type, "share");
  for (int i = 0; types.size() + i < kMaxEventTypes; ++i) {
    ASSERT_TRUE(db->RegisterEventType({"t" + std::to_string(i), 1}).ok());
  }
  EXPECT_EQ(db->RegisterEventType({"one_too_many", 1}).code(), StatusCode::kResourceExhausted);
}

// The restart test: everything read back after a reopen equals what was read
// before it.
TEST(DBTest, ReopenPreservesEverything) {
  test::TempDir dir;
  std::vector<Item> items;
  std::vector<User> users;
  std::vector<Event> events;
  std::map<std::string, std::vector<Event>> histories;
  std::map<std::string, ItemCounts> counts;
  DBStats stats;
  {
    auto db = OpenOrDie(dir.path());
    ASSERT_TRUE(db->UpsertItems({}, {MakeItem("m1", "One"), MakeItem("m2", "Two")}).ok());
    User u;
    u.id = "alice";
    u.attributes["country"] = std::string("fr");
    u.consent.personalization = false;
    ASSERT_TRUE(db->UpsertUsers({}, {u}).ok());
    std::vector<Event> batch;
    for (int i = 0; i < 200; ++i) {
      Event e = MakeEvent(i % 3 == 0 ? "alice" : "bob" + std::to_string(i % 5),
                          "m" + std::to_string(i % 7), i % 4 == 0 ? "purchase" : "view",
                          1700000000 + (i * 7919) % 100000);
      if (i % 5 == 0) {
        e.value = i / 10.0;
        e.has_value = true;
      }
      if (i % 6 == 0) e.context = {{"session", "s" + std::to_string(i)}};
      batch.push_back(e);
    }
    ASSERT_TRUE(db->RecordEvents({}, batch).ok());
    items = AllItems(*db);
    users = AllUsers(*db);
    events = AllEvents(*db);
    for (const User& x : users) histories[x.id] = *db->GetUserHistory(x.id);
    for (const Item& x : items) counts[x.id] = *db->GetItemCounts(x.id);
    stats = *db->GetStats();
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = OpenOrDie(dir.path());
  EXPECT_EQ(AllItems(*db), items);
  EXPECT_EQ(AllUsers(*db), users);
  EXPECT_EQ(AllEvents(*db), events);
  for (const User& x : users) EXPECT_EQ(*db->GetUserHistory(x.id), histories[x.id]);
  for (const Item& x : items) {
    ItemCounts c = *db->GetItemCounts(x.id);
    EXPECT_EQ(c.by_type, counts[x.id].by_type);
    EXPECT_EQ(c.by_day, counts[x.id].by_day);
    EXPECT_EQ(c.total, counts[x.id].total);
  }
  DBStats after = *db->GetStats();
  EXPECT_EQ(after.users, stats.users);
  EXPECT_EQ(after.items, stats.items);
  EXPECT_EQ(after.events, stats.events);
  EXPECT_EQ(after.events, 200);
  EXPECT_EQ(after.users, 6);
  EXPECT_EQ(after.items, 7);
  // Items and users scan in creation order.
  EXPECT_EQ(items[0].id, "m1");
  EXPECT_EQ(users[0].id, "alice");
  // New ids continue densely after a reopen.
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("carol", "m99", "view", 5)}).ok());
  EXPECT_EQ(AllUsers(*db).back().id, "carol");
  EXPECT_EQ(AllItems(*db).back().id, "m99");
}

TEST(DBTest, ReadOnlyOpenReadsButDoesNotWrite) {
  test::TempDir dir;
  {
    auto db = OpenOrDie(dir.path());
    ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("u", "i", "view", 1)}).ok());
  }
  Options o;
  o.read_only = true;
  auto db = OpenOrDie(dir.path(), o);
  EXPECT_EQ(db->GetUserHistory("u")->size(), 1u);
  EXPECT_EQ(db->RecordEvents({}, {MakeEvent("u", "i", "view", 2)}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(db->UpsertItems({}, {MakeItem("x", "x")}).code(), StatusCode::kFailedPrecondition);
}

TEST(DBTest, CallbackErrorStopsScan) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.path());
  ASSERT_TRUE(
      db->RecordEvents({}, {MakeEvent("u", "i", "view", 1), MakeEvent("u", "j", "view", 2)}).ok());
  int seen = 0;
  Status s = db->ForEachEvent([&](const Event&) {
    ++seen;
    return Status::Aborted("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace recdb
