#include "engine/models/recommender.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace recdb::models {

Status Recommender::Save(ModelWriter&) const {
  return Status::NotSupported(std::string(Name()) + ": not persisted");
}

Status Recommender::Load(ModelReader&) {
  return Status::NotSupported(std::string(Name()) + ": not persisted");
}

std::vector<ScoredItem> TopK(std::span<const float> scores, size_t k,
                             std::span<const uint32_t> item_rank) {
  // "a before b" in the final order; the heap keeps the worst on top.
  auto better = [&](const ScoredItem& a, const ScoredItem& b) {
    if (a.score != b.score) return a.score > b.score;
    return item_rank[a.item] < item_rank[b.item];
  };
  std::vector<ScoredItem> heap;
  if (k == 0) return heap;
  heap.reserve(k + 1);
  for (uint32_t i = 0; i < scores.size(); ++i) {
    const float s = scores[i];
    if (std::isnan(s) || s == -std::numeric_limits<float>::infinity()) continue;
    ScoredItem c{i, s};
    if (heap.size() < k) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(c, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = c;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  return heap;
}

std::vector<ScoredItem> Recommend(const Recommender& model, const UserQuery& query, size_t k,
                                  std::span<const uint32_t> exclude,
                                  std::span<const uint32_t> item_rank) {
  std::vector<float> scores(model.num_items());
  model.Score(query, scores);
  for (uint32_t i : exclude) {
    if (i < scores.size()) scores[i] = -std::numeric_limits<float>::infinity();
  }
  return TopK(scores, k, item_rank);
}

}  // namespace recdb::models
