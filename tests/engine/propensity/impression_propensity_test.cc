// Impressions keep their per-slot propensities (ImpressionContext::
// propensities, storage/schema/impressions.fbs), and a record without them
// -- as every record written before the field existed -- reads as unknown.
// White-box: recdb has no public read of impressions. Its own binary, so
// that it does not rebuild every engine test.
#include <gtest/gtest.h>

#include <limits>

#include "engine/db_impl/db_impl.h"
#include "engine/rerank/impression_log.h"
#include "test_util.h"

namespace recdb {
namespace {

Item MakeItem(const std::string& id) {
  Item item;
  item.id = id;
  return item;
}

User MakeUser(const std::string& id) {
  User user;
  user.id = id;
  return user;
}

// A fresh database with the items `ids` and the user "u".
std::unique_ptr<DB> OpenWithItems(const std::string& path, const std::vector<std::string>& ids) {
  Options opt;
  opt.create_if_missing = true;
  opt.background_threads = 0;
  auto db = DB::Open(opt, path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  std::vector<Item> items;
  for (const std::string& id : ids) items.push_back(MakeItem(id));
  EXPECT_TRUE((*db)->UpsertItems({}, items).ok());
  EXPECT_TRUE((*db)->UpsertUsers({}, {MakeUser("u")}).ok());
  return std::move(*db);
}

TEST(ImpressionPropensityTest, StoredPerSlotAndAbsentReadsAsUnknown) {
  test::TempDir dir;
  auto db = OpenWithItems(dir.Sub("db"), {"a", "b", "c"});
  ASSERT_NE(db, nullptr);
  ImpressionContext with;
  with.timestamp = 1000;
  with.propensities = {1.0, 0.5, 0.125};
  ASSERT_TRUE(db->RecordImpressions({}, "u", {"a", "b", "c"}, with).ok());
  ImpressionContext without;
  without.timestamp = 2000;
  ASSERT_TRUE(db->RecordImpressions({}, "u", {"c", "a"}, without).ok());

  auto* impl = static_cast<DBImpl*>(db.get());
  const auto iid = impl->FindUserIid("u");
  ASSERT_TRUE(iid.has_value());
  rerank::ImpressionLog log(impl);
  auto shown = log.UserImpressions(*iid, 0, kMaxTimestamp);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  ASSERT_EQ(shown->size(), 2u);
  EXPECT_EQ((*shown)[0].items.size(), 3u);
  EXPECT_EQ((*shown)[0].propensities, (std::vector<double>{1.0, 0.5, 0.125}));
  EXPECT_EQ((*shown)[1].items.size(), 2u);
  EXPECT_TRUE((*shown)[1].propensities.empty());  // unknown
}

// DB::RecordImpressions checks propensities (recdb/recommend.h).
TEST(ImpressionPropensityTest, RecordImpressionsValidatesPropensities) {
  test::TempDir dir;
  auto db = OpenWithItems(dir.Sub("db"), {"a", "b"});
  ASSERT_NE(db, nullptr);
  ImpressionContext ic;
  ic.propensities = {1.0, 0.25};
  EXPECT_TRUE(db->RecordImpressions({}, "u", {"a", "b"}, ic).ok());
  ic.propensities = {};
  EXPECT_TRUE(db->RecordImpressions({}, "u", {"a", "b"}, ic).ok());  // unknown
  for (const std::vector<double>& bad :
       std::vector<std::vector<double>>{{1.0}, {1.0, 0.0}, {1.0, 1.5}, {1.0, -0.1},
                                        {1.0, std::numeric_limits<double>::quiet_NaN()}}) {
    ic.propensities = bad;
    EXPECT_EQ(db->RecordImpressions({}, "u", {"a", "b"}, ic).code(),
              StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace recdb
