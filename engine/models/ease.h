// Ease: Embarrassingly Shallow Autoencoder (Steck 2019). A dense item-item
// weight matrix B with zero diagonal, closed form:
//   P = (X^T X + lambda I)^-1,  B_ij = -P_ij / P_jj,  B_jj = 0,
// and score(j) = sum over distinct history items i of B_ij.
//
// Cost: O(num_items^2) memory and O(num_items^3) fit time (Cholesky in
// double), so Fit returns ResourceExhausted above `max_items`.
// Thread-safety: see Recommender.
#pragma once

#include <Eigen/Dense>

#include "engine/models/recommender.h"

namespace recdb::models {

struct EaseOptions {
  double lambda = 300.0;      // L2 regularisation. Default: 300
  uint32_t max_items = 20000; // Default: 20000 (B is 1.6 GB of floats there)
};

class Ease final : public Recommender {
 public:
  explicit Ease(EaseOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "ease"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return static_cast<uint32_t>(weights_.rows()); }
  void Score(const UserQuery& query, std::span<float> scores) const override;

 private:
  EaseOptions options_;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> weights_;  // B
};

}  // namespace recdb::models
