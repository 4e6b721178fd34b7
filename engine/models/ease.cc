#include "engine/models/ease.h"

#include <algorithm>
#include <vector>

namespace recdb::models {

Status Ease::Fit(const Dataset& data) {
  const uint32_t n = data.num_items();
  if (n > options_.max_items) {
    return Status::ResourceExhausted("ease: catalogue larger than max_items");
  }
  if (!(options_.lambda > 0)) return Status::InvalidArgument("ease: lambda must be > 0");
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
  for (uint32_t u = 0; u < data.num_users(); ++u) {
    auto items = data.UserItems(u);
    for (uint32_t a : items) {
      for (uint32_t b : items) {
        if (b > a) break;  // lower triangle (items are ascending)
        gram(a, b) += 1.0;
      }
    }
  }
  gram.diagonal().array() += options_.lambda;
  Eigen::LLT<Eigen::MatrixXd> llt(gram.selfadjointView<Eigen::Lower>());
  if (llt.info() != Eigen::Success) return Status::Internal("ease: Gram matrix not positive definite");
  Eigen::MatrixXd p = llt.solve(Eigen::MatrixXd::Identity(n, n));
  weights_.resize(n, n);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < n; ++j) {
      weights_(i, j) = i == j ? 0.0f : static_cast<float>(-p(i, j) / p(j, j));
    }
  }
  return Status::OK();
}

void Ease::Score(const UserQuery& query, std::span<float> scores) const {
  Eigen::Map<Eigen::VectorXf> out(scores.data(), static_cast<Eigen::Index>(scores.size()));
  out.setZero();
  std::vector<uint32_t> items(query.items.begin(), query.items.end());
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  for (uint32_t i : items) {
    if (i < num_items()) out += weights_.row(i).transpose();
  }
}

}  // namespace recdb::models

namespace recdb::models {

Status Ease::Save(ModelWriter& out) const {
  out.Put<uint32_t>(num_items());
  out.PutArray(weights_.data(), static_cast<size_t>(weights_.size()));
  return Status::OK();
}

Status Ease::Load(ModelReader& in) {
  uint32_t n = 0;
  if (!in.Get(&n) || !in.Expect(n <= options_.max_items, "item count") ||
      !in.CanHold(static_cast<uint64_t>(n) * n, sizeof(float))) {
    return in.status();
  }
  weights_.resize(n, n);
  in.GetArray(weights_.data(), static_cast<uint64_t>(n) * n);
  return in.status();
}

}  // namespace recdb::models
