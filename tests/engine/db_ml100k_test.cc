// MovieLens 100k through the public API: 100000 ratings as "rating" events.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "db_test_util.h"
#include "engine/db_impl/db_impl.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

TEST(DBMl100kTest, IngestAllRatingsAndReopen) {
  RECDB_REQUIRE_ML100K(ml_dir);
  std::ifstream in(ml_dir + "/u.data");
  ASSERT_TRUE(in.good());
  std::vector<Event> all;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    Event e;
    double rating = 0;
    ls >> e.user >> e.item >> rating >> e.timestamp;
    ASSERT_FALSE(ls.fail()) << line;
    e.type = "rating";
    e.value = rating;
    e.has_value = true;
    all.push_back(std::move(e));
  }
  ASSERT_EQ(all.size(), 100000u);

  test::TempDir dir;
  {
    auto db = test::OpenOrDie(dir.path());
    for (size_t i = 0; i < all.size(); i += 5000) {
      std::vector<Event> batch(all.begin() + i, all.begin() + std::min(all.size(), i + 5000));
      ASSERT_TRUE(db->RecordEvents({}, batch).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = test::OpenOrDie(dir.path());
  auto st = db->GetStats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->users, 943);
  EXPECT_EQ(st->items, 1682);
  EXPECT_EQ(st->events, 100000);
  auto h = db->GetUserHistory("1");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 272u);
  for (size_t i = 1; i < h->size(); ++i) {
    EXPECT_LE((*h)[i - 1].timestamp, (*h)[i].timestamp);
  }
  EXPECT_EQ((*h)[0].type, "rating");
  EXPECT_TRUE((*h)[0].has_value);
  // The training scan sees the same 100000 events, ratings intact.
  auto* impl = static_cast<DBImpl*>(db.get());
  size_t n = 0;
  double sum = 0;
  ASSERT_TRUE(impl->ScanEvents([&](const storage::StoredEvent& e) {
                    ++n;
                    sum += e.value;
                    return Status::OK();
                  })
                  .ok());
  double want = 0;
  for (const Event& e : all) want += e.value;
  EXPECT_EQ(n, 100000u);
  EXPECT_DOUBLE_EQ(sum, want);
  EXPECT_EQ(impl->ItemIdLimit(), 1682u);
  // Item 50 (Star Wars) has 583 ratings in ml-100k.
  EXPECT_EQ(db->GetItemCounts("50")->by_type.at("rating"), 583);
}

}  // namespace
}  // namespace recdb
