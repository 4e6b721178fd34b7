// Ease: Embarrassingly Shallow Autoencoder (Steck 2019). A dense item-item
// weight matrix B with zero diagonal, closed form:
//   P = (X^T X + lambda I)^-1,  B_ij = -P_ij / P_jj,  B_jj = 0,
// and score(j) = sum over distinct history items i of B_ij.
//
// Fit builds the lower triangle of the Gram matrix G = X^T X + lambda I from
// the sparse interactions (column by column, on `threads` threads), then
// inverts it through LAPACK (OpenBLAS): one Cholesky factorisation (spotrf,
// or dpotrf) and the inverse from the factor (spotri / dpotri), about
// num_items^3 flops, in float by default (EaseOptions::single_precision).
//
// Cost: 4 bytes per item^2 during Fit in float (B is written over G; 12 in
// double), 4 bytes per item^2 after it; O(num_items^3) fit time. Fit returns
// ResourceExhausted above `max_items` rather than failing an allocation.
// Thread-safety: see Recommender. Fit sets OpenBLAS's thread count, which is
// process-wide, to `threads` for its duration and then restores it.
#pragma once

#include <Eigen/Dense>

#include "engine/models/model_io.h"
#include "engine/models/recommender.h"

namespace recdb::models {

struct EaseOptions {
  double lambda = 300.0;      // L2 regularisation. Default: 300
  uint32_t max_items = 20000; // Default: 20000 (G, then B: 1.6 GB there; 4.8 GB in double)
  // Threads for the Gram matrix, the LAPACK calls (OpenBLAS) and the
  // weights. Default: 2
  int threads = 2;
  // Factorise and invert G in float (LAPACK spotrf + spotri) rather than
  // double (dpotrf + dpotri): the same flops at twice the SIMD width, and B
  // is written over G's own buffer, so Fit holds 4 bytes per item^2 instead
  // of 12 (8 for G in double + 4 for B). B is stored in float either way.
  // Accuracy: `recdb bench ease` reports the largest weight difference from
  // numpy's double inverse; ml-100k NDCG is unchanged (engine/models/README.md).
  // Default: true
  bool single_precision = true;
};

// Wall time of the last Fit's steps, seconds (for `recdb bench ease`).
struct EaseFitTimes {
  double gram = 0;       // G = X^T X + lambda I, lower triangle
  double factorise = 0;  // potrf + potri
  double weights = 0;    // B from P
};

class Ease final : public Recommender {
 public:
  explicit Ease(EaseOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "ease"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return n_; }
  void Score(const UserQuery& query, std::span<float> scores) const override;

  const EaseFitTimes& last_fit_times() const { return fit_times_; }

 private:
  template <typename T>
  Status FitIn(const Dataset& data);  // T: float or double (single_precision)

  EaseOptions options_;
  // B, n_ x n_ row-major; loaded from a mapped model file, a view of it.
  StoredArray<float> weights_;
  uint32_t n_ = 0;
  EaseFitTimes fit_times_;
};

}  // namespace recdb::models
