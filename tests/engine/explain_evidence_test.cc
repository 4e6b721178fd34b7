// Every result of every request carries an explanation whose evidence is
// real: cited items are in the user's history, cited categories are the
// item's own, and care placements are named.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "care_test_world.h"

namespace recdb {
namespace {

class ExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::OpenCareWorld(dir_.path());
    ASSERT_NE(db_, nullptr);
  }
  test::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(ExplainTest, EveryResultIsExplainedWithRealEvidence) {
  std::map<std::string, int> kinds;
  for (int u = 0; u < 40; u += 3) {
    for (bool care_on : {false, true}) {
      RecommendRequest r;
      r.user = "u" + std::to_string(u);
      r.k = 4;
      if (care_on) {
        r.care = CareOptions{};
        r.care->diversity = 0.6;
        r.care->fair_share = 0.25;
        r.care->exploration = 0.25;
        r.care->exploration_seed = 9;
      }
      auto res = db_->Recommend(r);
      ASSERT_TRUE(res.ok()) << res.status().ToString();
      ASSERT_EQ(res->items.size(), 4u);
      auto history = db_->GetUserHistory(r.user);
      ASSERT_TRUE(history.ok());
      std::set<std::string> seen;
      for (const auto& e : *history) seen.insert(e.item);
      for (const auto& rec : res->items) {
        EXPECT_FALSE(rec.explanation.sentence.empty()) << rec.id;
        EXPECT_FALSE(rec.explanation.evidence.empty()) << rec.id;
        auto item = db_->GetItem(rec.id);
        ASSERT_TRUE(item.ok());
        for (const auto& ev : rec.explanation.evidence) {
          ++kinds[ev.kind];
          if (!ev.item.empty()) {
            EXPECT_TRUE(seen.count(ev.item)) << ev.item << " is not in " << r.user << "'s history";
          }
          if (!ev.category.empty()) {
            EXPECT_NE(std::find(item->categories.begin(), item->categories.end(), ev.category),
                      item->categories.end())
                << ev.kind << " cites " << ev.category << " for " << rec.id;
          }
        }
      }
    }
  }
  EXPECT_GT(kinds["because_item"], 0);
  EXPECT_GT(kinds["diversity"], 0);
  EXPECT_GT(kinds["exploration"], 0);
  EXPECT_GT(kinds["popular_in_category"], 0);
}

TEST_F(ExplainTest, CareSentencesNameWhatTheStageDid) {
  RecommendRequest r;
  r.user = "u3";
  r.k = 4;
  r.care = CareOptions{};
  r.care->exploration = 0.25;
  r.rules.pin = {"b5"};
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->items.size(), 4u);
  EXPECT_EQ(res->items.front().id, "b5");
  EXPECT_EQ(res->items.front().explanation.sentence, "Featured.");
  EXPECT_EQ(res->items.back().explanation.sentence.rfind("New, and close to what you like", 0), 0u)
      << res->items.back().explanation.sentence;
}

}  // namespace
}  // namespace recdb
