// The simulator's metrics on hand-made inputs (sim/metrics.h).
#include "sim/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace recdb::sim {
namespace {

TEST(SimMetricsTest, EntropyOfHandMadeLists) {
  EXPECT_DOUBLE_EQ(EntropyBits({}), 0.0);
  EXPECT_DOUBLE_EQ(EntropyBits({3}), 0.0);
  EXPECT_DOUBLE_EQ(EntropyBits({2, 2, 2, 2}), 0.0);
  EXPECT_DOUBLE_EQ(EntropyBits({0, 1}), 1.0);
  EXPECT_DOUBLE_EQ(EntropyBits({0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(EntropyBits({0, 1, 2, 3}), 2.0);
  // p = (3/4, 1/4): 0.811278 bits; order does not matter.
  const double h = -(0.75 * std::log2(0.75) + 0.25 * std::log2(0.25));
  EXPECT_NEAR(EntropyBits({5, 5, 9, 5}), h, 1e-12);
  EXPECT_NEAR(EntropyBits({9, 5, 5, 5}), h, 1e-12);
}

TEST(SimMetricsTest, GiniOfHandMadeLists) {
  EXPECT_DOUBLE_EQ(Gini({}), 0.0);
  EXPECT_DOUBLE_EQ(Gini({0, 0, 0}), 0.0);
  EXPECT_NEAR(Gini({1, 1, 1, 1}), 0.0, 1e-12);
  EXPECT_NEAR(Gini({0, 0, 0, 4}), 0.75, 1e-12);  // one holds all: (n-1)/n
  EXPECT_NEAR(Gini({4, 0, 0, 0}), 0.75, 1e-12);  // order does not matter
  // {1, 2, 3}: mean absolute difference 8/9 over 2 * mean 4 = 2/9.
  EXPECT_NEAR(Gini({3, 1, 2}), 2.0 / 9.0, 1e-12);
}

TEST(SimMetricsTest, Coverage) {
  EXPECT_DOUBLE_EQ(Coverage({}), 0.0);
  EXPECT_DOUBLE_EQ(Coverage({0, 2, 0, 1}), 0.5);
  EXPECT_DOUBLE_EQ(Coverage({1, 1}), 1.0);
}

TEST(SimMetricsTest, MeanAccumulatorInterval) {
  MeanAccumulator a;
  for (double x : {1.0, 2.0, 3.0, 4.0}) a.Add(x);
  EXPECT_EQ(a.n(), 4);
  EXPECT_DOUBLE_EQ(a.mean(), 2.5);
  EXPECT_NEAR(a.variance(), 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.HalfWidth95(), 1.96 * std::sqrt(5.0 / 3.0 / 4.0), 1e-12);
}

}  // namespace
}  // namespace recdb::sim
