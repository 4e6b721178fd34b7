// WriteOptions::applied_position_* and DB::GetAppliedPosition: the position
// of an external log committed in the same atomic write as the events.
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

}  // namespace
}  // namespace recdb
