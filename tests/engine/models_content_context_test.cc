// ContentProfile (content-profile recommender) and ContextPopularity
// (context-conditional popularity) on small synthetic data.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/models/content_profile.h"
#include "engine/models/context.h"
#include "engine/models/context_popularity.h"
#include "engine/models/fused.h"
#include "models_test_data.h"

namespace recdb::models {
namespace {

// Items 0..19: even ids point along axis 0, odd ids along axis 1, with a
// small per-item wobble on axis 2.
std::shared_ptr<const ItemVectors> TwoAxisVectors(uint32_t items, uint32_t with_vectors) {
  auto v = std::make_shared<ItemVectors>(items, 3);
  for (uint32_t i = 0; i < with_vectors; ++i) {
    const float x[3] = {i % 2 == 0 ? 1.0f : 0.0f, i % 2 == 1 ? 1.0f : 0.0f, 0.01f * static_cast<float>(i)};
    EXPECT_TRUE(v->Set(i, x));
  }
  return v;
}

TEST(ContentProfileTest, ScoresByCosineToTheDecayedWeightedMeanOfTheHistory) {
  Dataset data = testdata::Clustered(20, 20, 6);
  ContentProfile m(TwoAxisVectors(20, 20));
  ASSERT_TRUE(m.Fit(data).ok());
  std::vector<float> s(m.num_items());
  const uint32_t even[] = {0, 2};
  m.Score(testdata::Query(even), s);
  EXPECT_GT(s[4], s[5]);  // same axis as the history
  // One new odd event, newest: with a short half-life it dominates the profile.
  const uint32_t items[] = {0, 2, 3};
  const int64_t ts[] = {0, 0, 86400 * 30};
  ContentProfileOptions o;
  o.half_life_seconds = 86400;
  ContentProfile fast(TwoAxisVectors(20, 20), o);
  ASSERT_TRUE(fast.Fit(data).ok());
  UserQuery q = testdata::Query(items);
  q.timestamps = ts;
  fast.Score(q, s);
  EXPECT_GT(s[5], s[4]) << "the newest event moved the profile at once";
  // Event weights: the same history with the odd event weighted 0 is even again.
  const float w[] = {1, 1, 0};
  q.weights = w;
  fast.Score(q, s);
  EXPECT_GT(s[4], s[5]);
}

TEST(ContentProfileTest, ItemsWithoutAVectorGetTheMeanAndHistoryWithoutVectorsGivesNoOpinion) {
  Dataset data = testdata::Clustered(20, 20, 6);
  ContentProfile m(TwoAxisVectors(20, 10));  // items 10..19 have no vector
  ASSERT_TRUE(m.Fit(data).ok());
  std::vector<float> s(m.num_items());
  const uint32_t even[] = {0};
  m.Score(testdata::Query(even), s);
  double mean = 0;
  for (uint32_t i = 0; i < 10; ++i) mean += s[i];
  EXPECT_NEAR(s[15], mean / 10, 1e-5);
  const uint32_t none[] = {12, 13};
  EXPECT_TRUE(m.Profile(testdata::Query(none)).empty());
  m.Score(testdata::Query(none), s);
  for (float x : s) EXPECT_EQ(x, 0.0f);
  // A lookup supplies vectors of items the snapshot lacks.
  const float odd_axis[3] = {0, 1, 0};
  auto p = m.Profile(testdata::Query(none), [&](uint32_t) { return odd_axis; });
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NEAR(p[1], 1.0, 1e-6);
  ContentProfile empty(std::make_shared<ItemVectors>(20, 3));
  EXPECT_EQ(empty.Fit(data).code(), StatusCode::kInvalidArgument);
}

TEST(ContextTest, DerivedFeaturesFollowUtcTime) {
  // 2024-01-06 was a Saturday; 07:30 UTC is morning.
  const int64_t sat_morning = 1704526200;
  auto f = DerivedContextFeatures(sat_morning);
  EXPECT_EQ(DerivedContextFeatureNames()[f[0]], "daypart=morning");
  EXPECT_EQ(DerivedContextFeatureNames()[f[1]], "weekend=1");
  auto g = DerivedContextFeatures(sat_morning + 2 * 86400 + 12 * 3600);  // Monday 19:30
  EXPECT_EQ(DerivedContextFeatureNames()[g[0]], "daypart=evening");
  EXPECT_EQ(DerivedContextFeatureNames()[g[1]], "weekend=0");
}

// Items 0..9 are what mobile users pick, 10..19 desktop; overall both halves
// are equally popular, and equally recent. Feature 6 = device=mobile, 7 = device=desktop.
Dataset DeviceWorld() {
  DatasetSpec spec;
  spec.num_users = 40;
  spec.num_items = 20;
  spec.context_feature_names = DerivedContextFeatureNames();
  spec.context_feature_names.push_back("device=mobile");
  spec.context_feature_names.push_back("device=desktop");
  spec.context_combos = {{6}, {7}};
  for (uint32_t u = 0; u < 40; ++u) {
    const bool mobile = u % 2 == 0;
    for (uint32_t e = 0; e < 6; ++e) {
      Interaction in;
      in.user = u;
      in.item = (mobile ? 0 : 10) + (u / 2 + e) % 10;
      in.ts = 1700000000 + (u / 2) * 100 + e;  // both devices equally recent
      in.context = mobile ? 0 : 1;
      spec.interactions.push_back(in);
    }
  }
  return std::move(Dataset::Build(std::move(spec))).value();
}

TEST(ContextPopularityTest, TheRequestsDeviceSelectsWhatThatDevicesUsersPick) {
  Dataset data = DeviceWorld();
  ASSERT_EQ(data.FindContextFeature("device=mobile"), 6u);
  ContextPopularity m;
  ASSERT_TRUE(m.Fit(data).ok());
  std::vector<float> s(20);
  const uint32_t mobile[] = {6};
  const uint32_t desktop[] = {7};
  m.ScoreFeatures(mobile, s);
  for (uint32_t i = 0; i < 10; ++i) {
    for (uint32_t j = 10; j < 20; ++j) EXPECT_GT(s[i], s[j]) << i << " vs " << j;
  }
  m.ScoreFeatures(desktop, s);
  for (uint32_t i = 0; i < 10; ++i) {
    for (uint32_t j = 10; j < 20; ++j) EXPECT_LT(s[i], s[j]);
  }
  // No features: plain popularity, both halves alike.
  m.ScoreFeatures({}, s);
  float lo = s[0], hi = s[0];
  for (float x : s) lo = std::min(lo, x), hi = std::max(hi, x);
  EXPECT_LT(hi - lo, 0.5f);
  // Through a query: context_features plus time.
  UserQuery q;
  q.context_features = mobile;
  q.context_time = 1700000000;
  m.Score(q, s);
  EXPECT_GT(s[0], s[10]);
}

TEST(ContextPopularityTest, FusedCarriesTheContextForAnUnknownUser) {
  Dataset data = DeviceWorld();
  Fused fused(DefaultFusedComponents(1, data.num_items()));
  ASSERT_TRUE(fused.Fit(data).ok());
  const uint32_t mobile[] = {6};
  UserQuery q;
  q.context_features = mobile;
  q.context_time = 1700000000;
  auto top = fused.RecommendExplained(q, 5, {}, nullptr);
  ASSERT_EQ(top.size(), 5u);
  for (const auto& r : top) EXPECT_LT(r.item, 10u) << "mobile requests get mobile items";
}

TEST(FusedContextTest, DeltasApplyToTheRequestsFeaturesAndNeverToSwitchedOffComponents) {
  Dataset data = DeviceWorld();
  FusedOptions fo;
  fo.learn_weights = false;
  Fused fused(DefaultFusedComponents(1, data.num_items()), fo);
  ASSERT_TRUE(fused.Fit(data).ok());
  const size_t m = fused.num_components();
  size_t cp = m;
  for (size_t j = 0; j < m; ++j) {
    if (fused.component_name(j) == "context_pop") cp = j;
  }
  ASSERT_LT(cp, m);
  fused.SetContextDeltas({{"device=mobile", cp, 0.5}, {"no=such", cp, 9.0}});
  ASSERT_EQ(fused.ContextDeltas().size(), 1u) << "unknown features are skipped";
  EXPECT_EQ(fused.ContextDeltas()[0].feature, "device=mobile");
  const uint32_t mobile[] = {6};
  const uint32_t desktop[] = {7};
  UserQuery q;
  q.context_features = mobile;
  EXPECT_DOUBLE_EQ(fused.EffectiveWeights(q)[cp], 1.5);
  q.context_features = desktop;
  EXPECT_DOUBLE_EQ(fused.EffectiveWeights(q)[cp], 1.0);
  // A component the request (or consent) switched off stays off.
  q.context_features = mobile;
  std::vector<double> base(m, 1.0);
  base[cp] = 0;
  EXPECT_DOUBLE_EQ(fused.EffectiveWeights(q, base)[cp], 0.0);
}

}  // namespace
}  // namespace recdb::models
