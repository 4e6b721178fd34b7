// The simulator's metrics on plain numbers: consumption entropy, exposure
// Gini and coverage, and confidence intervals of a mean. Pure functions,
// tested on hand-made inputs (tests/sim/metrics_test.cc).
#pragma once

#include <cstdint>
#include <vector>

namespace recdb::sim {

// Shannon entropy, in bits, of the distribution of `labels` (category
// indices); 0 for an empty or single-label list.
double EntropyBits(const std::vector<int>& labels);

// Gini coefficient of `values` (non-negative, e.g. impressions per item):
// 0 when all are equal, (n - 1) / n when one holds everything; 0 for an
// empty or all-zero list.
double Gini(std::vector<double> values);

// Share of `values` that are > 0; 0 for an empty list.
double Coverage(const std::vector<double>& values);

// Running mean and variance (Welford), for confidence intervals.
class MeanAccumulator {
 public:
  void Add(double x);
  int64_t n() const { return n_; }
  double mean() const { return mean_; }
  // Sample variance (n - 1 denominator); 0 for n < 2.
  double variance() const;
  // Half-width of the normal-approximation 95% interval of the mean.
  double HalfWidth95() const;

 private:
  int64_t n_ = 0;
  double mean_ = 0, m2_ = 0;
};

}  // namespace recdb::sim
