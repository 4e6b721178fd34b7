// recdb-seq-sweep: the variant study behind SeqOptions' defaults (issue #23,
// README.md "Tuning"). Fits one variant on the validation split carved from
// ml-100k's train part (docs/DESIGN.md: the same per-user 80/20 temporal rule
// applied to each user's train events; the test split is never read) and
// prints its validation figures; with --fused, the fused blend with the
// variant appended as RECDB_COMPONENTS=seq does (and without it, --anchor).
//
// The variant comes from SEQ_<NAME> environment variables (the names below),
// so a sweep is a shell loop:
//   SEQ_DROPOUT=0.2 SEQ_EPOCHS=30 build/modules/seq/recdb-seq-sweep
//   SEQ_FUSED_GRID=0,0.5,1,2,3,5 build/modules/seq/recdb-seq-sweep --fused --anchor
// It was a disabled test until issue #18 moved experiments out of tests/.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/eval/evaluator.h"
#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/models/fused.h"
#include "modules/seq/seq_recommender.h"

namespace recdb::seq {
namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// SeqOptions with SEQ_<NAME> environment overrides.
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
  if (const char* l = std::getenv("SEQ_LOSS"); l && *l) {
    o.loss = std::string(l) == "ce" ? SeqOptions::Loss::kSoftmax : SeqOptions::Loss::kSampledBce;
  }
  return o;
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

// Early stopping's per-epoch held-out NDCG@10 and the epoch kept.
void PrintCurve(const SeqRecommender& m) {
  if (m.epoch_ndcg().empty()) return;
  std::printf("early stopping: kept epoch %d of %zu; held-out ndcg@10 per epoch:", m.best_epoch(),
              m.epoch_ndcg().size());
  for (double v : m.epoch_ndcg()) std::printf(" %.4f", v);
  std::printf("\n");
}

int SeqAlone(const eval::TemporalSplit& val, const SeqOptions& o) {
  SeqRecommender m(o);
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = m.Fit(val.train); !s.ok()) {
    std::fprintf(stderr, "recdb-seq-sweep: fit: %s\n", s.ToString().c_str());
    return 1;
  }
  auto r = eval::Evaluate(m, val);
  std::printf("validation: seq ndcg@10=%.4f recall@20=%.4f train_s=%.1f (epochs %d dim %d max_len %d "
              "dropout %.2f negatives %d lr %g wd %g batch %d loss %s all_windows %d cosine_lr %d)\n",
              r.ndcg, r.recall, Seconds(t0), o.epochs, o.dim, o.max_len, o.dropout, o.negatives,
              o.learning_rate, o.weight_decay, o.batch_size,
              o.loss == SeqOptions::Loss::kSoftmax ? "ce" : "bce", o.all_windows, o.cosine_lr);
  PrintCurve(m);
  return 0;
}

// The blend `recdb eval --recommenders fused` fits on ml-100k (no content
// space), with seq appended as RECDB_COMPONENTS=seq does, or without it.
// SEQ_FUSED_SEQ_WEIGHT: seq's starting weight; SEQ_FUSED_SEQ_GRID: its own
// grid (the built-ins keep theirs); SEQ_FUSED_GRID: every component's grid.
int Fused(const eval::TemporalSplit& val, const SeqOptions& o, bool with_seq) {
  auto components = models::DefaultFusedComponents(2, val.train.num_items());
  if (with_seq) {
    components.push_back({"seq", [o] { return std::make_unique<SeqRecommender>(o); }, 1.0});
    if (const char* w = std::getenv("SEQ_FUSED_SEQ_WEIGHT"); w && *w) components.back().weight = std::atof(w);
    if (const char* g = std::getenv("SEQ_FUSED_SEQ_GRID"); g && *g) components.back().grid = ParseGrid(g);
  }
  models::FusedOptions fo;
  fo.threads = 2;
  if (const char* g = std::getenv("SEQ_FUSED_GRID"); g && *g) fo.grid = ParseGrid(g);
  models::Fused fused(components, fo);
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = fused.Fit(val.train); !s.ok()) {
    std::fprintf(stderr, "recdb-seq-sweep: fused fit: %s\n", s.ToString().c_str());
    return 1;
  }
  const double secs = Seconds(t0);
  auto r = eval::Evaluate(fused, val);
  std::string weights;
  for (const auto& [name, w] : fused.Weights()) weights += " " + name + "=" + std::to_string(w).substr(0, 4);
  std::printf("validation: fused%s ndcg@10=%.4f recall@20=%.4f train_s=%.1f inner_ndcg=%.4f weights:%s\n",
              with_seq ? "+seq" : "", r.ndcg, r.recall, secs, fused.validation_ndcg(), weights.c_str());
  return 0;
}

int Main(int argc, char** argv) {
  std::string data = "../shared/data/ml-100k";
  bool fused = false, anchor = false;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--data" && a + 1 < argc) {
      data = argv[++a];
    } else if (arg == "--fused") {
      fused = true;
    } else if (arg == "--anchor") {
      anchor = true;
    } else {
      std::fprintf(stderr,
                   "usage: recdb-seq-sweep [--data ML100K_DIR] [--fused [--anchor]]\n"
                   "  the variant: SEQ_EPOCHS, SEQ_DIM, SEQ_MAX_LEN, SEQ_DROPOUT, SEQ_NEGATIVES, SEQ_LR,\n"
                   "  SEQ_WEIGHT_DECAY, SEQ_BATCH, SEQ_BLOCKS, SEQ_THREADS, SEQ_ALL_WINDOWS, SEQ_COSINE_LR,\n"
                   "  SEQ_SEED, SEQ_EARLY_STOP, SEQ_PATIENCE, SEQ_PROB_SCORES, SEQ_SCORE_T, SEQ_LOSS=ce|bce;\n"
                   "  --fused: SEQ_FUSED_GRID, SEQ_FUSED_SEQ_GRID, SEQ_FUSED_SEQ_WEIGHT\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  auto loaded = eval::LoadMovieLens100k(data);
  if (!loaded.ok()) {
    std::fprintf(stderr, "recdb-seq-sweep: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  auto split = eval::SplitByTime(*loaded);
  if (!split.ok()) {
    std::fprintf(stderr, "recdb-seq-sweep: %s\n", split.status().ToString().c_str());
    return 1;
  }
  eval::SplitOptions so;
  so.test_fraction = 0.2;
  auto val = eval::SplitByTime(split->train, so);  // carved from train: the test split is not read
  if (!val.ok()) {
    std::fprintf(stderr, "recdb-seq-sweep: %s\n", val.status().ToString().c_str());
    return 1;
  }
  const SeqOptions o = FromEnv();
  if (!fused) return SeqAlone(*val, o);
  if (anchor) {
    if (int rc = Fused(*val, o, /*with_seq=*/false)) return rc;
  }
  return Fused(*val, o, /*with_seq=*/true);
}

}  // namespace
}  // namespace recdb::seq

int main(int argc, char** argv) { return recdb::seq::Main(argc, argv); }
