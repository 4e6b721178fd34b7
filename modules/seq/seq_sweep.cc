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
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/eval/evaluator.h"
#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/models/fused.h"
#include "engine/models/model_io.h"
#include "modules/seq/seq_recommender.h"
#include "recdb/process.h"

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
  o.heads = static_cast<int>(num("SEQ_HEADS", o.heads));
  o.threads = static_cast<int>(num("SEQ_THREADS", o.threads));
  o.all_windows = num("SEQ_ALL_WINDOWS", o.all_windows) != 0;
  o.cosine_lr = num("SEQ_COSINE_LR", o.cosine_lr) != 0;
  o.seed = static_cast<uint64_t>(num("SEQ_SEED", static_cast<double>(o.seed)));
  o.early_stop_fraction = num("SEQ_EARLY_STOP", o.early_stop_fraction);
  o.patience = static_cast<int>(num("SEQ_PATIENCE", o.patience));
  o.probability_scores = num("SEQ_PROB_SCORES", o.probability_scores) != 0;
  o.score_temperature = num("SEQ_SCORE_T", o.score_temperature);
  o.relative_temperature = num("SEQ_SCORE_T_RELATIVE", o.relative_temperature) != 0;
  if (const char* l = std::getenv("SEQ_LOSS"); l && *l) {
    const std::string loss = l;
    o.loss = loss == "ce"     ? SeqOptions::Loss::kSoftmax
             : loss == "gbce" ? SeqOptions::Loss::kGbce
                              : SeqOptions::Loss::kSampledBce;
  }
  o.gbce_t = num("SEQ_GBCE_T", o.gbce_t);
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

// The loss's name as SEQ_LOSS spells it, with gBCE's t.
std::string LossName(const SeqOptions& o) {
  switch (o.loss) {
    case SeqOptions::Loss::kSoftmax:
      return "ce";
    case SeqOptions::Loss::kGbce:
      return "gbce" + std::to_string(o.gbce_t).substr(0, 4);
    case SeqOptions::Loss::kSampledBce:
      break;
  }
  return "bce";
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
              LossName(o).c_str(), o.all_windows, o.cosine_lr);
  PrintCurve(m);
  return 0;
}

// Seq's fits, shared by the blends of one run: every blend fits seq on the
// same two datasets (the blend's inner validation part, then all of the
// validation train part) with the same options and seed, so each is fitted
// once and the blends differ only in how the logits are calibrated (a fit is
// deterministic: refitting would give the same weights, README.md).
class SeqFitCache {
 public:
  explicit SeqFitCache(SeqOptions o) : options_(o) { options_.probability_scores = false; }
  StatusOr<std::shared_ptr<const SeqRecommender>> Get(const models::Dataset& data) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::pair<size_t, size_t> key{data.num_users(), data.interactions().size()};
    if (auto it = fits_.find(key); it != fits_.end()) return it->second;
    auto m = std::make_shared<SeqRecommender>(options_);
    // SEQ_CACHE_DIR: fits are also kept on disk (Save/Load restore
    // bit-identical scores, SeqTest.SaveLoadGivesBitIdenticalScores), so a
    // later run of blend-side variants skips them.
    const char* dir = std::getenv("SEQ_CACHE_DIR");
    const std::string file = dir && *dir ? std::string(dir) + "/" + FileName(key) : "";
    std::string bytes;
    if (!file.empty() && ReadFile(file, &bytes)) {
      models::ModelReader in(bytes, file);
      RECDB_RETURN_IF_ERROR(m->Load(in));
      RECDB_RETURN_IF_ERROR(in.Finish());
    } else {
      RECDB_RETURN_IF_ERROR(m->Fit(data));
      if (!file.empty()) {
        models::ModelWriter out;
        RECDB_RETURN_IF_ERROR(m->Save(out));
        std::ofstream(file, std::ios::binary) << out.bytes();
      }
    }
    fits_[key] = m;
    return std::shared_ptr<const SeqRecommender>(m);
  }

 private:
  // Every training option and the dataset's shape.
  std::string FileName(std::pair<size_t, size_t> key) const {
    const SeqOptions& o = options_;
    char name[512];
    std::snprintf(name, sizeof name,
                  "seq-e%d-d%d-b%d-h%d-l%d-p%g-lr%g-wd%g-n%d-bs%d-%s-w%d-c%d-es%g-pa%d-s%llu-t%d-u%zu-ev%zu.bin",
                  o.epochs, o.dim, o.blocks, o.heads, o.max_len, o.dropout, o.learning_rate, o.weight_decay,
                  o.negatives, o.batch_size, LossName(o).c_str(), o.all_windows,
                  o.cosine_lr, o.early_stop_fraction, o.patience, static_cast<unsigned long long>(o.seed),
                  o.threads, key.first, key.second);
    return name;
  }
  static bool ReadFile(const std::string& path, std::string* bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !bytes->empty();
  }

  SeqOptions options_;  // raw logits: each blend calibrates them itself
  std::mutex mu_;
  std::map<std::pair<size_t, size_t>, std::shared_ptr<const SeqRecommender>> fits_;
};

// The seq component of one blend: a cached fit, scored with `calibration`'s
// probability_scores / score_temperature (CalibrateScores, as Score does).
class CachedSeq final : public models::Recommender {
 public:
  CachedSeq(SeqFitCache* cache, SeqOptions calibration) : cache_(cache), calibration_(calibration) {}
  std::string_view Name() const override { return "seq"; }
  Status Fit(const models::Dataset& data) override {
    RECDB_ASSIGN_OR_RETURN(model_, cache_->Get(data));
    return Status::OK();
  }
  uint32_t num_items() const override { return model_ ? model_->num_items() : 0; }
  void Score(const models::UserQuery& query, std::span<float> scores) const override {
    model_->Score(query, scores);
    CalibrateScores(calibration_, scores.first(model_->num_items()));
  }

 private:
  SeqFitCache* cache_;
  SeqOptions calibration_;
  std::shared_ptr<const SeqRecommender> model_;
};

// The blend `recdb eval --recommenders fused` fits on ml-100k (no content
// space), with seq appended as RECDB_COMPONENTS=seq does, or without it
// (seq_options null). SEQ_FUSED_SEQ_WEIGHT: seq's starting weight;
// SEQ_FUSED_SEQ_GRID: its own grid (the built-ins keep theirs);
// SEQ_FUSED_GRID: every component's grid.
int Fused(const eval::TemporalSplit& val, SeqFitCache* cache, const SeqOptions* seq_options,
          const std::vector<double>& seq_grid, const std::string& label) {
  auto components = models::DefaultFusedComponents(2, val.train.num_items());
  if (seq_options) {
    const SeqOptions calibration = *seq_options;
    components.push_back({"seq", [cache, calibration] { return std::make_unique<CachedSeq>(cache, calibration); },
                          1.0});
    if (const char* w = std::getenv("SEQ_FUSED_SEQ_WEIGHT"); w && *w) components.back().weight = std::atof(w);
    components.back().grid = seq_grid;
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
  std::printf("validation: fused%s ndcg@10=%.4f recall@20=%.4f coverage@10=%.4f train_s=%.1f inner_ndcg=%.4f "
              "weights:%s\n",
              label.c_str(), r.ndcg, r.recall, r.coverage, secs, fused.validation_ndcg(), weights.c_str());
  std::fflush(stdout);
  return 0;
}

// SEQ_SCORE_T="2,3,4": one blend per temperature (0: the logits, no
// probability scores), all from the same two fits of seq; SEQ_FUSED_SEQ_GRID
// "g1/g2" (a grid "default": the blend's own): one blend per grid too.
int FusedVariants(const eval::TemporalSplit& val, const SeqOptions& o) {
  SeqFitCache cache(o);
  std::vector<double> temperatures = {o.probability_scores ? o.score_temperature : 0.0};
  if (const char* t = std::getenv("SEQ_SCORE_T"); t && *t) temperatures = ParseGrid(t);
  std::vector<std::string> grids = {""};
  if (const char* g = std::getenv("SEQ_FUSED_SEQ_GRID"); g && *g) {
    grids.clear();
    for (std::string all = g; !all.empty();) {
      const size_t slash = all.find('/');
      grids.push_back(all.substr(0, slash));
      all = slash == std::string::npos ? "" : all.substr(slash + 1);
    }
  }
  for (const std::string& g : grids) {
    const std::vector<double> grid = g.empty() || g == "default" ? std::vector<double>{} : ParseGrid(g.c_str());
    for (double t : temperatures) {
      SeqOptions c = o;
      c.probability_scores = t > 0;
      if (t > 0) c.score_temperature = t;
      char label[128];
      std::snprintf(label, sizeof label, "+seq[T %g%s grid %s]", t, c.relative_temperature ? " x sd" : "",
                    g.empty() ? "default" : g.c_str());
      if (int rc = Fused(val, &cache, &c, grid, label)) return rc;
    }
  }
  // Seq alone, the blends' final fit (cached: no third fit).
  CachedSeq alone(&cache, o);
  if (Status s = alone.Fit(val.train); !s.ok()) {
    std::fprintf(stderr, "recdb-seq-sweep: fit: %s\n", s.ToString().c_str());
    return 1;
  }
  auto r = eval::Evaluate(alone, val);
  std::printf("validation: seq alone (the blends' final fit) ndcg@10=%.4f recall@20=%.4f coverage@10=%.4f\n",
              r.ndcg, r.recall, r.coverage);
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
                   "  SEQ_WEIGHT_DECAY, SEQ_BATCH, SEQ_BLOCKS, SEQ_HEADS, SEQ_THREADS, SEQ_ALL_WINDOWS, SEQ_COSINE_LR,\n"
                   "  SEQ_SEED, SEQ_EARLY_STOP, SEQ_PATIENCE, SEQ_PROB_SCORES, SEQ_SCORE_T, SEQ_SCORE_T_RELATIVE, SEQ_LOSS=ce|bce|gbce,\n"
                   "  SEQ_GBCE_T;\n"
                   "  --fused: SEQ_FUSED_GRID, SEQ_FUSED_SEQ_GRID, SEQ_FUSED_SEQ_WEIGHT; SEQ_SCORE_T and\n"
                   "  SEQ_FUSED_SEQ_GRID take lists (\"1,2,3\", \"default/0,1,5\"): one blend each, seq fitted once;\n"
                   "  SEQ_CACHE_DIR: keep seq's fits there and reuse them in later runs\n");
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
    if (int rc = Fused(*val, nullptr, nullptr, {}, "")) return rc;
  }
  return FusedVariants(*val, o);
}

}  // namespace
}  // namespace recdb::seq

int main(int argc, char** argv) {
  recdb::TuneAllocatorForTraining();  // as the `recdb` CLI does (recdb/process.h)
  return recdb::seq::Main(argc, argv);
}
