// The sequence component on ml-100k, docs/DESIGN.md protocol (slow: a
// minute or more). Hyper-parameters are the SeqOptions defaults, chosen on
// the validation split carved from train (recdb-seq-sweep, modules/seq/
// seq_sweep.cc, fits and prints one variant).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "engine/eval/evaluator.h"
#include "engine/models/context.h"
#include "modules/seq/seq_recommender.h"
#include "test_util.h"
#include "ml100k_split.h"

namespace recdb::seq {
namespace {

// NDCG@10 the model alone reaches on the test split (the issue asks EASE's 0.195).
constexpr double kSeqNdcgBar = 0.195;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(SeqMl100kTest, ReachesTheBarAlone) {
  RECDB_REQUIRE_ML100K_SPLIT(split_);
  const SeqOptions o;  // the defaults
  SeqRecommender m(o);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(m.Fit(split_->train).ok());
  const double secs = Seconds(t0);
  auto r = eval::Evaluate(m, *split_);
  std::printf("seq ndcg@10=%.4f recall@20=%.4f coverage@10=%.4f train_s=%.1f (epochs %d dim %d max_len %d "
              "dropout %.2f negatives %d lr %g wd %g) loss %.4f\n",
              r.ndcg, r.recall, r.coverage, secs, o.epochs, o.dim, o.max_len, o.dropout, o.negatives,
              o.learning_rate, o.weight_decay, m.last_loss());
  // Real-time cost: one Score (a forward pass over the history, and the dot
  // products with every item) per test user.
  std::vector<double> ms;
  std::vector<float> scores(m.num_items());
  for (uint32_t u : split_->test_users) {
    models::TimelineQuery tq;
    models::BuildTimelineQuery(split_->train, u, &tq);
    const auto s0 = std::chrono::steady_clock::now();
    m.Score(tq.query, scores);
    ms.push_back(Seconds(s0) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2], p99 = ms[ms.size() * 99 / 100];
  std::printf("seq Score: p50 %.3f ms, p99 %.3f ms over %zu users\n", p50, p99, ms.size());
  EXPECT_GE(r.ndcg, kSeqNdcgBar);
  if (test::kTimingBoundsApply) {
    EXPECT_LT(secs, 120.0);
  }
}

}  // namespace
}  // namespace recdb::seq
