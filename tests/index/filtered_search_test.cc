// Filtered HNSW search: the filter is applied during the graph walk, the
// planner brute-forces small match sets, and a search returns exactly
// min(k, matches) results.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <vector>

#include "clustered_data.h"
#include "index/brute_force_index.h"
#include "index/hnsw_index.h"
#include "index/id_filter.h"

namespace recdb::index {
namespace {

constexpr uint32_t kDim = 32;
constexpr size_t kN = test::kRecallSetSize;
constexpr size_t kQueries = 100;

// A filter that cannot list its matches nor estimate them, like a predicate
// the engine evaluates on the fly.
class PredicateFilter final : public SearchFilter {
 public:
  explicit PredicateFilter(std::function<bool(uint32_t)> pred) : pred_(std::move(pred)) {}
  bool Allows(uint32_t id) const override { return pred_(id); }

 private:
  std::function<bool(uint32_t)> pred_;
};

class FilteredSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new test::Dataset(test::MakeClustered(kN, kDim, 50, 11));
    queries_ = new test::Dataset(test::MakeClustered(kQueries, kDim, 50, 12));
    HnswOptions options;
    options.filter_exact_max_matches = 100;  // so 3% of the index decides
    hnsw_ = HnswIndex::Create(kDim, Metric::kL2, options).value().release();
    exact_ = new BruteForceIndex(kDim, Metric::kL2);
    for (size_t i = 0; i < kN; ++i) {
      ASSERT_TRUE(hnsw_->Add(i, data_->Row(i)).ok());
      ASSERT_TRUE(exact_->Add(i, data_->Row(i)).ok());
    }
  }
  static void TearDownTestSuite() {
    delete data_;
    delete queries_;
    delete hnsw_;
    delete exact_;
  }

  static IdFilter RandomFilter(double selectivity, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::bernoulli_distribution take(selectivity);
    IdFilter f;
    for (uint32_t i = 0; i < kN; ++i) {
      if (take(rng)) f.Allow(i);
    }
    return f;
  }

  // Recall@10 of `plan` vs exact, asserting every result passes the filter.
  static double FilteredRecall(const SearchFilter& filter, SearchPlan plan,
                               SearchPlan* ran = nullptr) {
    std::vector<std::vector<Neighbor>> approx, truth;
    for (size_t q = 0; q < kQueries; ++q) {
      SearchStats stats;
      auto r = hnsw_->Search(queries_->Row(q), 10, &filter, plan, &stats);
      EXPECT_TRUE(r.ok());
      if (ran != nullptr) *ran = stats.plan;
      for (const Neighbor& n : *r) EXPECT_TRUE(filter.Allows(n.id));
      approx.push_back(*r);
      truth.push_back(*exact_->Search(queries_->Row(q), 10, &filter));
      EXPECT_EQ(approx.back().size(), truth.back().size());
    }
    return test::Recall(approx, truth);
  }

  static test::Dataset* data_;
  static test::Dataset* queries_;
  static HnswIndex* hnsw_;
  static BruteForceIndex* exact_;
};

test::Dataset* FilteredSearchTest::data_ = nullptr;
test::Dataset* FilteredSearchTest::queries_ = nullptr;
HnswIndex* FilteredSearchTest::hnsw_ = nullptr;
BruteForceIndex* FilteredSearchTest::exact_ = nullptr;

TEST_F(FilteredSearchTest, GraphWalkRecallAtOnePercent) {
  const IdFilter f = RandomFilter(0.01, 1);
  EXPECT_GE(FilteredRecall(f, SearchPlan::kGraph), 0.95);
}

TEST_F(FilteredSearchTest, GraphWalkRecallAtTenPercent) {
  const IdFilter f = RandomFilter(0.10, 2);
  EXPECT_GE(FilteredRecall(f, SearchPlan::kGraph), 0.95);
}

TEST_F(FilteredSearchTest, PlannerPicksExactForSmallSetsAndGraphForLarge) {
  SearchPlan ran;
  const IdFilter small = RandomFilter(0.01, 3);
  EXPECT_EQ(FilteredRecall(small, SearchPlan::kAuto, &ran), 1.0);
  EXPECT_EQ(ran, SearchPlan::kExact);
  const IdFilter large = RandomFilter(0.5, 4);
  EXPECT_GE(FilteredRecall(large, SearchPlan::kAuto, &ran), 0.95);
  EXPECT_EQ(ran, SearchPlan::kGraph);
  // Unknown size: the graph walk, whose fallback still guarantees k results.
  PredicateFilter pred([](uint32_t id) { return id % 10 == 3; });
  EXPECT_GE(FilteredRecall(pred, SearchPlan::kAuto, &ran), 0.95);
  EXPECT_EQ(ran, SearchPlan::kGraph);
}

TEST_F(FilteredSearchTest, ExcludeSeenKeepsRecall) {
  IdFilter not_seen;
  for (uint32_t i = 0; i < kN; i += 4) not_seen.Exclude(i);
  EXPECT_GE(FilteredRecall(not_seen, SearchPlan::kAuto), 0.95);
}

TEST_F(FilteredSearchTest, ReturnsExactlyKWhenKMatchAndAllWhenFewer) {
  // Matches scattered over far-apart clusters: the graph walk from any query
  // admits them only after a long detour; the result must still be complete.
  for (SearchPlan plan : {SearchPlan::kGraph, SearchPlan::kExact, SearchPlan::kAuto}) {
    std::vector<uint32_t> ids;
    for (uint32_t i = 0; i < 10; ++i) ids.push_back(i * (kN / 10 - 1));
    const IdFilter ten = IdFilter::Only(ids);
    const IdFilter three = IdFilter::Only(std::vector<uint32_t>{5, 6, kN - 1});
    const IdFilter none = IdFilter::Only({});
    const IdFilter absent = IdFilter::Only(std::vector<uint32_t>{kN + 1, kN + 2});
    for (size_t q = 0; q < 10; ++q) {
      auto r = hnsw_->Search(queries_->Row(q), 10, &ten, plan, nullptr);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->size(), 10u);
      EXPECT_EQ(*r, *exact_->Search(queries_->Row(q), 10, &ten));
      r = hnsw_->Search(queries_->Row(q), 10, &three, plan, nullptr);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->size(), 3u);
      EXPECT_TRUE(hnsw_->Search(queries_->Row(q), 10, &none, plan, nullptr)->empty());
      EXPECT_TRUE(hnsw_->Search(queries_->Row(q), 10, &absent, plan, nullptr)->empty());
    }
  }
}

TEST_F(FilteredSearchTest, RemovedIdsNeverPassEvenIfAllowed) {
  auto index = HnswIndex::Create(kDim, Metric::kL2).value();
  for (size_t i = 0; i < 500; ++i) ASSERT_TRUE(index->Add(i, data_->Row(i)).ok());
  std::vector<uint32_t> ids = {1, 2, 3, 4, 5};
  const IdFilter f = IdFilter::Only(ids);
  ASSERT_TRUE(index->Remove(3).ok());
  for (SearchPlan plan : {SearchPlan::kGraph, SearchPlan::kExact}) {
    auto r = index->Search(data_->Row(3), 10, &f, plan, nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 4u);
    for (const Neighbor& n : *r) EXPECT_NE(n.id, 3u);
  }
}

}  // namespace
}  // namespace recdb::index
