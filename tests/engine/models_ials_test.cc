#include "engine/models/ials.h"

#include <gtest/gtest.h>

#include "models_test_data.h"

namespace recdb::models {
namespace {

IalsOptions Small(int threads) {
  IalsOptions o;
  o.factors = 8;
  o.iterations = 10;
  o.threads = threads;
  return o;
}

TEST(ModelsIalsTest, FitIsDeterministicAndIndependentOfThreads) {
  Dataset d = testdata::Clustered();
  Ials a(Small(1)), b(Small(2)), c(Small(2));
  ASSERT_TRUE(a.Fit(d).ok());
  ASSERT_TRUE(b.Fit(d).ok());
  ASSERT_TRUE(c.Fit(d).ok());
  EXPECT_EQ(a.user_factors(), b.user_factors());
  EXPECT_EQ(b.item_factors(), c.item_factors());
}

TEST(ModelsIalsTest, RecommendsTheUsersCluster) {
  Dataset d = testdata::Clustered();
  Ials m(Small(2));
  ASSERT_TRUE(m.Fit(d).ok());
  std::vector<float> s(d.num_items());
  for (uint32_t u : {0u, 1u}) {
    m.Score(testdata::Query({}, u), s);
    auto top = TopK(s, 5, d.item_rank());
    for (const auto& t : top) EXPECT_EQ(t.item % 2, u % 2) << "user " << u;
  }
}

TEST(ModelsIalsTest, FoldInAgreesWithTrainedUserVectors) {
  Dataset d = testdata::Clustered();
  IalsOptions o = Small(2);
  o.cg_steps = 0;  // exact solves
  Ials m(o);
  ASSERT_TRUE(m.Fit(d).ok());
  for (uint32_t u = 0; u < 10; ++u) {
    Eigen::VectorXf f = m.FoldIn(d.UserItems(u));
    Eigen::VectorXf t = m.user_factors().row(u).transpose();
    EXPECT_GT(f.dot(t) / (f.norm() * t.norm()), 0.95) << "user " << u;
  }
  // An unknown user is scored by fold-in of the query history.
  std::vector<uint32_t> hist = {0, 2, 4, 1000};  // 1000: unknown item, ignored
  std::vector<float> s(d.num_items());
  m.Score(testdata::Query(hist), s);
  Eigen::VectorXf expect = m.item_factors() * m.FoldIn(hist);
  for (uint32_t i = 0; i < d.num_items(); ++i) EXPECT_FLOAT_EQ(s[i], expect[i]);
  auto top = TopK(s, 3, d.item_rank());
  for (const auto& t : top) EXPECT_EQ(t.item % 2, 0u);
  EXPECT_EQ(m.FoldIn({}).norm(), 0.0f);
}

TEST(ModelsIalsTest, RejectsBadOptions) {
  IalsOptions o;
  o.factors = 0;
  Ials m(o);
  EXPECT_TRUE(m.Fit(testdata::Clustered()).IsInvalidArgument());
}

}  // namespace
}  // namespace recdb::models
