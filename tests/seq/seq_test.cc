// The sequence component (modules/seq) on tiny synthetic data: it learns a
// planted sequential pattern, is deterministic for a seed, round-trips
// through Save/Load bit for bit, and joins the fused blend.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include "engine/models/component_registry.h"
#include "engine/models/fused.h"
#include "modules/seq/seq_recommender.h"

namespace recdb::seq {
namespace {

using models::Dataset;
using models::DatasetSpec;
using models::UserQuery;

constexpr uint32_t kGroups = 10;  // items 3g, 3g+1, 3g+2 always follow each other

// Each user walks 2 to 4 random distinct groups, each in its order
// A -> B -> C (so the pattern appears at every position).
Dataset Chains(uint32_t users = 150, uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  DatasetSpec spec;
  spec.num_users = users;
  spec.num_items = 3 * kGroups;
  for (uint32_t u = 0; u < users; ++u) {
    std::vector<uint32_t> groups(kGroups);
    for (uint32_t g = 0; g < kGroups; ++g) groups[g] = g;
    std::shuffle(groups.begin(), groups.end(), rng);
    int64_t ts = 0;
    const int walks = 2 + static_cast<int>(rng() % 3);
    for (int k = 0; k < walks; ++k) {
      for (uint32_t step = 0; step < 3; ++step) {
        spec.interactions.push_back({u, 3 * groups[k] + step, ts++, 1.0f});
      }
    }
  }
  return std::move(Dataset::Build(std::move(spec))).value();
}

SeqOptions Tiny() {
  SeqOptions o;
  o.dim = 16;
  o.max_len = 12;
  o.epochs = 60;
  o.batch_size = 32;
  o.dropout = 0.0;
  o.learning_rate = 5e-3;
  o.threads = 1;
  return o;
}

std::vector<float> Scores(const models::Recommender& m, std::vector<uint32_t> history) {
  UserQuery q;
  q.items = history;
  std::vector<float> s(m.num_items());
  m.Score(q, s);
  return s;
}

uint32_t Top(const std::vector<float>& s, const std::vector<uint32_t>& exclude) {
  uint32_t best = UINT32_MAX;
  for (uint32_t i = 0; i < s.size(); ++i) {
    if (std::find(exclude.begin(), exclude.end(), i) != exclude.end()) continue;
    if (best == UINT32_MAX || s[i] > s[best]) best = i;
  }
  return best;
}

TEST(SeqTest, LearnsAPlantedSequentialPattern) {
  Dataset data = Chains();
  SeqRecommender m(Tiny());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(m.Fit(data).ok());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("tiny seq fit: %.2f s, last loss %.4f\n", secs, m.last_loss());
  // After A, B (with or without an earlier group), the next item is C.
  int right = 0;
  for (uint32_t g = 0; g < kGroups; ++g) {
    const uint32_t other = 3 * ((g + 1) % kGroups);
    for (std::vector<uint32_t> h : {std::vector<uint32_t>{3 * g, 3 * g + 1},
                                    std::vector<uint32_t>{other, other + 1, other + 2, 3 * g, 3 * g + 1}}) {
      const uint32_t top = Top(Scores(m, h), h);
      right += top == 3 * g + 2;
      EXPECT_EQ(top, 3 * g + 2) << "group " << g << ", history of " << h.size();
    }
  }
  // And after a whole group then A, B.
  for (uint32_t g = 0; g < kGroups; ++g) {
    const uint32_t other = 3 * ((g + 3) % kGroups);
    std::vector<uint32_t> h = {other, other + 1, other + 2, 3 * g};
    EXPECT_EQ(Top(Scores(m, h), h), 3 * g + 1) << "group " << g;
  }
  EXPECT_EQ(right, static_cast<int>(2 * kGroups));
}

// all_windows: a pattern that only appears in events older than the newest
// max_len + 1 is learned with it and not without it. Each user walks groups
// (A -> B -> C) and then has max_len + 1 events of unrelated noise items.
TEST(SeqTest, AllWindowsLearnsFromOlderEvents) {
  constexpr int kMaxLen = 7;  // not a multiple of 3: windows start at every step of a walk
  constexpr uint32_t kNoise = 40;
  std::mt19937_64 rng(5);
  DatasetSpec spec;
  spec.num_users = 200;
  spec.num_items = 3 * kGroups + kNoise;
  for (uint32_t u = 0; u < spec.num_users; ++u) {
    int64_t ts = 0;
    const int walks = 2 + static_cast<int>(rng() % 3);
    for (int k = 0; k < walks; ++k) {
      const uint32_t g = static_cast<uint32_t>(rng() % kGroups);
      for (uint32_t step = 0; step < 3; ++step) spec.interactions.push_back({u, 3 * g + step, ts++, 1.0f});
    }
    for (int k = 0; k <= kMaxLen; ++k) {
      spec.interactions.push_back({u, 3 * kGroups + static_cast<uint32_t>(rng() % kNoise), ts++, 1.0f});
    }
  }
  Dataset data = std::move(Dataset::Build(std::move(spec))).value();
  auto right = [&](bool all_windows) {
    SeqOptions o = Tiny();
    o.max_len = kMaxLen;
    o.all_windows = all_windows;
    SeqRecommender m(o);
    EXPECT_TRUE(m.Fit(data).ok());
    int n = 0;
    for (uint32_t g = 0; g < kGroups; ++g) {
      const uint32_t other = 3 * ((g + 1) % kGroups);
      const std::vector<uint32_t> h = {other, other + 1, other + 2, 3 * g, 3 * g + 1};
      n += Top(Scores(m, h), h) == 3 * g + 2;
    }
    return n;
  };
  const int with = right(true), without = right(false);
  std::printf("all_windows: %d of %u right, newest window only: %d\n", with, kGroups, without);
  EXPECT_GE(with, static_cast<int>(kGroups) - 1);
  EXPECT_LT(without, static_cast<int>(kGroups) / 2);
}

TEST(SeqTest, SameSeedSameModelOtherSeedOtherModel) {
  Dataset data = Chains();
  SeqOptions o = Tiny();
  o.epochs = 5;
  SeqRecommender a(o), b(o);
  ASSERT_TRUE(a.Fit(data).ok());
  ASSERT_TRUE(b.Fit(data).ok());
  const std::vector<uint32_t> h = {0, 1, 5, 9};
  const auto sa = Scores(a, h), sb = Scores(b, h);
  EXPECT_EQ(0, std::memcmp(sa.data(), sb.data(), sa.size() * sizeof(float)));
  o.seed = 43;
  SeqRecommender c(o);
  ASSERT_TRUE(c.Fit(data).ok());
  EXPECT_NE(0, std::memcmp(sa.data(), Scores(c, h).data(), sa.size() * sizeof(float)));
}

// Early stopping keeps the weights of the epoch with the best held-out
// NDCG@10: a fit of exactly that many epochs (same held-out events, same
// seed) gives the same scores, and training stops `patience` epochs after
// the best.
TEST(SeqTest, EarlyStoppingKeepsTheBestEpochsWeights) {
  Dataset data = Chains();
  SeqOptions o = Tiny();
  o.epochs = 40;
  o.early_stop_fraction = 0.5;
  o.patience = 2;
  SeqRecommender a(o);
  ASSERT_TRUE(a.Fit(data).ok());
  const auto& curve = a.epoch_ndcg();
  ASSERT_FALSE(curve.empty());
  ASSERT_LE(curve.size(), 40u);
  ASSERT_GE(a.best_epoch(), 1);
  ASSERT_LE(a.best_epoch(), static_cast<int>(curve.size()));
  const double best = curve[a.best_epoch() - 1];
  for (size_t e = 0; e < curve.size(); ++e) {
    if (static_cast<int>(e) + 1 < a.best_epoch()) {
      EXPECT_LT(curve[e], best) << e;  // the first best
    }
    EXPECT_LE(curve[e], best) << e;
  }
  if (curve.size() < 40u) {
    EXPECT_EQ(static_cast<int>(curve.size()) - a.best_epoch(), o.patience);
  }
  std::printf("early stopping: kept epoch %d of %zu (held-out ndcg@10 %.4f)\n", a.best_epoch(), curve.size(),
              best);
  SeqOptions exact = o;
  exact.epochs = a.best_epoch();
  SeqRecommender b(exact);
  ASSERT_TRUE(b.Fit(data).ok());
  EXPECT_EQ(b.best_epoch(), a.best_epoch());
  for (const std::vector<uint32_t>& h : {std::vector<uint32_t>{0, 1}, {3, 4, 5, 9}}) {
    const auto sa = Scores(a, h), sb = Scores(b, h);
    EXPECT_EQ(0, std::memcmp(sa.data(), sb.data(), sa.size() * sizeof(float)));
  }
  // Without it: no curve, every epoch.
  SeqOptions plain = Tiny();
  plain.epochs = 3;
  SeqRecommender c(plain);
  ASSERT_TRUE(c.Fit(data).ok());
  EXPECT_TRUE(c.epoch_ndcg().empty());
  EXPECT_EQ(c.best_epoch(), 0);
}

TEST(SeqTest, SaveLoadGivesBitIdenticalScores) {
  Dataset data = Chains();
  SeqOptions o = Tiny();
  o.epochs = 5;
  o.heads = 2;
  SeqRecommender a(o);
  ASSERT_TRUE(a.Fit(data).ok());
  models::ModelWriter w;
  ASSERT_TRUE(a.Save(w).ok());
  SeqRecommender b;  // other options: the stored shape wins
  models::ModelReader r(w.bytes());
  ASSERT_TRUE(b.Load(r).ok()) << r.status().ToString();
  EXPECT_TRUE(r.Finish().ok());
  EXPECT_EQ(b.num_items(), a.num_items());
  for (const std::vector<uint32_t>& h :
       {std::vector<uint32_t>{0}, {3, 4}, {0, 1, 2, 9, 10, 11, 27}, {29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16}}) {
    const auto sa = Scores(a, h), sb = Scores(b, h);
    EXPECT_EQ(0, std::memcmp(sa.data(), sb.data(), sa.size() * sizeof(float)));
  }
  // A damaged copy is an error, never a crash.
  std::string bytes = w.bytes();
  for (size_t cut : {size_t{0}, size_t{7}, bytes.size() / 2, bytes.size() - 1}) {
    SeqRecommender c;
    models::ModelReader rc(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(c.Load(rc).ok() && rc.Finish().ok()) << cut;
  }
}

TEST(SeqTest, RealTimeHistoryAndUnknownItems) {
  Dataset data = Chains();
  SeqOptions o = Tiny();
  o.epochs = 3;
  SeqRecommender m(o);
  ASSERT_TRUE(m.Fit(data).ok());
  // The user id is not used: the history is.
  UserQuery q1, q2;
  std::vector<uint32_t> h = {0, 1};
  q1.items = h;
  q1.user = 0;
  q2.items = h;
  q2.user = 7;
  std::vector<float> s1(m.num_items()), s2(m.num_items());
  m.Score(q1, s1);
  m.Score(q2, s2);
  EXPECT_EQ(s1, s2);
  // Unknown items are skipped; an empty history scores all equal.
  EXPECT_EQ(Scores(m, {0, 1, 999}), s1);
  for (float v : Scores(m, {999})) EXPECT_EQ(v, 0.0f);
  // Attention names history positions, heaviest first.
  UserQuery q;
  std::vector<uint32_t> hist = {3, 4, 999, 0, 1};
  q.items = hist;
  auto att = m.Attention(q, 3);
  ASSERT_EQ(att.size(), 3u);
  for (size_t i = 0; i < att.size(); ++i) {
    EXPECT_NE(att[i].first, 2u);  // the unknown item
    EXPECT_LT(att[i].first, hist.size());
    if (i) {
      EXPECT_GE(att[i - 1].second, att[i].second);
    }
  }
}

// Attention right after Score on the same history reuses Score's forward
// pass (the engine asks for both per request): it must give what a pass of
// its own gives, and a Score of another history, or another fitted model,
// must not leak into it.
TEST(SeqTest, AttentionAfterScoreIsTheSameAsItsOwnPass) {
  Dataset data = Chains();
  SeqOptions o = Tiny();
  o.epochs = 3;
  SeqOptions o2 = o;
  o2.seed = 7;
  SeqRecommender m(o), other(o2);
  ASSERT_TRUE(m.Fit(data).ok());
  ASSERT_TRUE(other.Fit(data).ok());
  const std::vector<uint32_t> h = {3, 4, 999, 0, 1}, h2 = {6, 7, 8};
  UserQuery q, q2;
  q.items = h;
  q2.items = h2;
  // Its own pass: on a fresh thread, whose cache is empty.
  std::vector<std::pair<size_t, float>> own, own_other;
  std::thread([&] { own = m.Attention(q, 5); }).join();
  std::thread([&] { own_other = other.Attention(q, 5); }).join();
  ASSERT_EQ(own.size(), 4u);
  std::vector<float> s(m.num_items());
  m.Score(q, s);
  EXPECT_EQ(m.Attention(q, 5), own);                // from Score's pass
  m.Score(q2, s);
  EXPECT_EQ(m.Attention(q, 5), own);                // another history: a pass of its own
  m.Score(q, s);
  EXPECT_EQ(other.Attention(q, 5), own_other);      // another model: its own weights
  EXPECT_NE(own, own_other);
}

TEST(SeqTest, BadOptionsAreInvalidArgument) {
  SeqOptions o = Tiny();
  o.heads = 3;  // 16 % 3 != 0
  SeqRecommender m(o);
  EXPECT_TRUE(m.Fit(Chains(10)).IsInvalidArgument());
  o = Tiny();
  o.early_stop_fraction = 1.5;
  EXPECT_TRUE(SeqRecommender(o).Fit(Chains(10)).IsInvalidArgument());
  o.early_stop_fraction = 0.5;
  o.patience = 0;
  EXPECT_TRUE(SeqRecommender(o).Fit(Chains(10)).IsInvalidArgument());
  o = Tiny();
  o.score_temperature = 0;
  EXPECT_TRUE(SeqRecommender(o).Fit(Chains(10)).IsInvalidArgument());
  o = Tiny();
  o.loss = SeqOptions::Loss::kGbce;
  o.gbce_t = 1.5;
  EXPECT_TRUE(SeqRecommender(o).Fit(Chains(10)).IsInvalidArgument());
  o.gbce_t = 0.75;
  o.negatives = 3 * kGroups;  // alpha would exceed 1
  EXPECT_TRUE(SeqRecommender(o).Fit(Chains(10)).IsInvalidArgument());
}

// gSASRec's beta and loss against the paper's formulas, written out here in
// double: beta = alpha (t (1 - 1/alpha) + 1/alpha), alpha = k / (items - 1);
// the positive's logit s becomes log(1 / (sigmoid(s)^-beta - 1)), then BCE
// with the k negatives, summed per position and averaged over positions.
TEST(SeqTest, GbceMatchesThePapersFormula) {
  EXPECT_NEAR(GbceBeta(256, 1682, 0.75), 0.364217727, 1e-9);
  EXPECT_NEAR(GbceBeta(256, 1682, 0), 1.0, 1e-12);               // BCE
  EXPECT_NEAR(GbceBeta(256, 1682, 1), 256.0 / 1681.0, 1e-12);    // fully calibrated: alpha
  EXPECT_NEAR(GbceBeta(4, 9, 0.5), 0.5 * (0.5 * (1 - 2) + 2), 1e-12);
  const std::vector<float> pos = {2.0f, -1.5f, 0.25f};
  const std::vector<float> neg = {-1.0f, 0.5f, 3.0f, -2.0f, 0.0f, 1.0f};  // 2 per position
  for (double beta : {1.0, 0.3642, 0.05}) {
    double want = 0;
    for (size_t p = 0; p < pos.size(); ++p) {
      const double sig = 1 / (1 + std::exp(-static_cast<double>(pos[p])));
      const double transformed = std::log(1 / (std::pow(sig, -beta) - 1));
      want += -std::log(1 / (1 + std::exp(-transformed)));
      for (size_t j = 0; j < 2; ++j) want += -std::log(1 - 1 / (1 + std::exp(-static_cast<double>(neg[2 * p + j]))));
    }
    want /= static_cast<double>(pos.size());
    EXPECT_NEAR(GbceLoss(pos, neg, 2, beta), want, 1e-5) << "beta " << beta;
  }
  // beta < 1 weighs the positive less: a lower loss for the same logits.
  EXPECT_LT(GbceLoss(pos, neg, 2, 0.3), GbceLoss(pos, neg, 2, 1.0));
}

// gBCE trains (learns the planted pattern) and differs from BCE where the
// paper says it should: with k sampled negatives BCE's sigmoids are
// overconfident (at its optimum sigmoid(s_i) = p_i / (p_i + alpha (1 -
// p_i)), p_i the true next-item probability), gBCE at t = 1 calibrates them
// (sigmoid(s_i) = p_i). After a complete group the next item is the start
// of one of the other 9 groups (p ~ 1/9 each): BCE's sigmoids over the items
// sum to several, gBCE's at t = 1 to about 1. t = 0 is BCE (beta 1).
TEST(SeqTest, GbceTrainsAndCalibratesWhereBceIsOverconfident) {
  Dataset data = Chains();
  auto fit = [&](double t) {
    SeqOptions o = Tiny();
    o.loss = SeqOptions::Loss::kGbce;
    o.negatives = 3;
    o.gbce_t = t;
    o.probability_scores = false;  // the logits
    auto m = std::make_unique<SeqRecommender>(o);
    EXPECT_TRUE(m->Fit(data).ok());
    return m;
  };
  auto right = [&](const SeqRecommender& m) {
    int n = 0;
    for (uint32_t g = 0; g < kGroups; ++g) {
      const std::vector<uint32_t> h = {3 * g, 3 * g + 1};
      n += Top(Scores(m, h), h) == 3 * g + 2;
    }
    return n;
  };
  auto sigmoid_sum = [&](const SeqRecommender& m) {
    double sum = 0;
    for (uint32_t g = 0; g < kGroups; ++g) {
      const std::vector<uint32_t> h = {3 * g, 3 * g + 1, 3 * g + 2};
      for (float s : Scores(m, h)) sum += 1 / (1 + std::exp(-static_cast<double>(s)));
    }
    return sum / kGroups;
  };
  const auto bce = fit(0), calibrated = fit(1);
  const int right_bce = right(*bce), right_gbce = right(*calibrated);
  const double sum_bce = sigmoid_sum(*bce), sum_gbce = sigmoid_sum(*calibrated);
  std::printf("gbce t=0 (bce): %d of %u right, sum of sigmoids after a group %.3f, last loss %.4f\n", right_bce,
              kGroups, sum_bce, bce->last_loss());
  std::printf("gbce t=1: %d of %u right, sum of sigmoids after a group %.3f, last loss %.4f\n", right_gbce, kGroups,
              sum_gbce, calibrated->last_loss());
  EXPECT_GE(right_gbce, static_cast<int>(kGroups) - 1);
  EXPECT_GE(right_bce, static_cast<int>(kGroups) - 1);
  EXPECT_GT(sum_bce, 2.2);  // 2.82 when written
  EXPECT_LT(sum_gbce, 1.8);  // 1.37
  EXPECT_GT(sum_bce, 1.5 * sum_gbce);
  EXPECT_GT(sum_gbce, 0.5);
  // Seeded: the same t gives the same scores.
  const auto again = fit(1);
  const std::vector<uint32_t> h = {0, 1, 5};
  const auto a = Scores(*calibrated, h), b = Scores(*again, h);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

// Probability scores are exp((logit - max) / T) of the logits: the same
// order for one user, the top item at 1.
TEST(SeqTest, ProbabilityScoresKeepTheLogitsOrder) {
  Dataset data = Chains();
  SeqOptions o = Tiny();
  o.epochs = 5;
  o.probability_scores = false;
  SeqRecommender logits(o);
  ASSERT_TRUE(logits.Fit(data).ok());
  o.probability_scores = true;
  o.score_temperature = 2;
  SeqRecommender probs(o);
  ASSERT_TRUE(probs.Fit(data).ok());
  const std::vector<uint32_t> h = {0, 1, 5};
  const auto l = Scores(logits, h), p = Scores(probs, h);
  const float top = *std::max_element(l.begin(), l.end());
  EXPECT_EQ(*std::max_element(p.begin(), p.end()), 1.0f);
  for (size_t i = 0; i < l.size(); ++i) {
    EXPECT_FLOAT_EQ(p[i], std::exp((l[i] - top) / 2)) << i;
    for (size_t j = 0; j < l.size(); ++j) {
      if (l[i] < l[j]) {
        EXPECT_LE(p[i], p[j]) << i << " " << j;
      }
    }
  }
}

// relative_temperature: T is score_temperature times the logits' standard
// deviation, so logits scaled and shifted give the same scores.
TEST(SeqTest, RelativeTemperatureScalesWithTheLogitsSpread) {
  SeqOptions o;
  o.probability_scores = true;
  o.score_temperature = 1.5;
  o.relative_temperature = true;
  std::vector<float> a = {0, 1, 2, 3}, b = {10, 14, 18, 22};  // b = 4a + 10
  CalibrateScores(o, a);
  CalibrateScores(o, b);
  const double sd = std::sqrt(1.25);  // of {0, 1, 2, 3}
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], std::exp((static_cast<double>(i) - 3) / (1.5 * sd)), 1e-6) << i;
    EXPECT_NEAR(a[i], b[i], 1e-6) << i;
  }
  o.relative_temperature = false;  // absolute: the spread matters
  std::vector<float> c = {0, 1, 2, 3}, d = {10, 14, 18, 22};
  CalibrateScores(o, c);
  CalibrateScores(o, d);
  EXPECT_NEAR(c[2], std::exp(-1 / 1.5), 1e-6);
  EXPECT_NEAR(d[2], std::exp(-4 / 1.5), 1e-6);
}

TEST(SeqTest, JoinsTheFusedBlendAndItsStoredModel) {
  SeqOptions small = Tiny();
  small.epochs = 20;
  RegisterSeqComponent(small);  // as a binary linking the module does
  // Not in the default blend unless opted in (it would slow every Train).
  ::unsetenv("RECDB_COMPONENTS");
  auto names = models::RegisteredComponentNames(true);
  ASSERT_EQ(std::find(names.begin(), names.end(), "seq"), names.end());
  names = models::RegisteredComponentNames(false);
  ASSERT_NE(std::find(names.begin(), names.end(), "seq"), names.end());
  ::setenv("RECDB_COMPONENTS", "ials, seq", 1);
  names = models::RegisteredComponentNames(true);
  ASSERT_NE(std::find(names.begin(), names.end(), "seq"), names.end());
  Dataset data = Chains();
  models::ComponentConfig config;
  config.threads = 1;
  auto components = models::DefaultFusedComponents(data.num_items(), config);
  ASSERT_EQ(components.back().name, "seq");
  models::Fused fused(components);
  ASSERT_TRUE(fused.Fit(data).ok());
  models::ModelWriter w;
  ASSERT_TRUE(fused.Save(w).ok());
  models::Fused loaded(models::DefaultFusedComponents(data.num_items(), config));
  models::ModelReader r(w.bytes());
  ASSERT_TRUE(loaded.Load(r).ok()) << r.status().ToString();
  const std::vector<uint32_t> h = {0, 1};
  EXPECT_EQ(Scores(fused, h), Scores(loaded, h));
  // Its part of the score is reported per component.
  UserQuery q;
  q.items = h;
  auto top = fused.RecommendExplained(q, 3, h, nullptr);
  ASSERT_FALSE(top.empty());
  EXPECT_EQ(top[0].contributions.size(), components.size());
  ASSERT_NE(models::DefaultComponentFactory("seq", config), nullptr);
  ::unsetenv("RECDB_COMPONENTS");
}

}  // namespace
}  // namespace recdb::seq
