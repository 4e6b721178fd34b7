// The database's learned policy (RecommendRequest::policy = "learned",
// engine/policy/README.md): absent and falling back to the fused list
// without impressions; trained by Train from the impression log; its draw
// deterministic and its propensities the exact probabilities of the draw;
// explained; persisted and served after reopen with identical output;
// forgetting a user removes their impressions from what it learns. Its own
// binary (white-box: engine/policy/learned_policy.h), as the propensity test.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "engine/db_test_util.h"
#include "engine/policy/learned_policy.h"
#include "recdb/policy_gradient.h"
#include "test_util.h"

namespace recdb {
namespace {

constexpr int64_t kT = 1700000000;
constexpr int kItems = 40, kUsers = 40, kCategories = 4;

uint64_t Lcg(uint64_t* s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

// Items i0..i39 in categories C0..C3 (i % 4); users u0..u39 viewed 8 items
// each (seeded) before kT. Trained (weights not learned: fast).
std::unique_ptr<DB> OpenWorld(const std::string& path) {
  auto db = test::OpenOrDie(path);
  if (!db) return nullptr;
  std::vector<Item> items;
  for (int i = 0; i < kItems; ++i) {
    Item it;
    it.id = "i" + std::to_string(i);
    it.categories = {"C" + std::to_string(i % kCategories)};
    items.push_back(it);
  }
  EXPECT_TRUE(db->UpsertItems({}, items).ok());
  std::vector<User> users;
  for (int u = 0; u < kUsers; ++u) users.push_back(User{"u" + std::to_string(u), {}, {}});
  EXPECT_TRUE(db->UpsertUsers({}, users).ok());
  std::vector<Event> events;
  uint64_t s = 7;
  for (int u = 0; u < kUsers; ++u) {
    for (int e = 0; e < 8; ++e) {
      // Mostly the user's favourite category (u % 4), some others.
      const int cat = Lcg(&s) % 4 == 0 ? static_cast<int>(Lcg(&s) % kCategories) : u % kCategories;
      const int item = cat + kCategories * static_cast<int>(Lcg(&s) % (kItems / kCategories));
      events.push_back(test::MakeEvent("u" + std::to_string(u), "i" + std::to_string(item), "view",
                                       kT - 5 * 86400 + u * 60 + e));
    }
  }
  EXPECT_TRUE(db->RecordEvents({}, events).ok());
  TrainOptions to;
  to.learn_weights = false;
  EXPECT_TRUE(db->Train(to).ok());
  return db;
}

TrainOptions PolicyTrain() {
  TrainOptions to;
  to.learn_weights = false;
  to.learned_policy.pool = 20;
  to.learned_policy.k = 5;
  to.learned_policy.steps = 60;
  return to;
}

// One simulated day: each of the first `users` users gets a `policy` list of 5 at kT + day, which
// is recorded with its propensities; the user clicks the first item of a
// category they like (their favourite u % 4, and u % 3) shown at slots 1..4.
void ServeDay(DB* db, int day, const std::string& policy, int users = kUsers) {
  const int64_t now = kT + day * 86400;
  std::vector<Event> clicks;
  for (int u = 0; u < users; ++u) {
    RecommendRequest req;
    req.user = "u" + std::to_string(u);
    req.k = 5;
    req.now = now;
    req.policy = policy;
    auto r = db->Recommend(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids;
    ImpressionContext ic;
    ic.timestamp = now;
    for (const Recommendation& rec : r->items) {
      ids.push_back(rec.id);
      ic.propensities.push_back(rec.propensity);
    }
    ASSERT_TRUE(db->RecordImpressions({}, req.user, ids, ic).ok());
    for (size_t j = 1; j < ids.size(); ++j) {
      const int cat = std::stoi(ids[j].substr(1)) % kCategories;
      if (cat == u % kCategories || cat == u % 3) {
        clicks.push_back(test::MakeEvent(req.user, ids[j], "click", now + 60));
        break;
      }
    }
  }
  ASSERT_TRUE(db->RecordEvents({}, clicks).ok());
}

// A world whose policy learned from two days of fused lists (propensity 1).
std::unique_ptr<DB> OpenTrainedWorld(const std::string& path, int served_users = kUsers) {
  auto db = OpenWorld(path);
  if (!db) return nullptr;
  ServeDay(db.get(), 0, "", served_users);
  ServeDay(db.get(), 1, "learned", served_users);  // no policy yet: the fused list
  auto report = db->Train(PolicyTrain());
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return db;
}

RecommendRequest LearnedRequest(const std::string& user, int64_t now) {
  RecommendRequest req;
  req.user = user;
  req.k = 5;
  req.now = now;
  req.policy = "learned";
  return req;
}

std::vector<std::pair<std::string, double>> Listed(const RecommendResponse& r) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& rec : r.items) out.emplace_back(rec.id, rec.propensity);
  return out;
}

TEST(LearnedPolicyTest, AbsentWithoutImpressionsFallsBackToFused) {
  test::TempDir dir;
  auto db = OpenWorld(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  auto report = db->GetModelReport();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->learned_policy.trained);
  EXPECT_NE(report->learned_policy.note.find("no learned policy"), std::string::npos);
  RecommendRequest fused_req = LearnedRequest("u3", kT);
  fused_req.policy = "";
  auto fused = db->Recommend(fused_req);
  auto learned = db->Recommend(LearnedRequest("u3", kT));
  ASSERT_TRUE(fused.ok() && learned.ok());
  EXPECT_EQ(fused->policy, "fused");
  EXPECT_TRUE(fused->policy_note.empty());
  EXPECT_EQ(learned->policy, "fused");  // the documented fallback
  EXPECT_NE(learned->policy_note.find("no impressions with propensities"), std::string::npos);
  EXPECT_EQ(Listed(*learned), Listed(*fused));
  for (const auto& rec : learned->items) EXPECT_EQ(rec.propensity, 1.0);
  // Impressions without propensities teach it nothing either.
  ImpressionContext ic;
  ic.timestamp = kT;
  ASSERT_TRUE(db->RecordImpressions({}, "u3", {"i1", "i2"}, ic).ok());
  auto trained = db->Train(PolicyTrain());
  ASSERT_TRUE(trained.ok());
  EXPECT_FALSE(trained->learned_policy.trained);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("db") + "/derived/learned.policy"));
  RecommendRequest bad = LearnedRequest("u3", kT);
  bad.policy = "bandit";
  EXPECT_TRUE(db->Recommend(bad).status().IsInvalidArgument());
}

TEST(LearnedPolicyTest, TrainsFromTheImpressionLogAndServesExplainedDraws) {
  test::TempDir dir;
  auto db = OpenTrainedWorld(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  auto report = db->GetModelReport();
  ASSERT_TRUE(report.ok());
  const LearnedPolicyReport& p = report->learned_policy;
  ASSERT_TRUE(p.trained) << p.note;
  EXPECT_EQ(p.impressions, 2 * kUsers);
  EXPECT_EQ(p.slots, 2 * kUsers * 5);
  EXPECT_GT(p.rewarded_slots, 10);
  EXPECT_GT(p.covered_sequence, 0u);
  // Learning moved theta away from theta_0 (rank 1, 0 elsewhere).
  ASSERT_TRUE(p.weights.count("rank") && p.weights.count("category_share"));
  double moved = 0;
  for (const auto& [name, w] : p.weights) moved += std::abs(w - (name == "rank" ? 1.0 : 0.0));
  EXPECT_GT(moved, 0.1);
  EXPECT_LE(p.weights.at("category_share"), -1.0 + 1e-12);  // the habit bound holds
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("db") + "/derived/learned.policy"));

  auto r = db->Recommend(LearnedRequest("u5", kT + 2 * 86400));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->policy, "learned");
  EXPECT_TRUE(r->policy_note.empty());
  ASSERT_EQ(r->items.size(), 5u);
  std::map<std::string, int> per_category;
  for (const auto& rec : r->items) {
    EXPECT_GT(rec.propensity, 0.0);
    EXPECT_LE(rec.propensity, 1.0);
    ++per_category["C" + std::to_string(std::stoi(rec.id.substr(1)) % kCategories)];
    ASSERT_FALSE(rec.explanation.evidence.empty());
    EXPECT_EQ(rec.explanation.evidence[0].kind, "learned_policy");
    EXPECT_EQ(rec.explanation.evidence[0].share, rec.propensity);
    EXPECT_EQ(rec.explanation.sentence.rfind("Chosen by the learned policy", 0), 0u)
        << rec.explanation.sentence;
    // Names its strongest features, and keeps the fused explanation.
    bool names_feature = false;
    for (const auto& [name, w] : p.weights) {
      names_feature |= rec.explanation.sentence.find(name + " (") != std::string::npos;
    }
    EXPECT_TRUE(names_feature) << rec.explanation.sentence;
    EXPECT_GT(rec.explanation.evidence.size(), 1u);
  }
  // max_per_category 1 while the pool spans 4 categories: 4 lists' worth at most.
  for (const auto& [c, n] : per_category) EXPECT_LE(n, 2) << c;
  // Deterministic: the same request, the same list and propensities.
  auto again = db->Recommend(LearnedRequest("u5", kT + 2 * 86400));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Listed(*again), Listed(*r));
}

TEST(LearnedPolicyTest, DeterministicAcrossDatabases) {
  test::TempDir dir;
  auto a = OpenTrainedWorld(dir.Sub("a"));
  auto b = OpenTrainedWorld(dir.Sub("b"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto ra = a->GetModelReport();
  auto rb = b->GetModelReport();
  ASSERT_TRUE(ra.ok() && rb.ok());
  ASSERT_TRUE(ra->learned_policy.trained);
  EXPECT_EQ(ra->learned_policy.weights, rb->learned_policy.weights);
  for (int u = 0; u < 5; ++u) {
    auto la = a->Recommend(LearnedRequest("u" + std::to_string(u), kT + 3 * 86400));
    auto lb = b->Recommend(LearnedRequest("u" + std::to_string(u), kT + 3 * 86400));
    ASSERT_TRUE(la.ok() && lb.ok());
    EXPECT_EQ(Listed(*la), Listed(*lb));
  }
}

TEST(LearnedPolicyTest, PersistsAcrossReopenWithIdenticalOutput) {
  test::TempDir dir;
  LearnedPolicyReport before;
  std::vector<std::vector<std::pair<std::string, double>>> lists;
  {
    auto db = OpenTrainedWorld(dir.Sub("db"));
    ASSERT_NE(db, nullptr);
    before = db->GetModelReport()->learned_policy;
    ASSERT_TRUE(before.trained);
    for (int u = 0; u < 8; ++u) {
      auto r = db->Recommend(LearnedRequest("u" + std::to_string(u), kT + 2 * 86400));
      ASSERT_TRUE(r.ok());
      lists.push_back(Listed(*r));
    }
  }
  auto db = test::OpenOrDie(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  auto after = db->GetModelReport();
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->learned_policy.trained) << after->learned_policy.note;
  EXPECT_EQ(after->learned_policy.weights, before.weights);
  EXPECT_EQ(after->learned_policy.covered_sequence, before.covered_sequence);
  EXPECT_EQ(after->learned_policy.impressions, before.impressions);
  for (int u = 0; u < 8; ++u) {
    auto r = db->Recommend(LearnedRequest("u" + std::to_string(u), kT + 2 * 86400));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->policy, "learned");
    EXPECT_EQ(Listed(*r), lists[static_cast<size_t>(u)]) << "u" << u;
  }
}

TEST(LearnedPolicyTest, DamagedFileIsNotTrustedAndTheFusedListServes) {
  test::TempDir dir;
  const std::string file = dir.Sub("db") + "/derived/learned.policy";
  {
    auto db = OpenTrainedWorld(dir.Sub("db"));
    ASSERT_NE(db, nullptr);
  }
  {
    std::FILE* f = std::fopen(file.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 80, SEEK_SET);
    std::fputc(0x5a, f);
    std::fclose(f);
  }
  auto db = test::OpenOrDie(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  auto report = db->GetModelReport();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->learned_policy.trained);
  EXPECT_NE(report->learned_policy.note.find("checksum"), std::string::npos)
      << report->learned_policy.note;
  auto r = db->Recommend(LearnedRequest("u1", kT + 2 * 86400));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->policy, "fused");
  EXPECT_FALSE(r->policy_note.empty());
}

TEST(LearnedPolicyTest, ForgettingAUserRemovesTheirImpressionsFromWhatItLearns) {
  test::TempDir dir;
  const std::string file = dir.Sub("db") + "/derived/learned.policy";
  auto db = OpenTrainedWorld(dir.Sub("db"), /*served_users=*/10);
  ASSERT_NE(db, nullptr);
  const LearnedPolicyReport before = db->GetModelReport()->learned_policy;
  ASSERT_TRUE(before.trained) << before.note;
  ASSERT_EQ(before.impressions, 20);
  ForgetOptions fo;  // no retrain: the stored policy goes at once, the next Train replaces it
  ASSERT_TRUE(db->ForgetUser("u0", fo).ok());
  EXPECT_FALSE(std::filesystem::exists(file));
  auto retrained = db->Train(PolicyTrain());
  ASSERT_TRUE(retrained.ok()) << retrained.status().ToString();
  const LearnedPolicyReport& after = retrained->learned_policy;
  ASSERT_TRUE(after.trained) << after.note;
  EXPECT_EQ(after.impressions, 18);  // u0's two lists are gone
  EXPECT_EQ(after.slots, before.slots - 10);
  EXPECT_NE(after.weights, before.weights);
  EXPECT_GT(after.covered_sequence, before.covered_sequence);
  EXPECT_TRUE(std::filesystem::exists(file));
  // A retrain inside ForgetUser replaces the stored weights as well.
  ForgetOptions with_retrain;
  with_retrain.retrain = true;
  ASSERT_TRUE(db->ForgetUser("u1", with_retrain).ok());
  auto report = db->GetModelReport();
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(report->learned_policy.trained);
  EXPECT_EQ(report->learned_policy.impressions, 16);
  EXPECT_NE(report->learned_policy.weights, after.weights);
  // Everyone whose impressions it learned from forgotten: no policy at all,
  // and "learned" requests get the fused list.
  for (int u = 2; u < 10; ++u) ASSERT_TRUE(db->ForgetUser("u" + std::to_string(u), fo).ok());
  auto none = db->Train(PolicyTrain());
  ASSERT_TRUE(none.ok()) << none.status().ToString();  // u10..u39's events remain
  EXPECT_FALSE(none->learned_policy.trained);
  EXPECT_FALSE(std::filesystem::exists(file));
  auto r = db->Recommend(LearnedRequest("u20", kT + 2 * 86400));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->policy, "fused");
}

TEST(LearnedPolicyTest, UsersWhoOptedOutOfTrainingTeachItNothing) {
  test::TempDir dir;
  auto db = OpenTrainedWorld(dir.Sub("db"), /*served_users=*/10);
  ASSERT_NE(db, nullptr);
  ASSERT_EQ(db->GetModelReport()->learned_policy.impressions, 20);
  User u3{"u3", {}, {}};
  u3.consent.training = false;
  ASSERT_TRUE(db->UpsertUsers({}, {u3}).ok());
  auto r = db->Train(PolicyTrain());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->learned_policy.impressions, 18);
}

TEST(LearnedPolicyTest, EntropyWeightTrainsAFlatterPolicy) {
  // LearnedPolicyOptions::entropy_weight reaches training: two identical
  // worlds with the same stochastic log (and the same serving policy, the
  // behaviour) train other weights, and the entropy term pulls theta toward
  // the uniform softmax (theta = 0), so they are smaller.
  test::TempDir dir;
  auto norm = [&](const std::string& name, double tau) {
    auto db = OpenTrainedWorld(dir.Sub(name));
    EXPECT_NE(db, nullptr);
    if (!db) return 0.0;
    ServeDay(db.get(), 2, "learned");  // a stochastic log (the trained policy's draws)
    TrainOptions to = PolicyTrain();
    to.learned_policy.entropy_weight = tau;
    auto r = db->Train(to);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->learned_policy.trained) << r->learned_policy.note;
    double n = 0;
    for (const auto& [feature, w] : r->learned_policy.weights) n += w * w;
    if (tau > 0) {
      // Negative is refused (the stored policy stays).
      TrainOptions bad = PolicyTrain();
      bad.learned_policy.entropy_weight = -1;
      auto b = db->Train(bad);
      EXPECT_TRUE(b.ok());
      EXPECT_NE(b->learned_policy.note.find("invalid LearnedPolicyOptions"), std::string::npos);
    }
    return std::sqrt(n);
  };
  const double off = norm("off", 0.0), on = norm("on", 1.0);
  EXPECT_LT(on, off);
}

// ---- The draw itself (engine/policy/learned_policy.h) ----

TEST(LearnedPolicyDrawTest, PropensitiesAreTheDrawProbabilities) {
  // 4 candidates, features (rank-like) with a known softmax.
  policy::LearnedPolicy::Settings s;
  s.max_per_category = 0;
  const std::vector<std::string> recs = {"a"};
  std::vector<double> theta(policy::PolicyFeatureNames(recs).size(), 0.0);
  theta[0] = 1.0;
  policy::LearnedPolicy lp(recs, theta, s, {});
  const size_t dim = lp.dim();
  std::vector<float> x(4 * dim, 0.0f);
  for (size_t a = 0; a < 4; ++a) x[a * dim] = static_cast<float>(-std::log1p(a));
  const std::vector<double> pi = policy::SoftmaxProbabilities(x, dim, theta);
  const std::vector<int> cats(4, -1);
  std::map<size_t, int> first, at_second;
  std::map<std::pair<size_t, size_t>, int> pairs;
  const int draws = 20000;
  for (int d = 0; d < draws; ++d) {
    std::vector<double> props;
    auto picks = lp.Draw(x, cats, 2, 7, kT + d, &props);
    ASSERT_EQ(picks.size(), 2u);
    // The marginal probability of the item at its slot, over all lists
    // (what item-position IPS reads), not the probability given the slots
    // above (pi(b) / (1 - pi(a)) at slot 1, served until 2026-12-07).
    EXPECT_NEAR(props[0], pi[picks[0]], 1e-9);  // slot 0: pi(a)
    double second = 0;                          // slot 1: sum_a pi(a) pi(b) / (1 - pi(a))
    for (size_t a = 0; a < 4; ++a) {
      if (a != picks[1]) second += pi[a] * pi[picks[1]] / (1 - pi[a]);
    }
    EXPECT_NEAR(props[1], second, 1e-9);
    ++first[picks[0]];
    ++at_second[picks[1]];
    ++pairs[{picks[0], picks[1]}];
  }
  for (size_t a = 0; a < 4; ++a) {
    EXPECT_NEAR(first[a] / static_cast<double>(draws), pi[a], 0.015) << a;
  }
  for (const auto& [pr, n] : pairs) {
    const double expect = pi[pr.first] * pi[pr.second] / (1 - pi[pr.first]);
    EXPECT_NEAR(n / static_cast<double>(draws), expect, 0.015);
  }
  // The logged slot-1 propensity is the frequency of the item at slot 1.
  for (const auto& [b, n] : at_second) {
    std::vector<double> props;
    double served = -1;
    for (int d = 0; d < draws && served < 0; ++d) {
      auto picks = lp.Draw(x, cats, 2, 7, kT + d, &props);
      if (picks[1] == b) served = props[1];
    }
    EXPECT_NEAR(n / static_cast<double>(draws), served, 0.015) << b;
  }
  // Seeded: the same (user, time) draws the same list.
  std::vector<double> p1, p2;
  EXPECT_EQ(lp.Draw(x, cats, 3, 9, kT, &p1), lp.Draw(x, cats, 3, 9, kT, &p2));
  EXPECT_EQ(p1, p2);
}

TEST(LearnedPolicyDrawTest, EncodeDecodeRoundTripsAndRejectsDamage) {
  policy::LearnedPolicy::Settings s;
  s.seed = 9;
  s.pool = 30;
  s.k = 4;
  s.max_per_category = 2;
  s.window_seconds = 5 * 86400;
  LearnedPolicyReport r;
  r.impressions = 3;
  r.slots = 12;
  policy::LearnedPolicy lp({"ials", "trending"}, {1, 0.5, -0.25, 0.1, 0.2, -1, -1, 0.3, 0.4, 0.5},
                           s, r);
  auto back = policy::LearnedPolicy::Decode(lp.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->theta(), lp.theta());
  EXPECT_EQ(back->recommenders(), lp.recommenders());
  EXPECT_EQ(back->settings().pool, 30u);
  EXPECT_EQ(back->settings().window_seconds, 5 * 86400);
  EXPECT_EQ(back->report().slots, 12);
  std::string bytes = lp.Encode();
  EXPECT_TRUE(policy::LearnedPolicy::Decode(bytes.substr(0, bytes.size() - 1)).status().IsCorruption());
  bytes[2] ^= 1;  // the tag
  EXPECT_TRUE(policy::LearnedPolicy::Decode(bytes).status().IsCorruption());
}

}  // namespace
}  // namespace recdb
