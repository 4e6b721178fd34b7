// Two-stage serving of the fused blend on ml-100k (issue #17 item 5): the
// two-stage top-10 matches the exhaustive oracle's for >= 95% of the test
// users' items, and quality (`recdb eval`'s fused NDCG@10, same protocol)
// does not fall. Slow: one fused fit (~tens of seconds). Skips without
// ../shared/data/ml-100k.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "engine/eval/evaluator.h"
#include "engine/models/context.h"
#include "engine/models/fused.h"
#include "ml100k_split.h"

namespace recdb::models {
namespace {

TEST(ModelsTwoStageMl100kTest, TopTenMatchesExhaustiveAndQualityHolds) {
  RECDB_REQUIRE_ML100K_SPLIT(split);
  const Dataset& train = split->train;
  // The blend `recdb eval` measures (engine/recommend/evaluation.cc).
  FusedOptions o;
  o.threads = 2;
  o.retrieval = Retrieval::kExhaustive;
  Fused fused(DefaultFusedComponents(2, train.num_items(), nullptr, /*context_popularity=*/true,
                                     kDefaultMinPairUsers),
              o);
  ASSERT_TRUE(fused.Fit(train).ok());

  // Top-10 of every test user, as the evaluator queries (BuildTimelineQuery).
  auto top10 = [&](uint32_t u) {
    TimelineQuery tq;
    BuildTimelineQuery(train, u, &tq);
    std::vector<uint32_t> ids;
    for (const ScoredItem& s : Recommend(fused, tq.query, 10, train.UserItems(u), train.item_rank())) {
      ids.push_back(s.item);
    }
    return ids;
  };
  std::vector<std::vector<uint32_t>> oracle;
  for (uint32_t u : split->test_users) oracle.push_back(top10(u));
  const eval::EvalReport exhaustive = eval::Evaluate(fused, *split);

  fused.SetRetrieval(Retrieval::kTwoStage);
  ASSERT_TRUE(fused.two_stage());
  size_t common = 0, total = 0, identical = 0;
  double min_overlap = 1;
  for (size_t x = 0; x < split->test_users.size(); ++x) {
    const std::vector<uint32_t> got = top10(split->test_users[x]);
    const std::vector<uint32_t>& want = oracle[x];
    size_t c = 0;
    for (uint32_t i : got) c += std::find(want.begin(), want.end(), i) != want.end();
    common += c, total += want.size();
    identical += got == want;
    if (!want.empty()) min_overlap = std::min(min_overlap, static_cast<double>(c) / want.size());
  }
  const eval::EvalReport two_stage = eval::Evaluate(fused, *split);
  const double overlap = static_cast<double>(common) / static_cast<double>(total);
  const double share = static_cast<double>(identical) / static_cast<double>(oracle.size());
  std::printf("ml-100k, %zu test users: overlap@10 %.4f (min per user %.2f), identical lists %.4f; "
              "fused NDCG@10 exhaustive %.4f, two-stage %.4f\n",
              oracle.size(), overlap, min_overlap, share, exhaustive.ndcg, two_stage.ndcg);
  EXPECT_GE(overlap, 0.95);
  EXPECT_GE(share, 0.90);
  EXPECT_GE(two_stage.ndcg, 0.258);
  EXPECT_GE(two_stage.ndcg, exhaustive.ndcg - 0.002);
}

}  // namespace
}  // namespace recdb::models
