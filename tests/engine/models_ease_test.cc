#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/models/candidates.h"
#include "engine/models/ease.h"

#include "models_test_data.h"

namespace recdb::models {
namespace {

// `users` users with 1-`max_items_per_user` random items each, skewed towards
// low ids (so that some pairs co-occur often); some items stay unused.
Dataset Random(uint32_t users, uint32_t items, uint32_t max_items_per_user, uint64_t seed) {
  std::mt19937_64 rng(seed);
  DatasetSpec spec;
  spec.num_users = users;
  spec.num_items = items;
  for (uint32_t u = 0; u < users; ++u) {
    const uint32_t k = 1 + static_cast<uint32_t>(rng() % max_items_per_user);
    for (uint32_t e = 0; e < k; ++e) {
      const double x = std::uniform_real_distribution<double>(0, 1)(rng);
      const uint32_t item = static_cast<uint32_t>(x * x * (items - 5));  // last 5 never used
      spec.interactions.push_back({u, item, static_cast<int64_t>(e), 1.0f});
    }
  }
  return Dataset::Build(std::move(spec)).value();
}

// The closed form computed the obvious way: a dense X, G = X^T X + lambda I,
// P = G^-1 by Eigen's LU, B = -P / diag(P) with a zero diagonal.
Eigen::MatrixXd BruteForceWeights(const Dataset& d, double lambda) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(d.num_users(), d.num_items());
  for (uint32_t u = 0; u < d.num_users(); ++u) {
    for (uint32_t i : d.UserItems(u)) x(u, i) = 1.0;
  }
  Eigen::MatrixXd g = x.transpose() * x;
  g.diagonal().array() += lambda;
  Eigen::MatrixXd p = g.inverse();
  Eigen::MatrixXd b(d.num_items(), d.num_items());
  for (Eigen::Index i = 0; i < b.rows(); ++i) {
    for (Eigen::Index j = 0; j < b.cols(); ++j) b(i, j) = i == j ? 0.0 : -p(i, j) / p(j, j);
  }
  return b;
}

// Row i of the fitted B, read through Score with the history {i}.
std::vector<float> Row(const Ease& ease, uint32_t i) {
  std::vector<float> scores(ease.num_items());
  const uint32_t item[] = {i};
  ease.Score(testdata::Query(item), scores);
  return scores;
}

double MaxAbsDiff(const Ease& ease, const Eigen::MatrixXd& ref) {
  double worst = 0;
  for (uint32_t i = 0; i < ease.num_items(); ++i) {
    std::vector<float> row = Row(ease, i);
    for (uint32_t j = 0; j < ease.num_items(); ++j) {
      worst = std::max(worst, std::abs(row[j] - ref(i, j)));
    }
  }
  return worst;
}

TEST(ModelsEaseTest, WeightsMatchBruteForceInverse) {
  // 203 items: not a multiple of the 64-item weight tiles.
  const Dataset d = Random(400, 203, 40, 11);
  for (bool single : {false, true}) {
    for (double lambda : {300.0, 2.0}) {
      EaseOptions o;
      o.lambda = lambda;
      o.single_precision = single;
      Ease ease(o);
      ASSERT_TRUE(ease.Fit(d).ok());
      ASSERT_EQ(ease.num_items(), 203u);
      const Eigen::MatrixXd ref = BruteForceWeights(d, lambda);
      const double scale = ref.cwiseAbs().maxCoeff();
      ASSERT_GT(scale, 1e-3) << "lambda " << lambda;  // a non-trivial B
      // float: the factorisation's rounding (2^-24 relative) grows with the
      // condition number of G, about 60 at lambda 2 here.
      EXPECT_LT(MaxAbsDiff(ease, ref), (single ? 1e-3 : 1e-4) * scale)
          << "lambda " << lambda << (single ? " float" : " double");
      EXPECT_EQ(Row(ease, 7)[7], 0.0f);  // zero diagonal
      EXPECT_EQ(Row(ease, 202)[202], 0.0f);
    }
  }
}

// The float fit (the default) ranks as the double one: the same top 10 of
// every item's row, up to swaps of near-ties.
TEST(ModelsEaseTest, FloatFitRanksAsTheDoubleFit) {
  const Dataset d = Random(2000, 300, 60, 17);
  EaseOptions fo, dob;
  dob.single_precision = false;
  ASSERT_TRUE(fo.single_precision) << "float is the default";
  Ease f(fo), db(dob);
  ASSERT_TRUE(f.Fit(d).ok());
  ASSERT_TRUE(db.Fit(d).ok());
  size_t same = 0, total = 0;
  for (uint32_t i = 0; i < d.num_items() - 5; ++i) {
    std::vector<float> rf = Row(f, i), rd = Row(db, i);
    std::vector<uint32_t> of(rf.size()), od(rd.size());
    for (uint32_t j = 0; j < of.size(); ++j) of[j] = od[j] = j;
    auto top = [](std::vector<uint32_t>& o, const std::vector<float>& r) {
      std::partial_sort(o.begin(), o.begin() + 10, o.end(),
                        [&](uint32_t a, uint32_t b) { return r[a] > r[b] || (r[a] == r[b] && a < b); });
      return std::set<uint32_t>(o.begin(), o.begin() + 10);
    };
    const std::set<uint32_t> a = top(of, rf), b = top(od, rd);
    for (uint32_t j : a) same += b.count(j);
    total += 10;
  }
  EXPECT_GE(static_cast<double>(same) / total, 0.999) << same << " of " << total;
}

TEST(ModelsEaseTest, ThreadCountDoesNotChangeTheWeights) {
  const Dataset d = Random(300, 150, 30, 5);
  EaseOptions one, three;
  one.threads = 1;
  three.threads = 3;
  Ease a(one), b(three);
  ASSERT_TRUE(a.Fit(d).ok());
  ASSERT_TRUE(b.Fit(d).ok());
  for (uint32_t i = 0; i < d.num_items(); ++i) {
    std::vector<float> ra = Row(a, i), rb = Row(b, i);
    for (uint32_t j = 0; j < d.num_items(); ++j) ASSERT_NEAR(ra[j], rb[j], 1e-6) << i << "," << j;
  }
}

TEST(ModelsEaseTest, ScoreSumsRowsOfDistinctHistoryItems) {
  const Dataset d = Random(100, 40, 10, 3);
  Ease ease;
  ASSERT_TRUE(ease.Fit(d).ok());
  const std::vector<float> r2 = Row(ease, 2), r9 = Row(ease, 9);
  const uint32_t history[] = {9, 2, 9, 1000};  // repeated and unknown items
  std::vector<float> scores(ease.num_items());
  ease.Score(testdata::Query(history), scores);
  for (uint32_t j = 0; j < ease.num_items(); ++j) EXPECT_FLOAT_EQ(scores[j], r2[j] + r9[j]);
}

TEST(ModelsEaseTest, RefusesCatalogueAboveMaxItemsWithResourceExhausted) {
  const Dataset d = Random(50, 30, 5, 1);
  EaseOptions o;
  o.max_items = 29;
  Ease ease(o);
  Status s = ease.Fit(d);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_NE(s.ToString().find("max_items"), std::string::npos) << s.ToString();
  EXPECT_EQ(ease.num_items(), 0u);
  o.max_items = 30;
  EXPECT_TRUE(Ease(o).Fit(d).ok());
}

// Past EASE's item limit the default blend degrades to the other components
// and says why (TrainReport::notes), never an allocation failure.
TEST(ModelsEaseTest, TheDefaultBlendLeavesEaseOutPastItsLimitWithAReason) {
  const uint32_t limit = EaseOptions().max_items;
  auto names = [](uint32_t items) {
    std::vector<std::string> out;
    for (const Fused::Component& c : DefaultFusedComponents(items, ComponentConfig{}, true)) {
      out.push_back(c.name);
    }
    return out;
  };
  auto has_ease = [&](uint32_t items) {
    const auto n = names(items);
    return std::find(n.begin(), n.end(), "ease") != n.end();
  };
  EXPECT_TRUE(has_ease(limit));
  EXPECT_TRUE(LeftOutComponents(limit).empty());
  EXPECT_FALSE(has_ease(limit + 1));
  EXPECT_EQ(names(limit + 1).size() + 1, names(limit).size()) << "only EASE goes";
  const std::vector<std::string> why = LeftOutComponents(100000);
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("ease"), std::string::npos) << why[0];
  EXPECT_NE(why[0].find("100000 items"), std::string::npos) << why[0];
  EXPECT_NE(why[0].find("max_items"), std::string::npos) << why[0];
}

TEST(ModelsEaseTest, RejectsNonPositiveLambda) {
  EaseOptions o;
  o.lambda = 0;
  EXPECT_TRUE(Ease(o).Fit(Random(10, 10, 3, 1)).IsInvalidArgument());
}

TEST(ModelsEaseTest, EmptyCatalogueFitsToNothing) {
  DatasetSpec spec;
  Ease ease;
  ASSERT_TRUE(ease.Fit(Dataset::Build(spec).value()).ok());
  EXPECT_EQ(ease.num_items(), 0u);
}

}  // namespace
}  // namespace recdb::models
