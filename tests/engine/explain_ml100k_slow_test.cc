// Issue 19 #6 and #7 on ml-100k, over every user: an explanation never cites
// an item the user rated below their neutral point (so never one rated 1 or
// 2), and the recommender named first is the one with the largest positive
// contribution.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "db_test_util.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

TEST(ExplainMl100kTest, NoLowRatingIsAReasonAndTheNamedReasonIsTheLargest) {
  RECDB_REQUIRE_ML100K(ml_dir);
  std::ifstream in(ml_dir + "/u.data");
  ASSERT_TRUE(in.good());
  std::vector<Event> all;
  std::map<std::pair<std::string, std::string>, double> rating;  // (user, item) -> stars
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    Event e;
    ls >> e.user >> e.item >> e.value >> e.timestamp;
    ASSERT_FALSE(ls.fail()) << line;
    e.type = "rating";
    e.has_value = true;
    rating[{e.user, e.item}] = e.value;
    all.push_back(std::move(e));
  }
  test::TempDir dir;
  auto db = test::OpenOrDie(dir.path());
  for (size_t i = 0; i < all.size(); i += 10000) {
    std::vector<Event> batch(all.begin() + i, all.begin() + std::min(all.size(), i + 10000));
    ASSERT_TRUE(db->RecordEvents({}, batch).ok());
  }
  ASSERT_TRUE(db->Train().ok());

  size_t cited = 0, cited_low = 0, results = 0;
  for (int u = 1; u <= 943; ++u) {
    RecommendRequest r;
    r.user = std::to_string(u);
    r.k = 10;
    auto res = db->Recommend(r);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    for (const Recommendation& rec : res->items) {
      ++results;
      std::string first;
      for (const Evidence& ev : rec.explanation.evidence) {
        if (ev.kind == "recommender" && first.empty()) first = ev.recommender;
        if (ev.kind != "because_item") continue;
        ++cited;
        auto it = rating.find({r.user, ev.item});
        ASSERT_NE(it, rating.end()) << ev.item << " is not in user " << u << "'s history";
        if (it->second <= 2) {
          ++cited_low;
          ADD_FAILURE() << "user " << u << ": " << rec.id << " is explained by " << ev.item
                        << ", rated " << it->second << ": " << rec.explanation.sentence;
        }
      }
      double largest = 0;
      std::string largest_name;
      for (const auto& [name, c] : rec.contributions) {
        if (c > largest) largest = c, largest_name = name;
      }
      if (largest_name.empty()) {
        EXPECT_TRUE(first.empty()) << rec.id << " names " << first << " with nothing positive";
      } else {
        EXPECT_DOUBLE_EQ(rec.contributions.at(first), largest)
            << "user " << u << ", " << rec.id << ": " << first << " is named, " << largest_name
            << " contributed most";
      }
      if (cited_low > 20) FAIL() << "too many low ratings cited; stopping";
    }
  }
  std::printf("results=%zu because_item=%zu (%.1f%%) low-rated cited=%zu\n", results, cited,
              100.0 * cited / results, cited_low);
  EXPECT_EQ(results, 9430u);
  EXPECT_GT(cited, results / 4);  // the sentence still cites items for most results
}

}  // namespace
}  // namespace recdb
