// Synthetic clustered vectors for the index tests: Gaussian blobs around
// random centres, the shape real embeddings have (and the one that makes
// approximate search harder than uniform noise). Deterministic per seed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <span>
#include <vector>

#include "index/vector_index.h"

namespace recdb::index::test {

// Under ThreadSanitizer hnswlib's per-node locking makes inserts ~100x slower;
// the recall tests then use a smaller set (still checked against brute force)
// so the sanitizer run stays within minutes. Concurrency tests are unchanged.
#if defined(__SANITIZE_THREAD__)
inline constexpr size_t kRecallSetSize = 1000;
#else
inline constexpr size_t kRecallSetSize = 5000;
#endif

struct Dataset {
  uint32_t dim = 0;
  std::vector<float> data;  // n * dim
  std::span<const float> Row(size_t i) const { return {data.data() + i * dim, dim}; }
  size_t size() const { return data.size() / dim; }
};

inline Dataset MakeClustered(size_t n, uint32_t dim, size_t clusters, uint64_t seed,
                             float spread = 0.35f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centres(clusters * dim);
  for (float& c : centres) c = gauss(rng);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  Dataset d;
  d.dim = dim;
  d.data.resize(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = centres.data() + pick(rng) * dim;
    for (uint32_t j = 0; j < dim; ++j) d.data[i * dim + j] = c[j] + spread * gauss(rng);
  }
  return d;
}

// Mean |approx ∩ exact| / |exact| over queries (1 when both are empty).
inline double Recall(const std::vector<std::vector<Neighbor>>& approx,
                     const std::vector<std::vector<Neighbor>>& exact) {
  double sum = 0;
  for (size_t q = 0; q < exact.size(); ++q) {
    if (exact[q].empty()) {
      sum += 1;
      continue;
    }
    std::set<uint32_t> truth;
    for (const Neighbor& n : exact[q]) truth.insert(n.id);
    size_t hit = 0;
    for (const Neighbor& n : approx[q]) hit += truth.count(n.id);
    sum += static_cast<double>(hit) / exact[q].size();
  }
  return exact.empty() ? 1.0 : sum / exact.size();
}

}  // namespace recdb::index::test
