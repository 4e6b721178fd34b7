// Ease: Embarrassingly Shallow Autoencoder (Steck 2019). A dense item-item
// weight matrix B with zero diagonal, closed form:
//   P = (X^T X + lambda I)^-1,  B_ij = -P_ij / P_jj,  B_jj = 0,
// and score(j) = sum over distinct history items i of B_ij.
//
// Fit builds the lower triangle of the Gram matrix G = X^T X + lambda I from
// the sparse interactions (column by column, on `threads` threads), then
// inverts it through LAPACK (OpenBLAS): one Cholesky factorisation (dpotrf)
// and the inverse from the factor (dpotri), about num_items^3 flops.
//
// Cost: 12 bytes per item^2 during Fit (G in double, B in float), 4 bytes
// per item^2 after it; O(num_items^3) fit time. Fit returns
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
  uint32_t max_items = 20000; // Default: 20000 (G and B take 4.8 GB there)
  // Threads for the Gram matrix, the LAPACK calls (OpenBLAS) and the
  // weights. Default: 2
  int threads = 2;
};

// Wall time of the last Fit's steps, seconds (for `recdb bench ease`).
struct EaseFitTimes {
  double gram = 0;       // G = X^T X + lambda I, lower triangle
  double factorise = 0;  // dpotrf + dpotri
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
  EaseOptions options_;
  // B, n_ x n_ row-major; loaded from a mapped model file, a view of it.
  StoredArray<float> weights_;
  uint32_t n_ = 0;
  EaseFitTimes fit_times_;
};

}  // namespace recdb::models
