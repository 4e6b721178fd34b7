// Aggregate privacy: the k-anonymity threshold of co-occurrence (a pair
// supported by fewer than k distinct users is never used, as model weight or
// as explanation evidence) and Laplace noise on exposed per-item counts.
#include <gtest/gtest.h>

#include <cmath>

#include "db_test_util.h"
#include "engine/models/cooccurrence.h"
#include "engine/privacy/laplace_noise.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::CreateOptions;
using test::MakeEvent;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;

// Users 0..k-2 do p then q (k-1 supporters); users 0..k-1 do r then s (k).
models::Dataset Pairs(uint32_t k) {
  models::DatasetSpec spec;
  spec.num_users = k;
  spec.num_items = 4;  // p=0, q=1, r=2, s=3
  for (uint32_t u = 0; u < k; ++u) {
    if (u + 1 < k) {
      spec.interactions.push_back({u, 0, 10});
      spec.interactions.push_back({u, 1, 20});
    }
    spec.interactions.push_back({u, 2, 30});
    spec.interactions.push_back({u, 3, 40});
  }
  return models::Dataset::Build(spec).value();
}

TEST(PrivacyAggregateTest, CooccurrenceDefaultIsKAnonymous) {
  const uint32_t k = models::kDefaultMinPairUsers;
  ASSERT_GE(k, 3u);  // default on, above the bare "two users"
  EXPECT_EQ(models::CooccurrenceOptions().min_users, k);
  EXPECT_EQ(AggregatePrivacyOptions().min_pair_users, k);  // the Options default is the same k
  for (bool directed : {true, false}) {
    models::CooccurrenceOptions o;
    o.directed = directed;
    models::Cooccurrence c(o);
    ASSERT_TRUE(c.Fit(Pairs(k)).ok());
    EXPECT_TRUE(c.Neighbours(0).empty()) << "k-1 users: p -> q must not be used";
    ASSERT_EQ(c.Neighbours(2).size(), 1u) << "k users: r -> s is used";
    EXPECT_EQ(c.Neighbours(2)[0].item, 3u);
    // Scores: nothing flows from p to q.
    std::vector<float> scores(4, 0.0f);
    const uint32_t history[] = {0};
    models::UserQuery q;
    q.items = history;
    c.Score(q, scores);
    EXPECT_EQ(scores[1], 0.0f);
  }
}

// Users pair-user-0..k-2 view p then q (k-1 supporters), pair-user-0..k-1
// view r then s (k), and ten background users view other items, so that
// every model has something to fit.
std::vector<Event> PairWorldEvents(int k) {
  std::vector<Event> events;
  for (int u = 0; u < k; ++u) {
    const std::string user = "pair-user-" + std::to_string(u);
    if (u + 1 < k) {
      events.push_back(MakeEvent(user, "p", "view", kT0 + 1));
      events.push_back(MakeEvent(user, "q", "view", kT0 + 2));
    }
    events.push_back(MakeEvent(user, "r", "view", kT0 + 3));
    events.push_back(MakeEvent(user, "s", "view", kT0 + 4));
  }
  // Background users, so that every model has something to fit.
  for (int u = 0; u < 10; ++u) {
    for (int i = 0; i < 5; ++i) {
      events.push_back(MakeEvent("bg" + std::to_string(u), "bg-item" + std::to_string((u + i) % 7),
                                 "view", kT0 + 10 + i));
    }
  }
  return events;
}

// The co-occurrence contribution to `neighbour` in db->SimilarItems(item).
double CoocContribution(DB* db, const std::string& item, const std::string& neighbour) {
  auto similar = db->SimilarItems(item, 20);
  EXPECT_TRUE(similar.ok()) << similar.status().ToString();
  double c = 0;
  if (!similar.ok()) return c;
  for (const Recommendation& r : similar->items) {
    if (r.id != neighbour) continue;
    for (const char* name : {"cooc_symmetric", "cooc_directed"}) {
      if (auto it = r.contributions.find(name); it != r.contributions.end()) c += std::abs(it->second);
    }
  }
  return c;
}

// Through the DB: SimilarItems' co-occurrence contribution and "because"
// evidence never come from a pair of k-1 users, and do from k.
TEST(PrivacyAggregateTest, SimilarItemsEvidenceRespectsK) {
  TempDir dir;
  auto db = test::OpenOrDie(dir.path());
  const int k = static_cast<int>(models::kDefaultMinPairUsers);
  ASSERT_TRUE(db->RecordEvents({}, PairWorldEvents(k)).ok());
  ASSERT_TRUE(db->Train().ok());
  EXPECT_GT(CoocContribution(db.get(), "r", "s"), 0.0);
  EXPECT_EQ(CoocContribution(db.get(), "p", "q"), 0.0);
}

Options WithMinPairUsers(uint32_t k) {
  Options o = CreateOptions();
  o.aggregate_privacy.min_pair_users = k;
  return o;
}

// Whether Recommend for `user` lists `item` with "because you interacted
// with `because`" evidence.
bool HasBecauseEvidence(DB* db, const std::string& user, const std::string& item,
                        const std::string& because) {
  RecommendRequest request;
  request.user = user;
  request.k = 50;  // the whole catalogue
  auto response = db->Recommend(request);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  if (!response.ok()) return false;
  for (const Recommendation& r : response->items) {
    if (r.id != item) continue;
    for (const Evidence& e : r.explanation.evidence) {
      if (e.kind == "because_item" && e.item == because) return true;
    }
  }
  return false;
}

// Options::aggregate_privacy.min_pair_users reaches Train and Recommend: a
// pair co-consumed by exactly 2 users is used (weight and "because"
// evidence) with k = 2, and not with the default k = 3.
TEST(PrivacyAggregateTest, MinPairUsersOptionReachesTrainAndRecommend) {
  ASSERT_EQ(models::kDefaultMinPairUsers, 3u);  // the world below has a 2-user pair p -> q
  TempDir k2_dir, k3_dir;
  auto k2 = test::OpenOrDie(k2_dir.path(), WithMinPairUsers(2));
  auto k3 = test::OpenOrDie(k3_dir.path());  // default
  ASSERT_TRUE(k2 && k3);
  std::vector<Event> events = PairWorldEvents(3);
  // A user who viewed p alone (adds no pair): is q recommended because of p?
  events.push_back(MakeEvent("probe", "p", "view", kT0 + 100));
  for (DB* db : {k2.get(), k3.get()}) {
    ASSERT_TRUE(db->RecordEvents({}, events).ok());
    ASSERT_TRUE(db->Train().ok());
    EXPECT_GT(CoocContribution(db, "r", "s"), 0.0) << "a 3-user pair is used at k <= 3";
  }
  EXPECT_GT(CoocContribution(k2.get(), "p", "q"), 0.0);
  EXPECT_EQ(CoocContribution(k3.get(), "p", "q"), 0.0);
  EXPECT_TRUE(HasBecauseEvidence(k2.get(), "probe", "q", "p"));
  EXPECT_FALSE(HasBecauseEvidence(k3.get(), "probe", "q", "p"));
}

// ... and DB::Evaluate (recdb eval): test users whose held-out item q
// follows their last train item p, where p -> q is supported by exactly 2
// train-only users. With k = 2 co-occurrence ranks q first for each of
// them; with k = 3 it has no pair to score from.
TEST(PrivacyAggregateTest, MinPairUsersOptionReachesEvaluate) {
  std::vector<Event> events;
  for (int u = 0; u < 4; ++u) {  // 5 events: 4 train, the last one (q) test
    const std::string user = "tester" + std::to_string(u);
    for (int f = 0; f < 3; ++f) {
      events.push_back(MakeEvent(user, "filler" + std::to_string(u * 3 + f), "view", kT0 + f));
    }
    events.push_back(MakeEvent(user, "p", "view", kT0 + 10));
    events.push_back(MakeEvent(user, "q", "view", kT0 + 20));
  }
  for (int u = 0; u < 2; ++u) {  // 2 events: train-only
    events.push_back(MakeEvent("helper" + std::to_string(u), "p", "view", kT0 + 1));
    events.push_back(MakeEvent("helper" + std::to_string(u), "q", "view", kT0 + 2));
  }
  EvaluateOptions eo;
  eo.recommenders = {"cooccurrence"};
  auto ndcg = [&](const Options& options) {
    TempDir dir;
    auto db = test::OpenOrDie(dir.path(), options);
    EXPECT_TRUE(db != nullptr);
    if (!db) return -1.0;
    EXPECT_TRUE(db->RecordEvents({}, events).ok());
    auto report = db->Evaluate(eo);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok() || !report->recommenders.count("cooccurrence")) return -1.0;
    EXPECT_EQ(report->test_users, 4);
    return report->recommenders.at("cooccurrence").ndcg_at_10;
  };
  EXPECT_NEAR(ndcg(WithMinPairUsers(2)), 1.0, 1e-9);
  EXPECT_LT(ndcg(CreateOptions()), 0.5);
}

TEST(PrivacyAggregateTest, MinPairUsersIsValidatedAtOpen) {
  TempDir dir;
  auto db = DB::Open(WithMinPairUsers(0), dir.path());
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(db.status().IsInvalidArgument()) << db.status().ToString();
  EXPECT_NE(db.status().ToString().find("min_pair_users"), std::string::npos)
      << db.status().ToString();
  // k = 1 (protection off) is allowed.
  EXPECT_TRUE(DB::Open(WithMinPairUsers(1), dir.path()).ok());
}

TEST(PrivacyAggregateTest, LaplaceNoiseHasMeanZeroAndScale) {
  for (double scale : {0.5, 2.0, 10.0}) {
    const int n = 200000;
    double sum = 0, sum_abs = 0, sum_sq = 0;
    for (int i = 0; i < n; ++i) {
      const double x = privacy::LaplaceNoise(42, static_cast<uint64_t>(i), scale);
      sum += x;
      sum_abs += std::abs(x);
      sum_sq += x * x;
    }
    // Laplace(0, b): mean 0 (sd of the mean sqrt(2/n) b), E|X| = b (sd b/sqrt(n)),
    // Var = 2 b^2.
    EXPECT_NEAR(sum / n, 0.0, 5 * std::sqrt(2.0 / n) * scale) << scale;
    EXPECT_NEAR(sum_abs / n, scale, 5 * scale / std::sqrt(n)) << scale;
    EXPECT_NEAR(sum_sq / n, 2 * scale * scale, 0.05 * 2 * scale * scale) << scale;
  }
  // Deterministic per (seed, key); different seeds differ.
  EXPECT_EQ(privacy::LaplaceNoise(7, 99, 1.0), privacy::LaplaceNoise(7, 99, 1.0));
  EXPECT_NE(privacy::LaplaceNoise(7, 99, 1.0), privacy::LaplaceNoise(8, 99, 1.0));
  EXPECT_EQ(privacy::NoisyCount(17, 0.0, 7, 99), 17);
}

TEST(PrivacyAggregateTest, GetItemCountsIsNoisedWithScaleOneOverEpsilon) {
  TempDir exact_dir, noisy_dir;
  Options exact_options = CreateOptions();
  Options noisy_options = CreateOptions();
  noisy_options.aggregate_privacy.popularity_epsilon = 0.5;  // scale 2
  noisy_options.aggregate_privacy.noise_seed = 1234;
  auto exact = test::OpenOrDie(exact_dir.path(), exact_options);
  auto noisy = test::OpenOrDie(noisy_dir.path(), noisy_options);
  const int items = 600, views = 40;
  std::vector<Event> events;
  for (int i = 0; i < items; ++i) {
    for (int v = 0; v < views; ++v) {
      events.push_back(MakeEvent("u" + std::to_string(v), "item" + std::to_string(i), "view",
                                 kT0 + v));
    }
  }
  ASSERT_TRUE(exact->RecordEvents({}, events).ok());
  ASSERT_TRUE(noisy->RecordEvents({}, events).ok());
  double sum = 0, sum_abs = 0;
  int differ = 0;
  for (int i = 0; i < items; ++i) {
    const std::string id = "item" + std::to_string(i);
    auto e = exact->GetItemCounts(id);
    auto n = noisy->GetItemCounts(id);
    ASSERT_TRUE(e.ok() && n.ok());
    EXPECT_EQ(e->total, views);
    const double d = static_cast<double>(n->by_type.at("view") - views);
    sum += d;
    sum_abs += std::abs(d);
    differ += n->total != views;
    EXPECT_EQ(noisy->GetItemCounts(id)->total, n->total) << "asking again changes nothing";
  }
  EXPECT_NEAR(sum / items, 0.0, 0.5);    // sd of the mean ~ 2.8 / sqrt(600) = 0.12
  EXPECT_NEAR(sum_abs / items, 2.0, 0.4);  // E|round(X)| ~ b = 2
  EXPECT_GT(differ, items / 2);
}

}  // namespace
}  // namespace recdb
