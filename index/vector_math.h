// Small dense-vector kernels shared by the indexes: validation, normalisation,
// dot product and squared L2, and the metric's score (higher is better).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "index/vector_index.h"
#include "recdb/status.h"

namespace recdb::index {

// OK if `v` has `dimension` finite elements; else InvalidArgument naming the
// first problem (wrong length, NaN or inf at position i).
Status ValidateVector(std::span<const float> v, uint32_t dimension);

// Scales `v` (length n) to unit L2 norm. InvalidArgument if its norm is zero
// or not finite.
Status NormalizeInPlace(float* v, size_t n);

float Dot(const float* a, const float* b, size_t n);
float SquaredL2(const float* a, const float* b, size_t n);

// Score of `v` for `query` under `metric` (vectors already normalised for
// kCosine): dot product for kCosine/kInnerProduct, -squared L2 for kL2.
inline float Score(Metric metric, const float* query, const float* v, size_t n) {
  return metric == Metric::kL2 ? -SquaredL2(query, v, n) : Dot(query, v, n);
}

// Result order: higher score first, ties by ascending id.
inline bool BetterNeighbor(const Neighbor& a, const Neighbor& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

}  // namespace recdb::index
