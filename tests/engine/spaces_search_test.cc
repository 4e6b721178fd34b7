// Filtered similarity search: result counts and recall against brute force.
#include <set>

#include "index/brute_force_index.h"
#include "index/id_filter.h"
#include "spaces_test_util.h"

namespace recdb::test {
namespace {

constexpr int kItems = 15000;
constexpr int kDim = 16;

class SpacesSearchTest : public SpacesTest {
 protected:
  void SetUp() override {
    OpenDb();
    AddItems(kItems);
    SpaceOptions o = Space("s", kDim);
    o.hnsw_ef_construction = 100;
    ASSERT_TRUE(db_->CreateSpace(o).ok());
    vectors_ = ItemVectors(kItems, kDim);
    for (int b = 0; b < kItems; b += 5000) {
      std::vector<VectorRecord> batch(vectors_.begin() + b, vectors_.begin() + b + 5000);
      ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, batch).ok());
    }
  }

  // Mean recall@k of filtered searches against an exact scan of the same set.
  double FilteredRecall(const std::string& category, int modulus, size_t k, int queries) {
    index::BruteForceIndex exact(kDim, index::Metric::kCosine);
    std::vector<uint32_t> allowed;
    for (int i = 0; i < kItems; ++i) {
      EXPECT_TRUE(exact.Add(static_cast<uint32_t>(i), vectors_[i].values).ok());
      if ("c" + std::to_string(i % 100) == category || "d" + std::to_string(i % 10) == category) {
        allowed.push_back(static_cast<uint32_t>(i));  // iid == i: items were created in order
      }
    }
    EXPECT_EQ(allowed.size(), static_cast<size_t>(kItems / modulus));
    index::IdFilter f = index::IdFilter::Only(allowed);
    ItemFilter filter;
    filter.categories_any = {category};
    std::mt19937 rng(42);
    double total = 0;
    for (int q = 0; q < queries; ++q) {
      std::vector<float> query = RandomVector(&rng, kDim);
      auto want = exact.Search(query, k, &f);
      auto got = Api()->SearchSimilar("s", query, k, filter);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok()) return 0;
      EXPECT_EQ(got->size(), k);  // >= k items match: exactly k results
      std::set<std::string> truth;
      for (const index::Neighbor& n : *want) truth.insert("i" + std::to_string(n.id));
      int hit = 0;
      for (const ScoredItem& s : *got) {
        hit += truth.count(s.id);
        const int i = std::stoi(s.id.substr(1));
        EXPECT_TRUE(("c" + std::to_string(i % 100)) == category ||
                    ("d" + std::to_string(i % 10)) == category)
            << s.id << " does not pass the filter";
      }
      total += static_cast<double>(hit) / static_cast<double>(k);
    }
    return total / queries;
  }

  std::vector<VectorRecord> vectors_;
};

TEST_F(SpacesSearchTest, RecallAtOnePercentSelectivity) {
  const double recall = FilteredRecall("c37", 100, 10, 50);
  EXPECT_GE(recall, 0.95);
  std::printf("filtered recall@10, 1%% selectivity: %.3f\n", recall);
}

TEST_F(SpacesSearchTest, RecallAtTenPercentSelectivity) {
  const double recall = FilteredRecall("d3", 10, 10, 50);
  EXPECT_GE(recall, 0.95);
  std::printf("filtered recall@10, 10%% selectivity: %.3f\n", recall);
}

TEST_F(SpacesSearchTest, UnfilteredRecall) {
  index::BruteForceIndex exact(kDim, index::Metric::kCosine);
  for (int i = 0; i < kItems; ++i) {
    ASSERT_TRUE(exact.Add(static_cast<uint32_t>(i), vectors_[i].values).ok());
  }
  std::mt19937 rng(9);
  ItemFilter all;
  all.available_only = false;
  double total = 0;
  const int queries = 50;
  for (int q = 0; q < queries; ++q) {
    std::vector<float> query = RandomVector(&rng, kDim);
    auto want = exact.Search(query, 10);
    auto got = Api()->SearchSimilar("s", query, 10, all);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 10u);
    std::set<std::string> truth;
    for (const index::Neighbor& n : *want) truth.insert("i" + std::to_string(n.id));
    int hit = 0;
    for (const ScoredItem& s : *got) hit += truth.count(s.id);
    total += hit / 10.0;
  }
  EXPECT_GE(total / queries, 0.95);
}

TEST_F(SpacesSearchTest, FewerMatchesThanKReturnsAllMatches) {
  // Unavailable items never pass the default filter.
  std::vector<Item> items;
  for (int i = 0; i < 5; ++i) {
    Item it;
    it.id = "i" + std::to_string(i);
    it.categories = {"rare"};
    items.push_back(it);
  }
  items[4].available = false;
  ASSERT_TRUE(db_->UpsertItems(WriteOptions{}, items).ok());
  ItemFilter filter;
  filter.categories_any = {"rare"};
  filter.exclude_ids = {"i0"};
  auto got = Api()->SearchSimilar("s", vectors_[0].values, 10, filter);
  ASSERT_TRUE(got.ok());
  std::set<std::string> ids;
  for (const ScoredItem& s : *got) ids.insert(s.id);
  EXPECT_EQ(ids, (std::set<std::string>{"i1", "i2", "i3"}));
}

}  // namespace
}  // namespace recdb::test
