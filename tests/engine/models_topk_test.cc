// models::TopK (engine/models/recommender.h): the k best by (score
// descending, item rank ascending), skipping -inf and NaN, best first. Its
// answer is the full sort's prefix whatever the selection inside it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/models/recommender.h"
#include "recdb/splitmix64.h"

namespace recdb::models {
namespace {

// The reference: sort every scorable item, take the first k.
std::vector<ScoredItem> FullSort(const std::vector<float>& s, size_t k,
                                 const std::vector<uint32_t>& rank) {
  std::vector<ScoredItem> all;
  for (uint32_t i = 0; i < s.size(); ++i) {
    if (std::isnan(s[i]) || s[i] == -std::numeric_limits<float>::infinity()) continue;
    all.push_back({i, s[i]});
  }
  std::sort(all.begin(), all.end(), [&](const ScoredItem& a, const ScoredItem& b) {
    if (a.score != b.score) return a.score > b.score;
    return rank[a.item] < rank[b.item];
  });
  all.resize(std::min(k, all.size()));
  return all;
}

TEST(ModelsTopKTest, EqualsTheFullSortsPrefixWithTiesNansAndInfinities) {
  uint64_t state = SplitMix64(7);
  for (size_t n : {0u, 1u, 5u, 64u, 1000u, 5000u}) {
    // A shuffled rank: ties must be settled by it, not by the item id.
    std::vector<uint32_t> rank(n);
    std::iota(rank.begin(), rank.end(), 0u);
    for (size_t j = n; j > 1; --j) std::swap(rank[j - 1], rank[SplitMix64Next(&state) % j]);
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<float> s(n);
      for (float& v : s) {
        const uint64_t r = SplitMix64Next(&state);
        // Few distinct values (many ties), some NaN and -inf, rising runs
        // (the worst order for a bounded buffer) on trial 3.
        v = static_cast<float>(r % 13) - 6.0f;
        if (r % 17 == 0) v = std::numeric_limits<float>::quiet_NaN();
        if (r % 19 == 0) v = -std::numeric_limits<float>::infinity();
      }
      if (trial == 3) {
        for (size_t i = 0; i < n; ++i) s[i] = static_cast<float>(i / 3);
      }
      for (size_t k : {0u, 1u, 2u, 10u, 200u, 999u, 100000u}) {
        const auto got = TopK(s, k, rank);
        const auto want = FullSort(s, k, rank);
        ASSERT_EQ(got.size(), want.size()) << "n " << n << " k " << k;
        for (size_t r = 0; r < got.size(); ++r) {
          EXPECT_EQ(got[r].item, want[r].item) << "n " << n << " k " << k << " at " << r;
          EXPECT_EQ(got[r].score, want[r].score);
        }
      }
    }
  }
}

}  // namespace
}  // namespace recdb::models
