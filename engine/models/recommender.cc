#include "engine/models/recommender.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
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
  std::vector<ScoredItem> out;
  if (k == 0) return out;
  // The order "score descending, then item rank ascending" as one integer,
  // larger first: the score's bits made monotone (-0 read as +0, as the
  // float comparison does) above the complement of the rank. Item ranks
  // differ (Dataset::item_rank is a permutation), so the order is total
  // and any exact selection gives the same answer; the item id settles a
  // tie only if they did not.
  struct Keyed {
    uint64_t key;
    uint32_t item;
  };
  auto better = [](const Keyed& a, const Keyed& b) {
    return a.key != b.key ? a.key > b.key : a.item < b.item;
  };
  auto keyed = [&](uint32_t i, float s) {
    uint32_t bits;
    const float v = s == 0.0f ? 0.0f : s;
    std::memcpy(&bits, &v, sizeof bits);
    bits = (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
    return Keyed{(static_cast<uint64_t>(bits) << 32) | (0xFFFFFFFFu - item_rank[i]), i};
  };
  // A buffer of up to 2k items above a bar (the k-th best so far): when it
  // fills, a selection keeps its k best and raises the bar. O(n) on
  // average with few selections, where a heap of k paid log k per
  // replacement (serving asks for hundreds of candidates per component out
  // of a catalog a few times larger, so most items entered the heap).
  const size_t cap = k > (SIZE_MAX >> 2) ? SIZE_MAX : 2 * k;
  std::vector<Keyed> buf;
  buf.reserve(std::min(cap, scores.size()));
  bool have_bar = false;
  Keyed bar{0, 0};
  auto compact = [&] {
    std::nth_element(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k - 1), buf.end(),
                     better);
    buf.resize(k);
    bar = buf[k - 1];
    have_bar = true;
  };
  for (uint32_t i = 0; i < scores.size(); ++i) {
    const float s = scores[i];
    if (std::isnan(s) || s == -std::numeric_limits<float>::infinity()) continue;
    const Keyed c = keyed(i, s);
    if (have_bar && !better(c, bar)) continue;
    buf.push_back(c);
    if (buf.size() >= cap) compact();
  }
  if (buf.size() > k) compact();
  std::sort(buf.begin(), buf.end(), better);
  out.reserve(buf.size());
  for (const Keyed& c : buf) out.push_back({c.item, scores[c.item]});
  return out;
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
