// The sequence component on ml-100k, docs/DESIGN.md protocol (slow: a
// minute or more). Hyper-parameters are the SeqOptions defaults, chosen on
// the validation split carved from train (SeqMl100kTest.ValidationSweep
// prints the variants; env SEQ_SWEEP=1 runs it).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <cstdlib>

#include "engine/eval/evaluator.h"
#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/models/context.h"
#include "engine/models/fused.h"
#include "modules/seq/seq_recommender.h"
#include "test_util.h"

namespace recdb::seq {
namespace {

// NDCG@10 the model alone reaches on the test split (the issue asks EASE's 0.195).
constexpr double kSeqNdcgBar = 0.195;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// SeqOptions with SEQ_<NAME> environment overrides (for sweeps by hand).
SeqOptions FromEnv() {
  SeqOptions o;
  auto num = [](const char* name, double fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atof(v) : fallback;
  };
  o.epochs = static_cast<int>(num("SEQ_EPOCHS", o.epochs));
  o.dim = static_cast<int>(num("SEQ_DIM", o.dim));
  o.max_len = static_cast<int>(num("SEQ_MAX_LEN", o.max_len));
  o.dropout = num("SEQ_DROPOUT", o.dropout);
  o.negatives = static_cast<int>(num("SEQ_NEGATIVES", o.negatives));
  o.learning_rate = num("SEQ_LR", o.learning_rate);
  o.weight_decay = num("SEQ_WEIGHT_DECAY", o.weight_decay);
  o.batch_size = static_cast<int>(num("SEQ_BATCH", o.batch_size));
  o.blocks = static_cast<int>(num("SEQ_BLOCKS", o.blocks));
  o.threads = static_cast<int>(num("SEQ_THREADS", o.threads));
  o.all_windows = num("SEQ_ALL_WINDOWS", o.all_windows) != 0;
  o.cosine_lr = num("SEQ_COSINE_LR", o.cosine_lr) != 0;
  o.seed = static_cast<uint64_t>(num("SEQ_SEED", static_cast<double>(o.seed)));
  o.early_stop_fraction = num("SEQ_EARLY_STOP", o.early_stop_fraction);
  o.patience = static_cast<int>(num("SEQ_PATIENCE", o.patience));
  o.probability_scores = num("SEQ_PROB_SCORES", o.probability_scores) != 0;
  o.score_temperature = num("SEQ_SCORE_T", o.score_temperature);
  if (const char* l = std::getenv("SEQ_LOSS"); l && std::string(l) == "ce") {
    o.loss = SeqOptions::Loss::kSoftmax;
  }
  return o;
}

// Early stopping's per-epoch held-out NDCG@10 and the epoch kept.
void PrintCurve(const SeqRecommender& m) {
  if (m.epoch_ndcg().empty()) return;
  std::printf("early stopping: kept epoch %d of %zu; held-out ndcg@10 per epoch:", m.best_epoch(),
              m.epoch_ndcg().size());
  for (double v : m.epoch_ndcg()) std::printf(" %.4f", v);
  std::printf("\n");
}

// "0,0.5,1" -> {0, 0.5, 1}.
std::vector<double> ParseGrid(const char* g) {
  std::vector<double> grid;
  for (const char* p = g; *p;) {
    char* end = nullptr;
    grid.push_back(std::strtod(p, &end));
    if (end == p) break;
    p = *end == ',' ? end + 1 : end;
  }
  return grid;
}

class SeqMl100kTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = test::Ml100kDir();
    if (dir.empty()) return;
    auto data = eval::LoadMovieLens100k(dir);
    ASSERT_TRUE(data.ok());
    auto split = eval::SplitByTime(*data);
    ASSERT_TRUE(split.ok());
    split_ = new eval::TemporalSplit(std::move(split).value());
  }
  static void TearDownTestSuite() {
    delete split_;
    split_ = nullptr;
  }
  static eval::TemporalSplit* split_;
};
eval::TemporalSplit* SeqMl100kTest::split_ = nullptr;

TEST_F(SeqMl100kTest, ReachesTheBarAlone) {
  if (!split_) GTEST_SKIP() << "ml-100k not found; skipping";
  const SeqOptions o = FromEnv();
  SeqRecommender m(o);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(m.Fit(split_->train).ok());
  const double secs = Seconds(t0);
  auto r = eval::Evaluate(m, *split_);
  std::printf("seq ndcg@10=%.4f recall@20=%.4f coverage@10=%.4f train_s=%.1f (epochs %d dim %d max_len %d "
              "dropout %.2f negatives %d lr %g wd %g) loss %.4f\n",
              r.ndcg, r.recall, r.coverage, secs, o.epochs, o.dim, o.max_len, o.dropout, o.negatives,
              o.learning_rate, o.weight_decay, m.last_loss());
  PrintCurve(m);
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

// Variants on the validation split carved from train (the test split is not
// looked at): the way the defaults were chosen.
TEST_F(SeqMl100kTest, ValidationSweep) {
  if (!split_) GTEST_SKIP() << "ml-100k not found; skipping";
  if (!std::getenv("SEQ_SWEEP")) GTEST_SKIP() << "set SEQ_SWEEP=1 to run the sweep";
  eval::SplitOptions so;
  so.test_fraction = 0.2;
  auto val = eval::SplitByTime(split_->train, so);
  ASSERT_TRUE(val.ok());
  const SeqOptions o = FromEnv();
  SeqRecommender m(o);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(m.Fit(val->train).ok());
  auto r = eval::Evaluate(m, *val);
  std::printf("validation: seq ndcg@10=%.4f recall@20=%.4f train_s=%.1f (epochs %d dim %d max_len %d "
              "dropout %.2f negatives %d lr %g wd %g batch %d loss %s all_windows %d cosine_lr %d)\n",
              r.ndcg, r.recall, Seconds(t0), o.epochs, o.dim, o.max_len, o.dropout, o.negatives,
              o.learning_rate, o.weight_decay, o.batch_size,
              o.loss == SeqOptions::Loss::kSoftmax ? "ce" : "bce", o.all_windows, o.cosine_lr);
  PrintCurve(m);
}

// The fused blend with and without seq on the same validation split (the
// test split is not looked at): how a seq variant was judged for the blend.
// env SEQ_SWEEP=1 SEQ_FUSED=1 runs it; SEQ_FUSED_ANCHOR=1 also fits the
// blend without seq. The blend is the one `recdb eval --recommenders fused`
// fits on ml-100k (no content space), with seq appended as
// RECDB_COMPONENTS=seq does.
TEST_F(SeqMl100kTest, FusedValidationSweep) {
  if (!split_) GTEST_SKIP() << "ml-100k not found; skipping";
  if (!std::getenv("SEQ_SWEEP") || !std::getenv("SEQ_FUSED")) {
    GTEST_SKIP() << "set SEQ_SWEEP=1 SEQ_FUSED=1 to run the fused sweep";
  }
  eval::SplitOptions so;
  so.test_fraction = 0.2;
  auto val = eval::SplitByTime(split_->train, so);
  ASSERT_TRUE(val.ok());
  const SeqOptions o = FromEnv();
  auto run = [&](bool with_seq) {
    auto components = models::DefaultFusedComponents(2, val->train.num_items());
    if (with_seq) {
      components.push_back({"seq", [o] { return std::make_unique<SeqRecommender>(o); }, 1.0});
      // SEQ_FUSED_SEQ_WEIGHT: seq's starting weight; SEQ_FUSED_SEQ_GRID:
      // its own grid (the built-ins keep theirs).
      if (const char* w = std::getenv("SEQ_FUSED_SEQ_WEIGHT"); w && *w) components.back().weight = std::atof(w);
      if (const char* g = std::getenv("SEQ_FUSED_SEQ_GRID"); g && *g) components.back().grid = ParseGrid(g);
    }
    models::FusedOptions fo;
    fo.threads = 2;
    // SEQ_FUSED_GRID="0,0.1,...": another weight grid (every component).
    if (const char* g = std::getenv("SEQ_FUSED_GRID"); g && *g) fo.grid = ParseGrid(g);
    models::Fused fused(components, fo);
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(fused.Fit(val->train).ok());
    const double secs = Seconds(t0);
    auto r = eval::Evaluate(fused, *val);
    std::string weights;
    for (const auto& [name, w] : fused.Weights()) weights += " " + name + "=" + std::to_string(w).substr(0, 4);
    std::printf("validation: fused%s ndcg@10=%.4f recall@20=%.4f train_s=%.1f inner_ndcg=%.4f weights:%s\n",
                with_seq ? "+seq" : "", r.ndcg, r.recall, secs, fused.validation_ndcg(), weights.c_str());
  };
  if (std::getenv("SEQ_FUSED_ANCHOR")) run(false);
  run(true);
}

}  // namespace
}  // namespace recdb::seq
