// Issue 19 #5, #6, #8: explanations say what produced each result. Over
// every user of a two-cluster world: the recommender named first is the one
// with the largest positive contribution, no share is claimed for a
// recommender that contributed nothing, "because you interacted with X" is
// only the sentence of an item-based top recommender, unknown users get the
// explained popularity fallback, and item-to-item lists address no user.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/explain/explainer.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

class ExplainTruthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.create_if_missing = true;
    o.background_threads = 0;
    auto db = DB::Open(o, dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    std::vector<Item> items;
    for (int i = 0; i < 20; ++i) {
      Item it;
      it.id = (i < 10 ? "a" : "b") + std::to_string(i % 10);
      it.title = (i < 10 ? "Alpha " : "Beta ") + std::to_string(i % 10);
      it.categories = {i < 10 ? "A" : "B"};
      items.push_back(it);
    }
    ASSERT_TRUE(db_->UpsertItems({}, items).ok());
    std::vector<Event> events;
    for (int u = 0; u < 40; ++u) {
      const char* c = u < 20 ? "a" : "b";
      // Popularity differs across items: item j of a cluster is seen by
      // more users the smaller j is.
      for (int j = 0; j < 6; ++j) {
        Event e;
        e.user = "u" + std::to_string(u);
        e.item = c + std::to_string((u * j) % 10);
        e.type = "view";
        e.timestamp = 1700000000 + u * 100 + j;
        events.push_back(e);
      }
    }
    ASSERT_TRUE(db_->RecordEvents({}, events).ok());
    auto report = db_->Train();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const auto& [name, w] : report->weights) names_.push_back(name);
  }

  static bool ItemBased(const std::string& name) {
    return name != "mostpop" && name != "trending" && name != "context_pop" &&
           name != "content" && name != "ials" && name != "ease";
  }

  // The checks every explained result must pass.
  static void CheckTruthful(const Recommendation& rec, const std::string& who) {
    double best = 0;
    std::string best_name;
    for (const auto& [name, c] : rec.contributions) {
      if (c > best) best = c, best_name = name;
    }
    std::string first;
    for (const Evidence& e : rec.explanation.evidence) {
      if (e.kind != "recommender") continue;
      if (first.empty()) first = e.recommender;
      auto c = rec.contributions.find(e.recommender);
      ASSERT_NE(c, rec.contributions.end()) << who << " " << rec.id;
      EXPECT_GT(c->second, 0.0) << who << " " << rec.id << ": a share for " << e.recommender;
    }
    EXPECT_EQ(first, best_name) << who << " " << rec.id << ": " << rec.explanation.sentence;
    if (rec.explanation.sentence.rfind("Because you interacted with", 0) == 0) {
      EXPECT_TRUE(ItemBased(best_name)) << who << " " << rec.id << " top " << best_name;
    }
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
  std::vector<std::string> names_;
};

TEST_F(ExplainTruthTest, TheNamedReasonIsTheLargestPositiveContribution) {
  for (int u = 0; u < 40; ++u) {
    RecommendRequest r;
    r.user = "u" + std::to_string(u);
    r.k = 8;
    auto res = db_->Recommend(r);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    for (const Recommendation& rec : res->items) CheckTruthful(rec, r.user);
  }
}

TEST_F(ExplainTruthTest, AllNegativeContributionsClaimNoShare) {
  // One item-based recommender only, and a filter to the other cluster: every
  // candidate co-occurs with nothing the user saw, so its one contribution is
  // below the average (negative). It used to read "cooc_symmetric (100%)".
  RecommendRequest r;
  r.user = "u3";  // cluster A
  r.k = 5;
  r.filter.categories_any = {"B"};
  const std::string only =
      std::find(names_.begin(), names_.end(), "cooc_symmetric") != names_.end()
          ? "cooc_symmetric"
          : "itemknn";
  for (const std::string& name : names_) r.weights[name] = name == only ? 1.0 : 0.0;
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_FALSE(res->items.empty());
  for (const Recommendation& rec : res->items) {
    ASSERT_EQ(rec.contributions.size(), 1u) << rec.id;
    EXPECT_LT(rec.contributions.begin()->second, 0.0) << rec.id;
    for (const Evidence& e : rec.explanation.evidence) {
      EXPECT_NE(e.kind, "recommender") << rec.id << " " << e.text;
    }
    EXPECT_EQ(rec.explanation.sentence.find("your history"), std::string::npos)
        << rec.explanation.sentence;
    CheckTruthful(rec, r.user);
  }
}

TEST_F(ExplainTruthTest, UnknownUsersGetTheExplainedPopularityFallback) {
  RecommendRequest r;
  r.user = "stranger";
  r.k = 5;
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->items.size(), 5u);
  for (const Recommendation& rec : res->items) {
    EXPECT_GT(rec.score, 0.0) << rec.id;
    EXPECT_NE(rec.explanation.sentence.find("does not know your tastes yet"), std::string::npos)
        << rec.explanation.sentence;
    EXPECT_TRUE(std::any_of(rec.explanation.evidence.begin(), rec.explanation.evidence.end(),
                            [](const Evidence& e) { return e.kind == "cold_start"; }));
    for (const auto& [name, c] : rec.contributions) {
      EXPECT_TRUE(name == "mostpop" || name == "trending") << name << " " << c;
    }
  }
  // The most viewed item of the world comes first: a0 and b0 (seen by every
  // user of their cluster).
  EXPECT_TRUE(res->items[0].id == "a0" || res->items[0].id == "b0") << res->items[0].id;

  r.require_known_user = true;
  EXPECT_TRUE(db_->Recommend(r).status().IsNotFound());
}

TEST_F(ExplainTruthTest, SimilarItemsAddressNoUser) {
  auto res = db_->SimilarItems("a1", 5);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_FALSE(res->items.empty());
  for (const Recommendation& rec : res->items) {
    EXPECT_EQ(rec.explanation.sentence.find("you"), std::string::npos)
        << rec.explanation.sentence;
    EXPECT_NE(rec.explanation.sentence.find("Alpha 1"), std::string::npos)
        << rec.explanation.sentence;
  }
  EXPECT_TRUE(db_->SimilarItems("a1", 0).status().IsInvalidArgument());
  EXPECT_NE(db_->SimilarItems("a1", 0).status().message().find("similar:"), std::string::npos);
}

TEST_F(ExplainTruthTest, WeightsAndBoostsOutsideTheRangeAreInvalid) {
  RecommendRequest r;
  r.user = "u3";
  r.weights[names_.front()] = 1e300;
  EXPECT_TRUE(db_->Recommend(r).status().IsInvalidArgument());
  r.weights[names_.front()] = kMaxFusionWeight;
  auto ok = db_->Recommend(r);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  for (const auto& rec : ok->items) EXPECT_TRUE(std::isfinite(rec.score)) << rec.id;
  r.weights.clear();
  r.rules.boost["a1"] = -2e6;
  EXPECT_TRUE(db_->Recommend(r).status().IsInvalidArgument());
}

// Issue 19 #7: a rating below the user's neutral point (the higher of their
// mean and the middle of their range, per event type) is no reason to like
// anything; unvalued events always are.
TEST(CitableItemsTest, LowRatingsAreNotReasons) {
  using explain::HistoryEvent;
  const std::vector<HistoryEvent> events = {
      {1, 7, true, 1}, {2, 7, true, 2}, {3, 7, true, 3}, {4, 7, true, 5},  // mean 2.75, mid 3
      {5, 8, true, 100},                                                   // another type
      {6, 0, false, 0}, {1, 0, false, 0},  // a view of 1 does not redeem its 1-star rating
  };
  EXPECT_EQ(explain::CitableItems(events), (std::vector<uint32_t>{3, 4, 5, 6}));
  // A harsh rater (mean 1.5) still has no 2 cited: the middle of 1..5 is 3.
  const std::vector<HistoryEvent> harsh = {{1, 7, true, 1}, {2, 7, true, 1}, {3, 7, true, 1},
                                           {4, 7, true, 2}, {5, 7, true, 5}};
  EXPECT_EQ(explain::CitableItems(harsh), (std::vector<uint32_t>{5}));
  // One rating, or all equal: nothing is below the neutral point.
  EXPECT_EQ(explain::CitableItems(std::vector<HistoryEvent>{{9, 7, true, 1}}),
            (std::vector<uint32_t>{9}));
}

// Two users with the same items at the same times get the same list; only
// the ratings differ, and so only the cited reasons do.
TEST_F(ExplainTruthTest, ALowRatingIsNeverCitedAsTheReason) {
  auto rate = [&](const std::string& user, double a1, double a2) {
    std::vector<Event> events(2);
    events[0].item = "a1", events[0].value = a1, events[0].timestamp = 1700009000;
    events[1].item = "a2", events[1].value = a2, events[1].timestamp = 1700009001;
    for (Event& e : events) e.user = user, e.type = "rating", e.has_value = true;
    ASSERT_TRUE(db_->RecordEvents({}, events).ok());
  };
  rate("likes_a1", 5, 4);   // neutral 4.5: a1 is a reason, a2 is not
  rate("hates_a1", 1, 5);   // neutral 3: a2 is a reason, a1 is not
  auto cited = [&](const std::string& user, std::vector<std::string>* ids) {
    RecommendRequest r;
    r.user = user;
    r.k = 8;
    auto res = db_->Recommend(r);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    std::set<std::string> items;
    for (const auto& rec : res->items) {
      ids->push_back(rec.id);
      for (const auto& ev : rec.explanation.evidence) {
        if (ev.kind == "because_item") items.insert(ev.item);
      }
      if (rec.explanation.sentence.find("you interacted with") != std::string::npos) {
        items.insert(rec.explanation.sentence.find("Alpha 1") != std::string::npos ? "a1" : "a2");
      }
    }
    ids->push_back("|");
    for (const auto& i : items) ids->push_back(i);
  };
  std::vector<std::string> likes, hates;
  cited("likes_a1", &likes);
  cited("hates_a1", &hates);
  const auto bar = [](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), "|") - v.begin();
  };
  ASSERT_EQ(bar(likes), bar(hates));
  EXPECT_TRUE(std::equal(likes.begin(), likes.begin() + bar(likes), hates.begin()));
  EXPECT_EQ(std::vector<std::string>(likes.begin() + bar(likes) + 1, likes.end()),
            (std::vector<std::string>{"a1"}));
  EXPECT_EQ(std::vector<std::string>(hates.begin() + bar(hates) + 1, hates.end()),
            (std::vector<std::string>{"a2"}));
}

}  // namespace
}  // namespace recdb
