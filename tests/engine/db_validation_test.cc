// Every bad input is rejected whole: the status names the record index and
// field, and nothing of the batch is stored (checked after a reopen).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>

#include "db_test_util.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::AllEvents;
using test::AllItems;
using test::AllUsers;
using test::MakeEvent;
using test::OpenOrDie;

class DBValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenOrDie(dir_.path());
    ASSERT_TRUE(db_->RecordEvents({}, {MakeEvent("u0", "i0", "view", 100)}).ok());
  }

  // Expects `s` to be InvalidArgument mentioning `where`, then checks after a
  // reopen that the database still holds exactly the one setup event.
  void ExpectRejectedAndNothingWritten(const Status& s, const std::string& where) {
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find(where), std::string::npos) << s.message();
    db_.reset();
    db_ = OpenOrDie(dir_.path());
    auto st = db_->GetStats();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->users, 1);
    EXPECT_EQ(st->items, 1);
    EXPECT_EQ(st->events, 1);
    EXPECT_EQ(AllItems(*db_).size(), 1u);
    EXPECT_EQ(AllUsers(*db_).size(), 1u);
    EXPECT_EQ(AllEvents(*db_).size(), 1u);
    EXPECT_EQ(db_->GetItemCounts("i0")->total, 1);
  }

  // A valid batch of n events whose record `bad` is then broken by the caller.
  static std::vector<Event> Batch(size_t n) {
    std::vector<Event> b;
    for (size_t i = 0; i < n; ++i) {
      b.push_back(MakeEvent("nu" + std::to_string(i), "ni" + std::to_string(i), "view", 200));
    }
    return b;
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBValidationTest, EmptyUserId) {
  auto b = Batch(5);
  b[3].user = "";
  ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[3].user");
}

TEST_F(DBValidationTest, OversizeItemId) {
  auto b = Batch(5);
  b[4].item = std::string(kMaxIdBytes + 1, 'x');
  ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[4].item");
}

TEST_F(DBValidationTest, UnknownEventType) {
  auto b = Batch(5);
  b[2].type = "teleport";
  ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[2].type");
}

TEST_F(DBValidationTest, NonFiniteValues) {
  for (double v : {std::nan(""), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    auto b = Batch(3);
    b[1].value = v;
    b[1].has_value = true;
    ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[1].value");
  }
}

TEST_F(DBValidationTest, TimestampsOutOfRange) {
  for (int64_t ts : {kMinTimestamp - 1, kMaxTimestamp + 1, std::numeric_limits<int64_t>::min()}) {
    auto b = Batch(3);
    b[2].timestamp = ts;
    ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[2].timestamp");
  }
  // The bounds themselves are valid.
  auto b = Batch(2);
  b[0].timestamp = kMinTimestamp;
  b[1].timestamp = kMaxTimestamp;
  EXPECT_TRUE(db_->RecordEvents({}, b).ok());
}

TEST_F(DBValidationTest, TooManyContextEntries) {
  auto b = Batch(2);
  for (size_t i = 0; i <= kMaxContextEntries; ++i) b[1].context["k" + std::to_string(i)] = "v";
  ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[1].context");
}

TEST_F(DBValidationTest, OversizeContextValue) {
  auto b = Batch(2);
  b[0].context["k"] = std::string(kMaxAttributeValueBytes + 1, 'v');
  ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[0].context");
}

TEST_F(DBValidationTest, BatchTooLarge) {
  std::vector<Event> b(kMaxBatchSize + 1, MakeEvent("u", "i", "view", 1));
  ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "kMaxBatchSize");
}

TEST_F(DBValidationTest, ItemFields) {
  Item ok;
  ok.id = "good";
  {
    std::vector<Item> items(3, ok);
    items[2].id = "";
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[2].id");
  }
  {
    std::vector<Item> items(3, ok);
    items[1].title = std::string(kMaxTextBytes + 1, 't');
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[1].title");
  }
  {
    std::vector<Item> items(3, ok);
    items[1].description = std::string(kMaxTextBytes + 1, 'd');
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[1].description");
  }
  {
    std::vector<Item> items(2, ok);
    items[0].categories.assign(kMaxCategories + 1, "c");
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[0].categories");
  }
  {
    std::vector<Item> items(2, ok);
    items[1].attributes["score"] = std::nan("");
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[1].attributes");
  }
  {
    std::vector<Item> items(2, ok);
    for (size_t i = 0; i <= kMaxAttributes; ++i)
      items[1].attributes["a" + std::to_string(i)] = true;
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[1].attributes");
  }
  {
    std::vector<Item> items(2, ok);
    items[1].attributes["tags"] = std::vector<std::string>(kMaxListElements + 1, "x");
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[1].attributes");
  }
  {
    std::vector<Item> items(2, ok);
    items[1].attributes[std::string(kMaxAttributeKeyBytes + 1, 'k')] = true;
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[1].attributes");
  }
  {
    std::vector<Item> items(2, ok);
    items[0].created_at = kMinCreatedAt - 1;
    ExpectRejectedAndNothingWritten(db_->UpsertItems({}, items), "items[0].created_at");
  }
  {
    // Items may predate 1970 (issue 19 #15), down to year 1.
    std::vector<Item> items(2, ok);
    items[0].id = "nosferatu";
    items[0].created_at = -1514764800;
    items[1].created_at = kMinCreatedAt;
    ASSERT_TRUE(db_->UpsertItems({}, items).ok());
    auto back = db_->GetItem("nosferatu");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->created_at, -1514764800);
  }
}

TEST_F(DBValidationTest, UserFields) {
  User ok;
  ok.id = "good";
  {
    std::vector<User> users(2, ok);
    users[1].id = std::string(kMaxIdBytes + 1, 'u');
    ExpectRejectedAndNothingWritten(db_->UpsertUsers({}, users), "users[1].id");
  }
  {
    std::vector<User> users(2, ok);
    users[0].attributes["bio"] = std::string(kMaxAttributeValueBytes + 1, 'b');
    ExpectRejectedAndNothingWritten(db_->UpsertUsers({}, users), "users[0].attributes");
  }
}

TEST_F(DBValidationTest, AutoCreateOffNothingWritten) {
  db_.reset();
  Options o = test::CreateOptions();
  o.auto_create_items = false;
  db_ = OpenOrDie(dir_.path(), o);
  // Record 0 is valid and would create a user; record 1 names an unknown item.
  std::vector<Event> b = {MakeEvent("new_user", "i0", "view", 5),
                          MakeEvent("u0", "unknown", "view", 5)};
  ExpectRejectedAndNothingWritten(db_->RecordEvents({}, b), "events[1].item");
}

// A bad Options field fails Open with InvalidArgument naming the field,
// before anything is created on disk.
TEST(OptionsValidationTest, BadOptionIsRejectedBeforeTheDirectoryIsCreated) {
  struct Case {
    const char* field;
    std::function<void(Options*)> set;
  };
  const std::vector<Case> cases = {
      {"background_threads", [](Options* o) { o->background_threads = -1; }},
      {"background_threads", [](Options* o) { o->background_threads = 5000; }},
      {"retrain_interval_seconds", [](Options* o) { o->retrain_interval_seconds = -5; }},
      {"index_checkpoint_interval_seconds",
       [](Options* o) { o->index_checkpoint_interval_seconds = -1; }},
      {"diversity", [](Options* o) { o->care.diversity = 1.5; }},
      {"candidate_factor", [](Options* o) { o->care.candidate_factor = 0; }},
      {"popularity_epsilon",
       [](Options* o) { o->aggregate_privacy.popularity_epsilon = std::nan(""); }},
      {"min_pair_users", [](Options* o) { o->aggregate_privacy.min_pair_users = 0; }},
  };
  for (const Case& c : cases) {
    test::TempDir dir;
    Options o = test::CreateOptions();
    c.set(&o);
    const std::string path = dir.path() + "/new";
    auto db = DB::Open(o, path);
    ASSERT_FALSE(db.ok()) << c.field;
    EXPECT_TRUE(db.status().IsInvalidArgument()) << c.field << ": " << db.status().ToString();
    EXPECT_NE(db.status().message().find(c.field), std::string::npos) << db.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(path)) << c.field;
  }
  // The defaults, and the edges of each range, open.
  test::TempDir dir;
  Options o = test::CreateOptions();
  o.background_threads = 0;
  o.care.diversity = 1.0;
  o.aggregate_privacy.min_pair_users = 1;
  auto db = DB::Open(o, dir.path());
  EXPECT_TRUE(db.ok()) << db.status().ToString();
}

}  // namespace
}  // namespace recdb
