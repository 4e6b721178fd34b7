// Impressions keep their per-slot propensities (ImpressionContext::
// propensities, storage/schema/impressions.fbs), and a record without them
// -- as every record written before the field existed -- reads as unknown.
// White-box: recdb has no public read of impressions. Its own binary, so
// that it does not rebuild every engine test.
#include <gtest/gtest.h>

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

TEST(ImpressionPropensityTest, StoredPerSlotAndAbsentReadsAsUnknown) {
  test::TempDir dir;
  Options opt;
  opt.create_if_missing = true;
  opt.background_threads = 0;
  auto db = DB::Open(opt, dir.Sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->UpsertItems({}, {MakeItem("a"), MakeItem("b"), MakeItem("c")}).ok());
  ASSERT_TRUE((*db)->UpsertUsers({}, {MakeUser("u")}).ok());
  ImpressionContext with;
  with.timestamp = 1000;
  with.propensities = {1.0, 0.5, 0.125};
  ASSERT_TRUE((*db)->RecordImpressions({}, "u", {"a", "b", "c"}, with).ok());
  ImpressionContext without;
  without.timestamp = 2000;
  ASSERT_TRUE((*db)->RecordImpressions({}, "u", {"c", "a"}, without).ok());

  auto* impl = static_cast<DBImpl*>(db->get());
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

}  // namespace
}  // namespace recdb
