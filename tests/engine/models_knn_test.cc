#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/models/item_knn.h"
#include "engine/models/most_pop.h"

#include "models_test_data.h"

namespace recdb::models {
namespace {

// u0 {0,1}, u1 {0,1,2}, u2 {2,3}: cos(0,1)=1, cos(0,2)=cos(1,2)=0.5,
// cos(2,3)=1/sqrt(2).
Dataset Tiny() {
  DatasetSpec spec;
  spec.num_users = 3;
  spec.num_items = 4;
  spec.interactions = {{0, 0, 1}, {0, 1, 2}, {1, 0, 1}, {1, 1, 2}, {1, 2, 3}, {2, 2, 1}, {2, 3, 2}};
  return Dataset::Build(spec).value();
}

TEST(ModelsKnnTest, CosineNeighboursMatchHandComputation) {
  ItemNeighbours nn = BuildCosineNeighbours(Tiny(), 0, 2);
  ASSERT_EQ(nn.num_items(), 4u);
  // Item 2's neighbours, best first: 3 (0.707), then 0 and 1 (0.5) by id.
  ASSERT_EQ(nn.ptr[3] - nn.ptr[2], 3u);
  EXPECT_EQ(nn.item[nn.ptr[2]], 3u);
  EXPECT_NEAR(nn.sim[nn.ptr[2]], 1 / std::sqrt(2.0), 1e-6);
  EXPECT_EQ(nn.item[nn.ptr[2] + 1], 0u);
  EXPECT_NEAR(nn.sim[nn.ptr[2] + 1], 0.5, 1e-6);
  ItemNeighbours top1 = BuildCosineNeighbours(Tiny(), 1, 1);
  EXPECT_EQ(top1.ptr[4], 4u);  // one neighbour each
}

// The shared fitting tail of ItemKnn and Cooccurrence: rows ordered best
// first (ties by id), cut to `keep`, then laid out as one CSR table.
TEST(ModelsKnnTest, KeptRowsBecomeOneOrderedTable) {
  std::vector<NeighbourRow> rows = {{{2, 0.5f}, {1, 0.5f}, {3, 0.9f}}, {}, {{0, 0.1f}}};
  for (NeighbourRow& row : rows) KeepMostSimilar(2, &row);
  ItemNeighbours nn = ItemNeighbours::FromRows(std::move(rows));
  ASSERT_EQ(nn.num_items(), 3u);
  EXPECT_EQ(std::vector<uint64_t>(nn.ptr.begin(), nn.ptr.end()), (std::vector<uint64_t>{0, 2, 2, 3}));
  EXPECT_EQ(std::vector<uint32_t>(nn.item.begin(), nn.item.end()), (std::vector<uint32_t>{3, 1, 0}));
  EXPECT_EQ(std::vector<float>(nn.sim.begin(), nn.sim.end()), (std::vector<float>{0.9f, 0.5f, 0.1f}));
  NeighbourRow all = {{4, 0.2f}, {5, 0.7f}};
  KeepMostSimilar(0, &all);
  EXPECT_EQ(all, (NeighbourRow{{5, 0.7f}, {4, 0.2f}}));
}

TEST(ModelsKnnTest, ItemKnnSumsKeptNeighboursOfDistinctHistoryItems) {
  ItemKnnOptions o;
  o.neighbours = 1;
  ItemKnn knn(o);
  ASSERT_TRUE(knn.Fit(Tiny()).ok());
  std::vector<uint32_t> hist = {0, 0, 2};  // duplicate counts once
  std::vector<float> s(4);
  knn.Score(testdata::Query(hist), s);
  // Item 0 keeps only 1 (1.0); item 2 keeps only 3 (0.707).
  EXPECT_NEAR(s[1], 1.0, 1e-6);
  EXPECT_NEAR(s[3], 1 / std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(s[0], 0.0, 1e-6);
}

TEST(ModelsKnnTest, RecentKnnWeightsNewestHighest) {
  RecentKnnOptions o;
  o.last_items = 2;
  o.decay = 0.7;
  RecentKnn knn(o);
  ASSERT_TRUE(knn.Fit(Tiny()).ok());
  std::vector<uint32_t> hist = {1, 3, 0};  // only 0 (w 1) and 3 (w 0.7) count
  std::vector<float> s(4);
  knn.Score(testdata::Query(hist), s);
  EXPECT_NEAR(s[2], 0.5 + 0.7 / std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(s[1], 1.0, 1e-6);
  EXPECT_NEAR(s[3], 0.0, 1e-6);
}

// RecentKnnOptions::neighbours = N (the blend's ComponentConfig::
// recent_knn_neighbours) keeps, per item, its N most similar items by
// (cosine descending, id ascending), each with its exact cosine: checked
// against a brute-force cosine over every pair. The world has rows longer
// than N, so the cap bites.
TEST(ModelsKnnTest, RecentKnnCapKeepsEachItemsMostSimilar) {
  const Dataset d = testdata::Clustered(60, 40, 12);
  constexpr size_t kCap = 5;
  RecentKnnOptions o;
  o.neighbours = kCap;
  o.threads = 1;
  RecentKnn capped(o);
  ASSERT_TRUE(capped.Fit(d).ok());
  const ItemNeighbours& nn = *capped.neighbours();
  ASSERT_EQ(nn.num_items(), d.num_items());
  size_t cut = 0;
  for (uint32_t i = 0; i < d.num_items(); ++i) {
    // Brute force, with BuildCosineNeighbours' float arithmetic.
    NeighbourRow want;
    auto norm = [&](uint32_t x) {
      return std::sqrt(static_cast<float>(d.ItemUsers(x).size())) + 1e-9f;
    };
    for (uint32_t j = 0; j < d.num_items(); ++j) {
      if (j == i) continue;
      uint32_t common = 0;
      for (uint32_t u : d.ItemUsers(i)) {
        auto users = d.ItemUsers(j);
        common += std::find(users.begin(), users.end(), u) != users.end();
      }
      if (common > 0) want.emplace_back(j, static_cast<float>(common) / (norm(i) * norm(j)));
    }
    std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    cut += want.size() > kCap;
    if (want.size() > kCap) want.resize(kCap);
    ASSERT_EQ(nn.ptr[i + 1] - nn.ptr[i], want.size()) << "item " << i;
    for (size_t k = 0; k < want.size(); ++k) {
      EXPECT_EQ(nn.item[nn.ptr[i] + k], want[k].first) << "item " << i << " rank " << k;
      EXPECT_EQ(nn.sim[nn.ptr[i] + k], want[k].second) << "item " << i << " rank " << k;
    }
  }
  EXPECT_GT(cut, d.num_items() / 2) << "most rows must be longer than the cap";
}

// The cap also bounds serving: a table fitted uncapped (a model stored
// before the database chose the cap), loaded into a RecentKnn with
// neighbours = N, scores exactly as one fitted with N, by Score and
// SparseScore (SparseAccumulate sums SparseScore's entries: TwoStageTest);
// without the cap it scores differently (so the check can fail).
TEST(ModelsKnnTest, RecentKnnServesAnUncappedTableAsIfFittedWithItsCap) {
  const Dataset d = testdata::Clustered(60, 40, 12);
  constexpr size_t kCap = 5;
  RecentKnnOptions uncapped_options;
  uncapped_options.last_items = 20;
  uncapped_options.decay = 0.9;
  uncapped_options.threads = 1;
  RecentKnn uncapped(uncapped_options);
  ASSERT_TRUE(uncapped.Fit(d).ok());
  RecentKnnOptions capped_options = uncapped_options;
  capped_options.neighbours = kCap;
  RecentKnn fitted_capped(capped_options);
  ASSERT_TRUE(fitted_capped.Fit(d).ok());
  ModelWriter out;
  ASSERT_TRUE(uncapped.Save(out).ok());
  RecentKnn served_capped(capped_options);
  ModelReader in(out.bytes());
  ASSERT_TRUE(served_capped.Load(in).ok()) << in.status().ToString();
  ASSERT_GT(served_capped.neighbours()->item.size(), fitted_capped.neighbours()->item.size());
  bool any_differs = false;
  for (uint32_t u = 0; u < d.num_users(); ++u) {
    UserQuery q;
    q.user = u;
    q.items = d.UserItems(u);
    std::vector<float> want(d.num_items()), got(d.num_items()), all(d.num_items());
    fitted_capped.Score(q, want);
    served_capped.Score(q, got);
    uncapped.Score(q, all);
    EXPECT_EQ(got, want) << "user " << u;
    any_differs |= all != want;
    std::vector<ScoredItem> want_entries, got_entries;
    ASSERT_TRUE(fitted_capped.SparseScore(q, &want_entries));
    ASSERT_TRUE(served_capped.SparseScore(q, &got_entries));
    ASSERT_EQ(got_entries.size(), want_entries.size()) << "user " << u;
    for (size_t k = 0; k < got_entries.size(); ++k) {
      EXPECT_EQ(got_entries[k].item, want_entries[k].item);
      EXPECT_EQ(got_entries[k].score, want_entries[k].score);
    }
  }
  EXPECT_TRUE(any_differs) << "the cap must change some user's scores in this world";
}

TEST(ModelsKnnTest, RecommendExcludesAndBreaksTiesByRank) {
  MostPop pop;
  Dataset d = Tiny();
  ASSERT_TRUE(pop.Fit(d).ok());
  std::vector<uint32_t> exclude = {2, 99};  // unknown ids are ignored
  std::vector<uint32_t> rank = {3, 2, 1, 0};  // item 1 wins the 0/1 tie
  auto top = Recommend(pop, UserQuery{}, 3, exclude, rank);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, 1u);
  EXPECT_EQ(top[1].item, 0u);
  EXPECT_EQ(top[2].item, 3u);
}

}  // namespace
}  // namespace recdb::models
