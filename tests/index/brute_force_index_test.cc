#include "index/brute_force_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "clustered_data.h"
#include "index/id_filter.h"
#include "index/vector_math.h"

namespace recdb::index {
namespace {

std::vector<float> V(std::initializer_list<float> xs) { return std::vector<float>(xs); }

TEST(BruteForceIndexTest, ScoresFollowTheDocumentedConvention) {
  BruteForceIndex l2(2, Metric::kL2);
  ASSERT_TRUE(l2.Add(1, V({0, 0})).ok());
  ASSERT_TRUE(l2.Add(2, V({3, 4})).ok());
  auto r = l2.Search(V({0, 0}), 2);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (Neighbor{1, 0.0f}));
  EXPECT_EQ((*r)[1], (Neighbor{2, -25.0f}));  // -squared distance

  BruteForceIndex ip(2, Metric::kInnerProduct);
  ASSERT_TRUE(ip.Add(1, V({1, 0})).ok());
  ASSERT_TRUE(ip.Add(2, V({2, 2})).ok());
  r = ip.Search(V({1, 1}), 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0], (Neighbor{2, 4.0f}));
  EXPECT_EQ((*r)[1], (Neighbor{1, 1.0f}));

  BruteForceIndex cos(2, Metric::kCosine);
  ASSERT_TRUE(cos.Add(1, V({10, 0})).ok());
  ASSERT_TRUE(cos.Add(2, V({1, 1})).ok());
  r = cos.Search(V({0, 5}), 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].id, 2u);
  EXPECT_NEAR((*r)[0].score, std::sqrt(0.5f), 1e-6);
  EXPECT_EQ((*r)[1].id, 1u);
  EXPECT_NEAR((*r)[1].score, 0.0f, 1e-6);
  auto got = cos.Get(1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, V({1, 0}));  // stored normalised
}

TEST(BruteForceIndexTest, MatchesNaiveScanAndBreaksTiesById) {
  const auto data = test::MakeClustered(500, 8, 5, 7);
  BruteForceIndex index(8, Metric::kL2);
  for (size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(index.Add(i, data.Row(i)).ok());
  ASSERT_TRUE(index.Add(1000, data.Row(3)).ok());  // exact tie with id 3
  auto r = index.Search(data.Row(3), 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 10u);
  EXPECT_EQ((*r)[0], (Neighbor{3, 0.0f}));
  EXPECT_EQ((*r)[1], (Neighbor{1000, 0.0f}));
  std::vector<Neighbor> naive;
  for (size_t i = 0; i < data.size(); ++i) {
    naive.push_back({static_cast<uint32_t>(i), -SquaredL2(data.Row(3).data(), data.Row(i).data(), 8)});
  }
  naive.push_back({1000, 0.0f});
  std::sort(naive.begin(), naive.end(), BetterNeighbor);
  naive.resize(10);
  EXPECT_EQ(*r, naive);
}

TEST(BruteForceIndexTest, RejectsMalformedVectors) {
  BruteForceIndex index(3, Metric::kCosine);
  EXPECT_TRUE(index.Add(1, V({1, 2})).IsInvalidArgument());
  EXPECT_TRUE(index.Add(1, V({1, std::nanf(""), 2})).IsInvalidArgument());
  EXPECT_TRUE(index.Add(1, V({1, std::numeric_limits<float>::infinity(), 2})).IsInvalidArgument());
  EXPECT_TRUE(index.Add(1, V({0, 0, 0})).IsInvalidArgument());  // cosine of zero
  EXPECT_EQ(index.Size(), 0u);
  ASSERT_TRUE(index.Add(1, V({1, 2, 3})).ok());
  EXPECT_TRUE(index.Search(V({1, 2}), 1).status().IsInvalidArgument());
  EXPECT_TRUE(index.Search(V({1, 2, 3}), 0).status().IsInvalidArgument());
}

TEST(BruteForceIndexTest, AddUpsertRemoveSemantics) {
  BruteForceIndex index(2, Metric::kL2);
  ASSERT_TRUE(index.Add(5, V({1, 1})).ok());
  EXPECT_EQ(index.Add(5, V({2, 2})).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(index.Upsert(5, V({2, 2})).ok());
  EXPECT_EQ(*index.Get(5), V({2, 2}));
  EXPECT_EQ(index.Size(), 1u);
  ASSERT_TRUE(index.Remove(5).ok());
  EXPECT_TRUE(index.Remove(5).IsNotFound());
  EXPECT_FALSE(index.Contains(5));
  EXPECT_TRUE(index.Get(5).status().IsNotFound());
  EXPECT_TRUE(index.Search(V({0, 0}), 3)->empty());
  ASSERT_TRUE(index.Add(5, V({3, 3})).ok());  // re-add after remove
  EXPECT_EQ(index.Size(), 1u);
}

TEST(BruteForceIndexTest, FilterRestrictsResults) {
  BruteForceIndex index(1, Metric::kL2);
  for (uint32_t i = 0; i < 100; ++i) ASSERT_TRUE(index.Add(i, V({float(i)})).ok());
  IdFilter evens;
  for (uint32_t i = 0; i < 100; i += 2) evens.Allow(i);
  evens.Exclude(50);
  auto r = index.Search(V({51}), 3, &evens);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].id, 52u);
  EXPECT_EQ((*r)[1].id, 48u);
  EXPECT_EQ((*r)[2].id, 54u);
}

TEST(IdFilterTest, AllowExcludeAndCounts) {
  IdFilter all;
  EXPECT_TRUE(all.Allows(0));
  EXPECT_TRUE(all.Allows(1u << 30));
  EXPECT_EQ(all.EstimatedMatches(), -1);
  std::vector<uint32_t> ids;
  EXPECT_FALSE(all.ListMatches(&ids));
  all.Exclude(7);
  EXPECT_FALSE(all.Allows(7));

  const std::vector<uint32_t> some = {3, 64, 65, 1000, 3};
  IdFilter only = IdFilter::Only(some);
  EXPECT_EQ(only.EstimatedMatches(), 4);
  only.Exclude(64);
  only.Exclude(9999);  // not allowed anyway: no effect on the count
  EXPECT_EQ(only.EstimatedMatches(), 3);
  EXPECT_TRUE(only.Allows(3));
  EXPECT_FALSE(only.Allows(64));
  EXPECT_FALSE(only.Allows(4));
  EXPECT_FALSE(only.Allows(1u << 30));
  ASSERT_TRUE(only.ListMatches(&ids));
  EXPECT_EQ(ids, (std::vector<uint32_t>{3, 65, 1000}));

  IdFilter empty = IdFilter::Only({});
  EXPECT_TRUE(empty.restricted());
  EXPECT_FALSE(empty.Allows(0));
  EXPECT_EQ(empty.EstimatedMatches(), 0);
}

}  // namespace
}  // namespace recdb::index
