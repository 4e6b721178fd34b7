#include "sim/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace recdb::sim {

double EntropyBits(const std::vector<int>& labels) {
  if (labels.size() < 2) return 0.0;
  std::map<int, int64_t> counts;
  for (int l : labels) ++counts[l];
  const double n = static_cast<double>(labels.size());
  double h = 0.0;
  for (const auto& [label, c] : counts) {
    const double p = static_cast<double>(c) / n;
    h -= p * std::log2(p);
  }
  return h;
}

double Gini(std::vector<double> values) {
  const size_t n = values.size();
  if (n == 0) return 0.0;
  std::sort(values.begin(), values.end());
  double sum = 0.0, weighted = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += values[i];
    weighted += static_cast<double>(i + 1) * values[i];
  }
  if (sum <= 0.0) return 0.0;
  const double dn = static_cast<double>(n);
  return 2.0 * weighted / (dn * sum) - (dn + 1.0) / dn;
}

double Coverage(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  const auto shown = std::count_if(values.begin(), values.end(), [](double v) { return v > 0; });
  return static_cast<double>(shown) / static_cast<double>(values.size());
}

void MeanAccumulator::Add(double x) {
  ++n_;
  const double d = x - mean_;
  mean_ += d / static_cast<double>(n_);
  m2_ += d * (x - mean_);
}

double MeanAccumulator::variance() const {
  return n_ < 2 ? 0.0 : m2_ / static_cast<double>(n_ - 1);
}

double MeanAccumulator::HalfWidth95() const {
  return n_ < 2 ? 0.0 : 1.96 * std::sqrt(variance() / static_cast<double>(n_));
}

}  // namespace recdb::sim
