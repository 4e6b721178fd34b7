// Ials: implicit-feedback matrix factorisation (Hu, Koren, Volinsky 2008)
// with frequency-scaled regularisation (Rendle et al. 2022, "Revisiting the
// performance of iALS on item recommendation benchmarks").
//
// Loss, for binary observations y_ui (any interaction = 1):
//   sum_obs (unobserved_weight + alpha) (1 - <w_u, h_i>)^2
//   + unobserved_weight * sum_(u,i not observed) <w_u, h_i>^2
//   + sum_u lambda_u |w_u|^2 + sum_i lambda_i |h_i|^2,
//   lambda_u = regularization * (|I_u| + 1)^reg_exponent (likewise for items).
// Alternating least squares; the all-pairs term uses the Gramian trick
// (G = unobserved_weight * H^T H computed once per half-step), and each row is
// solved by `cg_steps` warm-started conjugate-gradient steps (cg_steps = 0:
// exact Cholesky). Rows are independent, so results do not depend on the
// number of threads.
//
// Fold-in: FoldIn solves the user step exactly for any history against the
// fitted item factors, so a user's vector follows new events without
// retraining.
//
// Memory: (num_users + num_items) * factors floats.
// Thread-safety: see Recommender.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <Eigen/Dense>

#include "engine/models/model_io.h"
#include "engine/models/recommender.h"

namespace recdb::index {
class HnswIndex;
}  // namespace recdb::index

namespace recdb::models {

struct IalsOptions {
  int factors = 64;              // Default: 64
  int iterations = 15;           // Default: 15 (one user + one item half-step each)
  double regularization = 0.2;   // lambda. Default: 0.2 (picked on a validation split carved from ml-100k train)
  double reg_exponent = 1.0;     // nu in lambda*(n+1)^nu. Default: 1 (refbaselines.py)
  double alpha = 2.0;            // extra confidence of an observed pair. Default: 2 (same validation)
  double unobserved_weight = 1.0;  // alpha_0, weight of the Gramian term. Default: 1
  double init_stddev = 0.01;     // Default: 0.01
  int cg_steps = 3;              // per row and half-step; 0 = exact Cholesky. Default: 3
  int threads = 2;               // Default: 2
  uint64_t seed = 42;            // Default: 42
  // Iterations of a Fit warm-started from a previous model (WarmStart).
  // Default: 4 (tests/engine/models_incremental_slow_test.cc: the fused
  // quality of a warm retrain after 1% more events matches a full refit).
  int warm_iterations = 4;
  // When true, Score folds in the query history even for a known user (the
  // real-time path); otherwise known users use their trained vector.
  bool fold_in_known_users = false;
  // Two-stage retrieval (PrepareRetrieval, Retrieve): the HNSW index over
  // the item factors (inner product). Out-degree and build beam; a search
  // uses a beam of max(retrieval_ef_search, k + excluded items). Defaults:
  // 16, 40, 128 (`recdb bench two-stage`: agreement with the exhaustive
  // top-10 and the build time, engine/models/README.md; 256 until
  // 2026-12-07: the search was then the largest part of a request at 200K-1M
  // items, and 128 with 100 nominees kept every top-10, docs/BENCHMARKS.md
  // "Two-stage: a cheaper iALS search").
  int retrieval_m = 16;
  int retrieval_ef_construction = 40;
  int retrieval_ef_search = 128;
  // Retrieve returns at most this many items (0 = as many as asked): the
  // search costs about linearly in it, and iALS's nominees ranked past ~100
  // rarely reach a blend's top 10 (`recdb bench two-stage`: every top-10
  // kept with 50 at 200K items and with 100 at 1M). Default: 100.
  size_t retrieval_candidates = 100;
};

class Ials final : public Recommender {
 public:
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  explicit Ials(IalsOptions options = {}) : options_(options) {}
  ~Ials() override;  // stops a deferred index build (PrepareRetrieval) and waits for it
  Ials(const Ials&) = delete;
  Ials& operator=(const Ials&) = delete;
  std::string_view Name() const override { return "ials"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  bool WarmStart(std::shared_ptr<const Recommender> previous) override;
  uint32_t num_items() const override { return static_cast<uint32_t>(item_factors_.rows()); }
  void Score(const UserQuery& query, std::span<float> scores) const override;

  // Two-stage serving (recommender.h): dot products with the candidates
  // only; an HNSW index over the item factors (built by PrepareRetrieval
  // after Fit on options().threads threads, and stored beside the model by
  // SaveRetrieval so that a load adopts it instead of rebuilding it: the
  // build costs seconds per 100K items, engine/models/README.md); and the
  // exact moments of all the scores, u.sum(h_i) and u^T (H^T H) u, less the
  // excluded items.
  void ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                  std::span<float> out) const override;
  bool Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                std::vector<uint32_t>* out) const override;
  bool ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude, double* sum,
                    double* sum_sq) const override;
  // With may_defer the index and the moments (a Gramian, 4 GFLOP at 1M
  // items) are returned as work: Retrieve and ScoreMoments answer false until
  // it has run. Nothing to do when LoadRetrieval adopted them.
  DeferredWork PrepareRetrieval(std::span<const uint32_t> item_rank, bool may_defer) override;
  // The index (AppendSerialized), the moments, and the item count, factor
  // count and CRC-32C of the item factors they were built from; LoadRetrieval
  // adopts them only when those match this model's.
  bool SaveRetrieval(ModelWriter& out) const override;
  bool LoadRetrieval(ModelReader& in) override;
  // True when the serving index came from LoadRetrieval (not built here).
  bool retrieval_adopted() const {
    auto r = retrieval_.load();
    return r && r->adopted;
  }
  // Seconds the index build took (0 until it has finished); for an adopted
  // index, the seconds LoadRetrieval took to verify and copy it.
  double retrieval_build_seconds() const {
    auto r = retrieval_.load();
    return r ? r->build_seconds : 0.0;
  }
  // True once Retrieve and ScoreMoments can serve.
  bool retrieval_ready() const { return retrieval_.load() != nullptr; }

  // The vector Score multiplies the item factors with.
  Eigen::VectorXf UserVector(const UserQuery& query) const;

  // The user vector that minimises the loss for `items` (distinct ids are
  // used; unknown ids ignored) given the fitted item factors. Zero vector for
  // an empty history.
  Eigen::VectorXf FoldIn(std::span<const uint32_t> items) const;

  // The fitted matrix, or (a model loaded from a mapped file) a view of it.
  Eigen::Map<const Matrix> user_factors() const {
    if (stored_user_rows_ > 0) {
      return Eigen::Map<const Matrix>(stored_users_.data(), stored_user_rows_, options_.factors);
    }
    return Eigen::Map<const Matrix>(user_factors_.data(), user_factors_.rows(), user_factors_.cols());
  }
  const Matrix& item_factors() const { return item_factors_; }
  const IalsOptions& options() const { return options_; }

 private:
  IalsOptions options_;
  Matrix user_factors_, item_factors_;
  // Loaded user factors (4 x factors bytes per user, most of a large model):
  // a view of the model file's mapping, not a copy (model_io.h PutStored).
  StoredArray<float> stored_users_;
  Eigen::Index stored_user_rows_ = 0;
  Eigen::MatrixXf item_gramian_;  // unobserved_weight * H^T H of the fitted items
  std::shared_ptr<const Ials> warm_;  // the next Fit starts from its factors
  // What two-stage serving reads (PrepareRetrieval), published whole: null
  // until built. Atomic: a deferred build publishes it while requests read it.
  struct Retrieval {
    std::shared_ptr<const index::HnswIndex> index;
    Eigen::VectorXd item_sum;     // sum of the item factors
    Eigen::MatrixXd item_second;  // H^T H, unweighted, in double
    double build_seconds = 0;
    bool adopted = false;  // read by LoadRetrieval, not built
  };
  // CRC-32C of item_factors_' bytes: what stored retrieval state is checked
  // against.
  uint32_t ItemFactorsCrc() const;
  std::atomic<std::shared_ptr<const Retrieval>> retrieval_;
  // The state a deferred build shares with the work PrepareRetrieval hands
  // out, which may outlive this model (ials.cc).
  struct DeferredBuild;
  std::shared_ptr<DeferredBuild> deferred_;
  // Cancels deferred work not yet started, stops one running and waits for
  // it; then no work touches this model. Called before the factors change.
  void StopBuild();
  // Builds and publishes retrieval_ from item_factors_; gives up when
  // `stopped()` turns true.
  void BuildRetrieval(const std::function<bool()>& stopped);
};

}  // namespace recdb::models
