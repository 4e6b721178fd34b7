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

void Recommender::ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                             std::span<float> out) const {
  std::vector<ScoredItem> entries;
  if (SparseScore(query, &entries)) {
    std::fill(out.begin(), out.end(), 0.0f);
    if (entries.empty() || items.empty()) return;
    // Position of each wanted item; few candidates, so a sorted lookup.
    std::vector<std::pair<uint32_t, uint32_t>> pos(items.size());
    for (uint32_t r = 0; r < items.size(); ++r) pos[r] = {items[r], r};
    std::sort(pos.begin(), pos.end());
    for (const ScoredItem& e : entries) {
      auto it = std::lower_bound(pos.begin(), pos.end(), std::pair<uint32_t, uint32_t>{e.item, 0});
      for (; it != pos.end() && it->first == e.item; ++it) out[it->second] += e.score;
    }
    return;
  }
  std::vector<float> all(num_items());
  Score(query, all);
  for (size_t r = 0; r < items.size(); ++r) out[r] = all[items[r]];
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
