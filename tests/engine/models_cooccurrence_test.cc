#include "engine/models/cooccurrence.h"

#include <gtest/gtest.h>

#include <cmath>

#include "models_test_data.h"

namespace recdb::models {
namespace {

// Users 0 and 1 do 0 then 1; user 2 does 2 then 0; user 0 also does item 3
// an hour later.
Dataset Sessions() {
  DatasetSpec spec;
  spec.num_users = 3;
  spec.num_items = 4;
  spec.interactions = {{0, 0, 10}, {0, 1, 20}, {0, 3, 3620}, {1, 0, 10}, {1, 1, 20},
                       {1, 1, 30}, {2, 2, 10}, {2, 0, 20}};
  return Dataset::Build(spec).value();
}

uint32_t NeighbourCount(const Cooccurrence& c, uint32_t item) {
  return static_cast<uint32_t>(c.Neighbours(item).size());
}

TEST(ModelsCooccurrenceTest, KAnonymityDropsPairsOfFewUsers) {
  CooccurrenceOptions o;
  o.min_users = 2;
  o.directed = true;
  Cooccurrence c(o);
  ASSERT_TRUE(c.Fit(Sessions()).ok());
  // 0 -> 1 is supported by two users (user 1's repeat counts once); 0 -> 3
  // and 2 -> 0 by one each.
  ASSERT_EQ(NeighbourCount(c, 0), 1u);
  const auto n = c.Neighbours(0)[0];
  EXPECT_EQ(n.item, 1u);
  // c=2, n_0=3, n_1=2: 2/sqrt(6) * 2/(2+5)
  EXPECT_NEAR(n.score, 2 / std::sqrt(6.0) * 2.0 / 7.0, 1e-6);
  EXPECT_EQ(NeighbourCount(c, 2), 0u);
  EXPECT_EQ(NeighbourCount(c, 1), 0u);  // directed: nothing after 1 twice

  o.min_users = 1;
  Cooccurrence loose(o);
  ASSERT_TRUE(loose.Fit(Sessions()).ok());
  EXPECT_EQ(NeighbourCount(loose, 0), 2u);  // 1 and 3
  EXPECT_EQ(NeighbourCount(loose, 2), 1u);
}

TEST(ModelsCooccurrenceTest, TimeWindowAndSymmetry) {
  CooccurrenceOptions o;
  o.min_users = 1;
  o.directed = false;
  o.window_seconds = 600;  // item 3 is an hour later: a different session
  Cooccurrence c(o);
  ASSERT_TRUE(c.Fit(Sessions()).ok());
  for (const auto& n : c.Neighbours(0)) EXPECT_NE(n.item, 3u);
  EXPECT_EQ(NeighbourCount(c, 3), 0u);
  EXPECT_EQ(NeighbourCount(c, 1), 1u);  // symmetric: 1 -> 0
  std::vector<uint32_t> hist = {2};
  std::vector<float> s(4);
  c.Score(testdata::Query(hist), s);
  EXPECT_GT(s[0], 0.0f);
}

}  // namespace
}  // namespace recdb::models
