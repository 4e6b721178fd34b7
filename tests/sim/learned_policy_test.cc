// The learned policy's math (sim/learned_policy.h): the REINFORCE gradient
// against finite differences, the capped importance weight and lambda_K on
// hand-made inputs, the Plackett-Luce draw's logged propensities against
// their empirical frequencies, and beta recovered from the logged slots.
#include "sim/learned_policy.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/rng.h"

namespace recdb::sim {
namespace {

TEST(LearnedPolicyTest, CappedImportanceWeightOnHandMadeInputs) {
  EXPECT_DOUBLE_EQ(CappedImportanceWeight(0.2, 0.1, 10), 2.0);
  EXPECT_DOUBLE_EQ(CappedImportanceWeight(0.05, 0.2, 10), 0.25);
  EXPECT_DOUBLE_EQ(CappedImportanceWeight(0.5, 0.01, 10), 10.0);  // 50, capped
  EXPECT_DOUBLE_EQ(CappedImportanceWeight(0.5, 0.01, 3), 3.0);
  EXPECT_DOUBLE_EQ(CappedImportanceWeight(0.5, 0.0, 10), 0.0);    // no behaviour mass
}

TEST(LearnedPolicyTest, TopKMultiplierOnHandMadeInputs) {
  EXPECT_NEAR(TopKMultiplier(0.1, 10), 10 * std::pow(0.9, 9), 1e-12);  // 3.8742...
  EXPECT_NEAR(TopKMultiplier(0.1, 10), 3.874204890, 1e-9);
  EXPECT_DOUBLE_EQ(TopKMultiplier(0.0, 10), 10.0);  // an unlikely item: K times the push
  EXPECT_DOUBLE_EQ(TopKMultiplier(1.0, 10), 0.0);   // already surely in the list
  EXPECT_DOUBLE_EQ(TopKMultiplier(0.3, 1), 1.0);    // K = 1: plain REINFORCE
  EXPECT_DOUBLE_EQ(TopKMultiplier(0.5, 2), 1.0);    // 2 * 0.5
  // lambda_K is the derivative of 1 - (1 - pi)^K.
  const double pi = 0.07, h = 1e-6;
  const auto alpha = [](double p) { return 1 - std::pow(1 - p, 10); };
  EXPECT_NEAR(TopKMultiplier(pi, 10), (alpha(pi + h) - alpha(pi - h)) / (2 * h), 1e-6);
}

TEST(LearnedPolicyTest, SoftmaxProbabilities) {
  // Three candidates, one feature: pi = softmax(log(0.5), log(0.3), log(0.2)).
  const std::vector<float> x = {static_cast<float>(std::log(0.5)), static_cast<float>(std::log(0.3)),
                                static_cast<float>(std::log(0.2))};
  const auto pi = SoftmaxProbabilities(x, 1, {1.0});
  ASSERT_EQ(pi.size(), 3u);
  EXPECT_NEAR(pi[0], 0.5, 1e-6);
  EXPECT_NEAR(pi[1], 0.3, 1e-6);
  EXPECT_NEAR(pi[2], 0.2, 1e-6);
}

TEST(LearnedPolicyTest, PlackettLucePropensitiesAreTheDrawFrequencies) {
  const std::vector<double> pi = {0.4, 0.3, 0.2, 0.1};
  // Slot 0 frequencies, and slot 1 given item 0 at slot 0.
  std::vector<int> first(4, 0), second_given0(4, 0);
  int given0 = 0;
  const int kRuns = 40000;
  for (int r = 0; r < kRuns; ++r) {
    Rng rng(DrawKey(3, kLearnedPolicyStream, static_cast<uint64_t>(r)));
    std::vector<double> props;
    const auto picks = PlackettLuceDraw(pi, 2, &rng, &props);
    ASSERT_EQ(picks.size(), 2u);
    ASSERT_NE(picks[0], picks[1]);
    EXPECT_NEAR(props[0], pi[picks[0]], 1e-12);
    EXPECT_NEAR(props[1], pi[picks[1]] / (1 - pi[picks[0]]), 1e-12);
    ++first[picks[0]];
    if (picks[0] == 0) {
      ++given0;
      ++second_given0[picks[1]];
    }
  }
  for (size_t a = 0; a < 4; ++a) {
    EXPECT_NEAR(static_cast<double>(first[a]) / kRuns, pi[a], 0.01) << a;
  }
  for (size_t a = 1; a < 4; ++a) {
    EXPECT_NEAR(static_cast<double>(second_given0[a]) / given0, pi[a] / 0.6, 0.015) << a;
  }
  // Fewer candidates than slots: all of them, the last with propensity 1.
  Rng rng(1);
  std::vector<double> props;
  const auto all = PlackettLuceDraw({0.7, 0.3}, 5, &rng, &props);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NEAR(props[1], 1.0, 1e-12);
}

// With a category cap, a full category is skipped while another can be
// drawn, and each propensity is the pick's share of the drawable mass.
TEST(LearnedPolicyMathTest, CappedDrawSpansCategoriesWithExactPropensities) {
  const std::vector<double> pi = {0.5, 0.3, 0.1, 0.06, 0.04};
  const std::vector<int> group = {0, 0, 0, 1, -1};  // -1: no category, never capped
  int slot1_is_3 = 0, slot1_given0 = 0;
  const int kRuns = 20000;
  for (int r = 0; r < kRuns; ++r) {
    Rng rng(DrawKey(5, kLearnedPolicyStream, static_cast<uint64_t>(r)));
    std::vector<double> props;
    const auto picks = PlackettLuceDraw(pi, 3, &rng, &props, &group, 1);
    ASSERT_EQ(picks.size(), 3u);
    // Only one of category 0 while 3 (category 1) and 4 (none) remain.
    int zeros = 0;
    for (size_t a : picks) zeros += group[a] == 0;
    ASSERT_EQ(zeros, 1) << r;
    EXPECT_NEAR(props[0], pi[picks[0]], 1e-12);
    if (group[picks[0]] == 0) {
      // Drawable at slot 1: items 3 and 4 only.
      EXPECT_NEAR(props[1], pi[picks[1]] / 0.1, 1e-12);
      if (picks[0] == 0) {
        ++slot1_given0;
        slot1_is_3 += picks[1] == 3;
      }
    }
  }
  EXPECT_NEAR(static_cast<double>(slot1_is_3) / slot1_given0, 0.6, 0.02);
  // The cap relaxes when nothing else is left: all 3 drawn from category 0.
  Rng rng(2);
  std::vector<double> props;
  const std::vector<int> one = {0, 0, 0};
  const auto all = PlackettLuceDraw({0.5, 0.3, 0.2}, 3, &rng, &props, &one, 1);
  EXPECT_EQ(all.size(), 3u);
  EXPECT_NEAR(props[2], 1.0, 1e-12);
}

// PlackettLuceSlotMarginals: P(item a at slot j) over all lists the draw
// makes, against the draw's own frequencies, and each slot's marginals over
// the candidates summing to 1 (which the quadrature must get right).
void ExpectMarginalsAreTheDrawFrequencies(const std::vector<double>& pi, size_t k,
                                          const std::vector<int>* group, size_t cap,
                                          double tolerance) {
  const size_t n = pi.size();
  const size_t slots = std::min(k, n);
  std::vector<std::vector<double>> freq(n, std::vector<double>(slots, 0.0));
  const int kRuns = 200000;
  for (int r = 0; r < kRuns; ++r) {
    Rng rng(DrawKey(9, kLearnedPolicyStream, static_cast<uint64_t>(r)));
    std::vector<double> props;
    const auto picks = PlackettLuceDraw(pi, k, &rng, &props, group, cap);
    for (size_t j = 0; j < picks.size(); ++j) freq[picks[j]][j] += 1.0 / kRuns;
  }
  std::vector<double> slot_sum(slots, 0.0);
  for (size_t a = 0; a < n; ++a) {
    const std::vector<size_t> same(slots, a);  // a at every slot
    const auto m = policy::PlackettLuceSlotMarginals(pi, same, group, cap);
    ASSERT_EQ(m.size(), slots);
    for (size_t j = 0; j < slots; ++j) {
      EXPECT_NEAR(m[j], freq[a][j], tolerance) << "item " << a << " slot " << j;
      slot_sum[j] += m[j];
    }
  }
  if (!group || cap <= 1) {
    for (size_t j = 0; j < slots; ++j) EXPECT_NEAR(slot_sum[j], 1.0, 1e-7) << "slot " << j;
  }
}

TEST(LearnedPolicyMathTest, SlotMarginalsOfAnUncappedDrawAreExact) {
  const std::vector<double> pi = {0.35, 0.25, 0.15, 0.1, 0.08, 0.05, 0.02};
  ExpectMarginalsAreTheDrawFrequencies(pi, 5, nullptr, 0, 0.004);
  // Slot 0 is pi itself; slot 1 of item 0 by hand: sum_b pi_b pi_0 / (1 - pi_b).
  const auto m = policy::PlackettLuceSlotMarginals(pi, {2, 0});
  EXPECT_NEAR(m[0], 0.15, 1e-9);
  double slot1 = 0;
  for (size_t b = 1; b < pi.size(); ++b) slot1 += pi[b] * pi[0] / (1 - pi[b]);
  EXPECT_NEAR(m[1], slot1, 1e-9);
  // The conditional propensity the draw logs is another quantity.
  EXPECT_GT(std::abs(m[1] - pi[0] / (1 - pi[2])), 0.05);
  // Unnormalised weights give the same marginals.
  std::vector<double> scaled;
  for (double p : pi) scaled.push_back(3 * p);
  const auto ms = policy::PlackettLuceSlotMarginals(scaled, {2, 0});
  EXPECT_NEAR(ms[1], m[1], 1e-9);
}

TEST(LearnedPolicyMathTest, SlotMarginalsOfACappedDrawAreExact) {
  const std::vector<double> pi = {0.3, 0.2, 0.15, 0.12, 0.08, 0.06, 0.05, 0.04};
  // Categories 0 (three items), 1 (two), 2 (one) and two without a group:
  // five blocks, so with k = 7 the cap relaxes for slots 5 and 6.
  const std::vector<int> group = {0, 1, 0, 2, -1, 1, 0, -1};
  ExpectMarginalsAreTheDrawFrequencies(pi, 7, &group, 1, 0.004);
}

TEST(LearnedPolicyMathTest, SlotMarginalsAboveCapOneAreEstimatedByDraws) {
  const std::vector<double> pi = {0.3, 0.25, 0.2, 0.15, 0.1};
  const std::vector<int> group = {0, 0, 0, 1, 1};
  ExpectMarginalsAreTheDrawFrequencies(pi, 4, &group, 2, 0.012);
}

// Random lists: n candidates, dim features, some rewarded slots.
std::vector<LoggedList> RandomLists(size_t dim, uint64_t seed) {
  Rng rng(seed);
  std::vector<LoggedList> lists;
  for (int l = 0; l < 6; ++l) {
    LoggedList list;
    list.when = 1;
    list.n = 5 + static_cast<size_t>(l);
    for (size_t i = 0; i < list.n * dim; ++i) list.features.push_back(static_cast<float>(rng.Normal()));
    for (size_t j = 0; j < 3; ++j) {
      list.shown.push_back((j * 2 + static_cast<size_t>(l)) % list.n);
      list.beta.push_back(0.05 + 0.3 * rng.Uniform());
      list.reward.push_back(j == 1 ? 0.0 : 1.0 + static_cast<double>(j));
    }
    lists.push_back(std::move(list));
  }
  return lists;
}

TEST(LearnedPolicyTest, GradientMatchesFiniteDifferences) {
  const size_t dim = 4;
  const auto lists = RandomLists(dim, 11);
  for (double cap : {10.0, 1.5, -1.0}) {  // 1.5: some weights capped; -1: entropy term
    ReinforceSettings s;
    if (cap < 0) {
      cap = 10.0;
      s.entropy_weight = 0.3;
    }
    s.dim = dim;
    s.k = 3;
    s.weight_cap = cap;
    s.l2 = 0.01;
    s.total_slots = 18;
    const std::vector<double> theta = {0.3, -0.7, 0.1, 0.5};
    const auto g = ReinforceGradient(theta, lists, s);
    ASSERT_EQ(g.size(), dim);
    double norm = 0;
    for (size_t d = 0; d < dim; ++d) {
      const double h = 1e-5;
      auto plus = theta, minus = theta;
      plus[d] += h;
      minus[d] -= h;
      const double fd = (ReinforceObjective(plus, theta, lists, s) -
                         ReinforceObjective(minus, theta, lists, s)) /
                        (2 * h);
      EXPECT_NEAR(g[d], fd, 1e-7) << "cap " << cap << " dim " << d;
      norm += g[d] * g[d];
    }
    EXPECT_GT(norm, 1e-6);  // not a vacuous comparison of zeros
  }
}

// The entropy regulariser keeps the trained softmax flatter: the same log,
// the same steps, a higher mean entropy with tau > 0, and the higher the
// tau the higher the entropy.
TEST(LearnedPolicyTest, EntropyRegulariserKeepsThePolicyFlatter) {
  const size_t dim = 4;
  const auto lists = RandomLists(dim, 13);
  auto trained_entropy = [&](double tau) {
    ReinforceSettings s;
    s.dim = dim;
    s.k = 3;
    s.total_slots = 18;
    s.entropy_weight = tau;
    policy::AdamSettings adam;
    adam.steps = 200;
    std::vector<double> theta(dim, 0.0);
    policy::TrainReinforce(lists, s, adam, &theta);
    double h = 0;
    for (const auto& l : lists) h += policy::SoftmaxEntropy(SoftmaxProbabilities(l.features, dim, theta));
    return h / static_cast<double>(lists.size());
  };
  const double h0 = trained_entropy(0), h1 = trained_entropy(0.1), h2 = trained_entropy(1.0);
  EXPECT_GT(h1, h0 + 0.01);
  EXPECT_GT(h2, h1 + 0.01);
  EXPECT_NEAR(policy::SoftmaxEntropy({0.5, 0.5}), std::log(2.0), 1e-12);
  EXPECT_EQ(trained_entropy(0.1), h1);  // deterministic
}

TEST(LearnedPolicyTest, GradientAscentRaisesTheRewardedItemsProbability) {
  // One candidate always rewarded when shown: the gradient pushes its pi up.
  const size_t dim = 2;
  LoggedList l;
  l.n = 3;
  l.features = {1, 0, 0, 1, 0.5f, 0.5f};
  l.shown = {0};
  l.beta = {1.0 / 3};
  l.reward = {1};
  ReinforceSettings s;
  s.dim = dim;
  s.k = 2;
  s.l2 = 0;
  std::vector<double> theta = {0, 0};
  const double before = SoftmaxProbabilities(l.features, dim, theta)[0];
  for (int step = 0; step < 20; ++step) {
    const auto g = ReinforceGradient(theta, {l}, s);
    for (size_t d = 0; d < dim; ++d) theta[d] += 0.5 * g[d];
  }
  EXPECT_GT(SoftmaxProbabilities(l.features, dim, theta)[0], before + 0.2);
}

}  // namespace
}  // namespace recdb::sim
