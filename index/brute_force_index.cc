#include "index/brute_force_index.h"

#include <algorithm>
#include <cassert>
#include <mutex>
#include <string>

#include "index/vector_math.h"

namespace recdb::index {

void TopK::Push(uint32_t id, float score) {
  const Neighbor n{id, score};
  if (heap_.size() < k_) {
    heap_.push_back(n);
    std::push_heap(heap_.begin(), heap_.end(), BetterNeighbor);
  } else if (BetterNeighbor(n, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), BetterNeighbor);
    heap_.back() = n;
    std::push_heap(heap_.begin(), heap_.end(), BetterNeighbor);
  }
}

std::vector<Neighbor> TopK::Take() {
  std::sort_heap(heap_.begin(), heap_.end(), BetterNeighbor);
  return std::move(heap_);
}

BruteForceIndex::BruteForceIndex(uint32_t dimension, Metric metric)
    : dimension_(dimension), metric_(metric) {
  assert(dimension > 0);
}

Status BruteForceIndex::Add(uint32_t id, std::span<const float> vector) {
  return Insert(id, vector, /*replace=*/false);
}

Status BruteForceIndex::Upsert(uint32_t id, std::span<const float> vector) {
  return Insert(id, vector, /*replace=*/true);
}

Status BruteForceIndex::Insert(uint32_t id, std::span<const float> vector, bool replace) {
  RECDB_RETURN_IF_ERROR(ValidateVector(vector, dimension_));
  std::vector<float> v(vector.begin(), vector.end());
  if (metric_ == Metric::kCosine) RECDB_RETURN_IF_ERROR(NormalizeInPlace(v.data(), v.size()));
  std::unique_lock lock(mu_);
  if (id >= live_.size()) {
    const size_t n = std::max<size_t>(size_t{id} + 1, live_.size() * 2);
    live_.resize(n, 0);
    vectors_.resize(n * dimension_, 0.0f);
  }
  if (live_[id]) {
    if (!replace) return Status::AlreadyExists("id " + std::to_string(id) + " is in the index");
  } else {
    live_[id] = 1;
    ++size_;
  }
  std::copy(v.begin(), v.end(), vectors_.begin() + size_t{id} * dimension_);
  return Status::OK();
}

Status BruteForceIndex::Remove(uint32_t id) {
  std::unique_lock lock(mu_);
  if (id >= live_.size() || !live_[id]) {
    return Status::NotFound("id " + std::to_string(id) + " is not in the index");
  }
  live_[id] = 0;
  --size_;
  std::fill_n(vectors_.begin() + size_t{id} * dimension_, dimension_, 0.0f);
  return Status::OK();
}

bool BruteForceIndex::Contains(uint32_t id) const {
  std::shared_lock lock(mu_);
  return id < live_.size() && live_[id];
}

StatusOr<std::vector<float>> BruteForceIndex::Get(uint32_t id) const {
  std::shared_lock lock(mu_);
  if (id >= live_.size() || !live_[id]) {
    return Status::NotFound("id " + std::to_string(id) + " is not in the index");
  }
  const float* v = vectors_.data() + size_t{id} * dimension_;
  return std::vector<float>(v, v + dimension_);
}

size_t BruteForceIndex::Size() const {
  std::shared_lock lock(mu_);
  return size_;
}

StatusOr<std::vector<Neighbor>> BruteForceIndex::Search(std::span<const float> query, size_t k,
                                                        const SearchFilter* filter) const {
  if (k == 0) return Status::InvalidArgument("k must be positive");
  RECDB_RETURN_IF_ERROR(ValidateVector(query, dimension_));
  std::vector<float> q(query.begin(), query.end());
  if (metric_ == Metric::kCosine) RECDB_RETURN_IF_ERROR(NormalizeInPlace(q.data(), q.size()));

  std::shared_lock lock(mu_);
  TopK top(k);
  auto consider = [&](uint32_t id) {
    top.Push(id, Score(metric_, q.data(), vectors_.data() + size_t{id} * dimension_, dimension_));
  };
  std::vector<uint32_t> matches;
  if (filter != nullptr && filter->ListMatches(&matches)) {
    for (uint32_t id : matches) {
      if (id < live_.size() && live_[id]) consider(id);
    }
  } else {
    for (uint32_t id = 0; id < live_.size(); ++id) {
      if (live_[id] && (filter == nullptr || filter->Allows(id))) consider(id);
    }
  }
  return top.Take();
}

}  // namespace recdb::index
