#include "index/vector_math.h"

#include <cmath>
#include <string>

namespace recdb::index {

std::string_view MetricToString(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kInnerProduct:
      return "ip";
    case Metric::kL2:
      return "l2";
  }
  return "unknown";
}

Status ValidateVector(std::span<const float> v, uint32_t dimension) {
  if (v.size() != dimension) {
    return Status::InvalidArgument("vector has " + std::to_string(v.size()) +
                                   " elements, index dimension is " + std::to_string(dimension));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return Status::InvalidArgument("vector element " + std::to_string(i) +
                                     " is not finite (NaN or inf)");
    }
  }
  return Status::OK();
}

Status NormalizeInPlace(float* v, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += double{v[i]} * v[i];
  const double norm = std::sqrt(sum);
  if (!(norm > 0) || !std::isfinite(norm)) {
    return Status::InvalidArgument("cosine metric needs a vector with non-zero finite norm");
  }
  const float inv = static_cast<float>(1.0 / norm);
  for (size_t i = 0; i < n; ++i) v[i] *= inv;
  return Status::OK();
}

// Sixteen independent accumulators: without -ffast-math the compiler may not
// reorder a float reduction, but it vectorises independent lanes (SSE: 4 regs).
float Dot(const float* a, const float* b, size_t n) {
  float acc[16] = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (size_t j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float sum = 0;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (float x : acc) sum += x;
  return sum;
}

float SquaredL2(const float* a, const float* b, size_t n) {
  float acc[16] = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (size_t j = 0; j < 16; ++j) {
      const float d = a[i + j] - b[i + j];
      acc[j] += d * d;
    }
  }
  float sum = 0;
  for (; i < n; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  for (float x : acc) sum += x;
  return sum;
}

}  // namespace recdb::index
