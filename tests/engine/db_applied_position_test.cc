// WriteOptions::applied_position_* and DB::GetAppliedPosition: the position
// of an external log committed in the same atomic write as the records.
#include <gtest/gtest.h>

#include "db_test_util.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::MakeEvent;
using test::OpenOrDie;

WriteOptions At(const std::string& value) {
  WriteOptions wo;
  wo.applied_position_key = "log";
  wo.applied_position_value = value;
  return wo;
}

TEST(DBAppliedPositionTest, AbsentUntilWritten) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  EXPECT_TRUE(db->GetAppliedPosition("log").status().IsNotFound());
  EXPECT_TRUE(db->GetAppliedPosition("").status().IsInvalidArgument());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("u", "i", "view", 10)}).ok());
  EXPECT_TRUE(db->GetAppliedPosition("log").status().IsNotFound());
}

TEST(DBAppliedPositionTest, StoredWithEventsAndSurvivesReopen) {
  test::TempDir dir;
  {
    auto db = OpenOrDie(dir.Sub("db"));
    ASSERT_TRUE(db->RecordEvents(At("7"), {MakeEvent("u", "i", "view", 10)}).ok());
    EXPECT_EQ(db->GetAppliedPosition("log").value(), "7");
    ASSERT_TRUE(db->RecordEvents(At("9"), {MakeEvent("u", "j", "view", 11)}).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = OpenOrDie(dir.Sub("db"));
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "9");
  EXPECT_EQ(db->GetStats().value().events, 2);
}

TEST(DBAppliedPositionTest, EmptyBatchWritesOnlyThePosition) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  ASSERT_TRUE(db->RecordEvents(At("3"), {}).ok());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "3");
  EXPECT_EQ(db->GetStats().value().events, 0);
}

TEST(DBAppliedPositionTest, RejectedBatchLeavesThePosition) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  ASSERT_TRUE(db->RecordEvents(At("1"), {MakeEvent("u", "i", "view", 10)}).ok());
  Status s = db->RecordEvents(At("2"), {MakeEvent("u", "i", "no_such_type", 10)});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "1");
  WriteOptions bad;
  bad.applied_position_key = std::string(kMaxIdBytes + 1, 'k');
  EXPECT_TRUE(db->RecordEvents(bad, {MakeEvent("u", "i", "view", 10)}).IsInvalidArgument());
  bad = WriteOptions();
  bad.applied_position_value = "x";
  EXPECT_TRUE(db->RecordEvents(bad, {}).IsInvalidArgument());
  EXPECT_EQ(db->GetStats().value().events, 1);
}

TEST(DBAppliedPositionTest, KeysAreIndependent) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  WriteOptions a = At("5");
  WriteOptions b = At("6");
  b.applied_position_key = "other";
  ASSERT_TRUE(db->RecordEvents(a, {MakeEvent("u", "i", "view", 10)}).ok());
  ASSERT_TRUE(db->RecordEvents(b, {MakeEvent("v", "i", "view", 10)}).ok());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "5");
  EXPECT_EQ(db->GetAppliedPosition("other").value(), "6");
}

// Item and user upserts and impressions commit the position with their
// records (a replicated log carries them too: cluster/README.md); a refused
// write leaves it; an impression consent does not store still moves it.
TEST(DBAppliedPositionTest, UpsertsAndImpressionsCommitThePosition) {
  test::TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  Item item;
  item.id = "i";
  item.title = "Eye";
  ASSERT_TRUE(db->UpsertItems(At("1"), {item}).ok());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "1");
  Item bad_item = item;
  bad_item.categories.assign(kMaxCategories + 1, "c");
  EXPECT_TRUE(db->UpsertItems(At("2"), {bad_item}).IsInvalidArgument());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "1");
  User user;
  user.id = "u";
  user.attributes["plan"] = std::string("gold");
  ASSERT_TRUE(db->UpsertUsers(At("3"), {user}).ok());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "3");
  ImpressionContext ctx;
  ctx.timestamp = 100;
  ctx.context["surface"] = "home";
  ctx.propensities = {0.5};
  ASSERT_TRUE(db->RecordImpressions(At("4"), "u", {"i"}, ctx).ok());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "4");
  EXPECT_TRUE(db->RecordImpressions(At("5"), "u", {"nope"}, ctx).IsInvalidArgument());
  EXPECT_TRUE(db->RecordImpressions(At("5"), "nobody", {"i"}, ctx).IsNotFound());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "4");
  WriteOptions bad;
  bad.applied_position_value = "x";  // a value without a key
  EXPECT_TRUE(db->UpsertItems(bad, {item}).IsInvalidArgument());
  EXPECT_TRUE(db->UpsertUsers(bad, {user}).IsInvalidArgument());
  EXPECT_TRUE(db->RecordImpressions(bad, "u", {"i"}, ctx).IsInvalidArgument());
  // Consent that stores no events stores no impression, yet the position moves.
  user.consent.store_events = false;
  ASSERT_TRUE(db->UpsertUsers(At("6"), {user}).ok());
  ASSERT_TRUE(db->RecordImpressions(At("7"), "u", {"i"}, ctx).ok());
  EXPECT_EQ(db->GetAppliedPosition("log").value(), "7");
  // GetUserImpressions reads back the one stored list.
  auto shown = db->GetUserImpressions("u");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  ASSERT_EQ(shown->size(), 1u);
  EXPECT_EQ((*shown)[0].items, std::vector<std::string>{"i"});
  EXPECT_EQ((*shown)[0].context.timestamp, 100);
  EXPECT_EQ((*shown)[0].context.context, ctx.context);
  EXPECT_EQ((*shown)[0].context.propensities, ctx.propensities);
  EXPECT_TRUE(db->GetUserImpressions("nobody").status().IsNotFound());
  EXPECT_EQ(db->GetItem("i").value(), item);
}

}  // namespace
}  // namespace recdb
