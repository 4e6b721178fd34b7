// Recommend / SimilarItems through the public DB API on a small world with
// two taste clusters, real RocksDB underneath.
#include <gtest/gtest.h>

#include <set>

#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

Event View(const std::string& user, const std::string& item, int64_t ts) {
  Event e;
  e.user = user;
  e.item = item;
  e.type = "view";
  e.timestamp = ts;
  return e;
}

class RecommendTest : public ::testing::Test {
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
    // 40 users: the first 20 like cluster A, the rest B; each sees 6 items of
    // their cluster, in a rotating window so co-occurrence is rich.
    std::vector<Event> events;
    for (int u = 0; u < 40; ++u) {
      const char* c = u < 20 ? "a" : "b";
      for (int j = 0; j < 6; ++j) {
        Event e;
        e.user = "u" + std::to_string(u);
        e.item = c + std::to_string((u + j) % 10);
        e.type = "view";
        e.timestamp = 1700000000 + u * 100 + j;
        events.push_back(e);
      }
    }
    ASSERT_TRUE(db_->RecordEvents({}, events).ok());
  }

  static std::set<char> Clusters(const RecommendResponse& r) {
    std::set<char> out;
    for (const auto& it : r.items) out.insert(it.id[0]);
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(RecommendTest, BeforeTrainingIsFailedPrecondition) {
  RecommendRequest r;
  r.user = "u0";
  EXPECT_EQ(db_->Recommend(r).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RecommendTest, RecommendsFromTheUsersClusterAndExcludesSeen) {
  auto report = db_->Train();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->events, 240);
  RecommendRequest r;
  r.user = "u3";
  r.k = 4;
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->items.size(), 4u);
  EXPECT_EQ(Clusters(*res), std::set<char>{'a'});
  auto history = db_->GetUserHistory("u3");
  ASSERT_TRUE(history.ok());
  for (const auto& rec : res->items) {
    for (const auto& e : *history) EXPECT_NE(rec.id, e.item) << "seen item recommended";
    EXPECT_FALSE(rec.contributions.empty());
    EXPECT_FALSE(rec.explanation.sentence.empty());
  }
}

TEST_F(RecommendTest, ANewEventChangesTheNextRecommendationWithoutRetraining) {
  ASSERT_TRUE(db_->Train().ok());
  Event e = View("newbie", "b1", 1700100000);
  ASSERT_TRUE(db_->RecordEvents({}, {e}).ok());
  RecommendRequest r;
  r.user = "newbie";
  r.k = 3;
  auto first = db_->Recommend(r);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Clusters(*first), std::set<char>{'b'});
  // Three events in cluster A, newest last: the next list moves to A.
  std::vector<Event> more;
  for (int j = 0; j < 3; ++j) {
    more.push_back(View("newbie", "a" + std::to_string(j), 1700100010 + j));
  }
  ASSERT_TRUE(db_->RecordEvents({}, more).ok());
  auto second = db_->Recommend(r);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->model_version, first->model_version) << "no retraining happened";
  EXPECT_TRUE(Clusters(*second).count('a')) << "the new events changed the list";
  EXPECT_NE(first->items[0].id, second->items[0].id);
}

TEST_F(RecommendTest, ExplanationsCiteItemsFromTheUsersHistory) {
  ASSERT_TRUE(db_->Train().ok());
  RecommendRequest r;
  r.user = "u25";
  r.k = 5;
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok());
  auto history = db_->GetUserHistory("u25");
  ASSERT_TRUE(history.ok());
  std::set<std::string> seen;
  for (const auto& e : *history) seen.insert(e.item);
  int cited = 0;
  for (const auto& rec : res->items) {
    double shares = 0;
    for (const auto& ev : rec.explanation.evidence) {
      if (ev.kind == "because_item") {
        EXPECT_TRUE(seen.count(ev.item)) << ev.item << " is not in the user's history";
        ++cited;
      }
      if (ev.kind == "recommender") shares += ev.share;
    }
    // Shares split the positive contributions; a result with none claims no
    // share at all (issue 19 #6: it was "100%" of a negative contribution).
    bool any_positive = false;
    for (const auto& [name, c] : rec.contributions) any_positive |= c > 0;
    EXPECT_NEAR(shares, any_positive ? 1.0 : 0.0, 1e-6);
  }
  EXPECT_GT(cited, 0);
}

TEST_F(RecommendTest, NoPersonalizationConsentGivesPopularityOnly) {
  User u;
  u.id = "u3";
  u.consent.personalization = false;
  ASSERT_TRUE(db_->UpsertUsers({}, {u}).ok());
  ASSERT_TRUE(db_->Train().ok());
  RecommendRequest r;
  r.user = "u3";
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok());
  for (const auto& rec : res->items) {
    for (const auto& [name, c] : rec.contributions) {
      EXPECT_TRUE(name == "trending" || name == "context_pop") << name;
    }
  }
}

TEST_F(RecommendTest, FiltersAndOverridesAreHonoured) {
  ASSERT_TRUE(db_->Train().ok());
  RecommendRequest r;
  r.user = "u3";  // an A user
  r.k = 5;
  r.filter.categories_any = {"B"};
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->items.size(), 5u) << "k results whenever k items pass the filter";
  EXPECT_EQ(Clusters(*res), std::set<char>{'b'});
  r.filter = {};
  r.weights["nope"] = 1;
  EXPECT_TRUE(db_->Recommend(r).status().IsInvalidArgument());
  r.weights.clear();
  r.k = 0;
  EXPECT_TRUE(db_->Recommend(r).status().IsInvalidArgument());
}

TEST_F(RecommendTest, SimilarItemsAndSessionsStayInTheCluster) {
  ASSERT_TRUE(db_->Train().ok());
  auto sim = db_->SimilarItems("a4", 3);
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  EXPECT_EQ(Clusters(*sim), std::set<char>{'a'});
  for (const auto& it : sim->items) EXPECT_NE(it.id, "a4");
  EXPECT_TRUE(db_->SimilarItems("zzz", 3).status().IsNotFound());
  RecommendRequest four;
  four.k = 4;
  auto session = db_->RecommendForSession({"b2", "b3"}, four);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(Clusters(*session), std::set<char>{'b'});
}

}  // namespace
}  // namespace recdb

namespace recdb {
namespace {

TEST(RecommendPersistenceTest, LearnedWeightsSurviveReopenAndAreReused) {
  test::TempDir dir;
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  std::map<std::string, double> learned;
  uint64_t version = 0;
  {
    auto db = DB::Open(o, dir.path());
    ASSERT_TRUE(db.ok());
    std::vector<Event> events;
    for (int u = 0; u < 30; ++u) {
      for (int j = 0; j < 8; ++j) {
        events.push_back(View("u" + std::to_string(u), "i" + std::to_string((u * 3 + j) % 25),
                              1700000000 + u * 100 + j));
      }
    }
    ASSERT_TRUE((*db)->RecordEvents({}, events).ok());
    auto report = (*db)->Train();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    learned = report->weights;
    version = report->model_version;
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto db = DB::Open(o, dir.path());
  ASSERT_TRUE(db.ok());
  TrainOptions reuse;
  reuse.reuse_stored_weights = true;
  auto report = (*db)->Train(reuse);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->weights, learned);
  EXPECT_GT(report->model_version, version) << "versions keep increasing across reopen";
}

// Content profile (issue #5): a space with item vectors joins the fusion as
// "content"; a user's profile follows their newest events at once, and an
// item added after training, with only a vector, is recommended through it.
class ContentRecommendTest : public RecommendTest {
 protected:
  static std::vector<float> Axis(bool b_cluster, float wobble) {
    return {b_cluster ? 0.0f : 1.0f, b_cluster ? 1.0f : 0.0f, wobble};
  }
  void SetUp() override {
    RecommendTest::SetUp();
    SpaceOptions so;
    so.name = "text";
    so.dimension = 3;
    so.metric = Metric::kCosine;
    so.model_name = "test";
    so.model_version = "1";
    ASSERT_TRUE(db_->CreateSpace(so).ok());
    std::vector<VectorRecord> vectors;
    for (int i = 0; i < 20; ++i) {
      vectors.push_back({(i < 10 ? "a" : "b") + std::to_string(i % 10), Axis(i >= 10, 0.01f * i)});
    }
    ASSERT_TRUE(db_->PutVectors({}, "text", EntityKind::kItem, vectors).ok());
  }
  // Only the content profile counts.
  static std::map<std::string, double> ContentOnly(const std::vector<std::string>& names) {
    std::map<std::string, double> w;
    for (const auto& n : names) w[n] = 0;
    w["content"] = 1;
    return w;
  }
};

TEST_F(ContentRecommendTest, ContentJoinsTheFusionAndFollowsTheNewestEvents) {
  auto report = db_->Train();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->weights.count("content")) << "the space's vectors made a content recommender";
  std::vector<std::string> names;
  for (const auto& [n, w] : report->weights) names.push_back(n);
  ASSERT_TRUE(db_->RecordEvents({}, {View("fresh", "a1", 1700100000)}).ok());
  RecommendRequest r;
  r.user = "fresh";
  r.k = 3;
  r.weights = ContentOnly(names);
  auto first = db_->Recommend(r);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Clusters(*first), std::set<char>{'a'});
  for (const auto& it : first->items) {
    EXPECT_GT(it.contributions.at("content"), 0);
    EXPECT_EQ(it.explanation.sentence, "Close to what you like.");
  }
  std::vector<Event> more;
  for (int j = 0; j < 3; ++j) more.push_back(View("fresh", "b" + std::to_string(j), 1700100010 + j));
  ASSERT_TRUE(db_->RecordEvents({}, more).ok());
  auto second = db_->Recommend(r);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->model_version, first->model_version) << "no retraining happened";
  EXPECT_EQ(Clusters(*second), std::set<char>{'b'}) << "the profile moved to the newest events";
}

TEST_F(ContentRecommendTest, ANewItemWithOnlyAVectorIsRecommendedThroughTheProfile) {
  ASSERT_TRUE(db_->Train().ok());
  Item fresh;
  fresh.id = "b_new";
  fresh.title = "Beta new";
  fresh.categories = {"B"};
  ASSERT_TRUE(db_->UpsertItems({}, {fresh}).ok());
  ASSERT_TRUE(db_->PutVectors({}, "text", EntityKind::kItem, {{"b_new", Axis(true, 0.0f)}}).ok());
  RecommendRequest r;
  r.user = "u25";  // cluster B
  r.k = 5;
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  const Recommendation* found = nullptr;
  for (const auto& it : res->items) {
    if (it.id == "b_new") found = &it;
  }
  ASSERT_NE(found, nullptr) << "the item has no interaction and is newer than the model";
  EXPECT_GT(found->contributions.at("content"), 0);
  for (const auto& [name, c] : found->contributions) {
    if (name != "content") {
      EXPECT_EQ(c, 0) << name << " knows nothing of the new item";
    }
  }
  EXPECT_EQ(found->explanation.sentence, "Close to what you like.");
  // A cluster-A user does not get it in their top 5.
  r.user = "u3";
  auto other = db_->Recommend(r);
  ASSERT_TRUE(other.ok());
  for (const auto& it : other->items) EXPECT_NE(it.id, "b_new");
}

// Context (issue #5): mobile users favour other items than desktop users;
// the request's device selects them, for a visitor with no history.
TEST(RecommendContextTest, TheRequestsDeviceChangesTheListAsTheDataSays) {
  test::TempDir dir;
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  auto db = DB::Open(o, dir.path());
  ASSERT_TRUE(db.ok());
  std::vector<Event> events;
  for (int u = 0; u < 60; ++u) {
    const bool mobile = u % 2 == 0;
    for (int j = 0; j < 6; ++j) {
      Event e = View("u" + std::to_string(u),
                     (mobile ? "m" : "d") + std::to_string((u / 2 + j) % 10),
                     1700000000 + (u / 2) * 100 + j);  // both devices equally recent
      e.context = {{"device", mobile ? "mobile" : "desktop"}};
      events.push_back(e);
    }
  }
  ASSERT_TRUE((*db)->RecordEvents({}, events).ok());
  auto report = (*db)->Train();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  RecommendRequest r;
  r.user = "visitor";
  r.k = 5;
  for (const char* device : {"mobile", "desktop"}) {
    r.context = {{"device", device}};
    auto res = (*db)->Recommend(r);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_EQ(res->items.size(), 5u);
    for (const auto& it : res->items) {
      EXPECT_EQ(it.id[0], device[0]) << device << " request got " << it.id;
      EXPECT_GT(it.contributions.at("context_pop"), 0);
    }
  }
}

}  // namespace
}  // namespace recdb
