#include "engine/rerank/cold_items.h"

#include <algorithm>
#include <numeric>

#include "recdb/splitmix64.h"

namespace recdb::rerank {

ColdItems ColdItems::Build(const std::vector<float>& popularity, const ItemCatalog& catalog) {
  ColdItems c;
  c.num_items_ = static_cast<uint32_t>(popularity.size());
  for (uint32_t i = 0; i < c.num_items_; ++i) {
    if (popularity[i] <= 0) {
      c.unseen_.push_back(i);
    } else if (auto created = catalog.CreatedAt(i); created && *created != 0) {
      c.by_creation_.emplace_back(*created, i);
    }
  }
  std::sort(c.by_creation_.begin(), c.by_creation_.end());
  return c;
}

std::vector<uint32_t> ColdItems::Sample(uint32_t id_limit, int64_t now, size_t max,
                                        uint64_t seed,
                                        const std::function<bool(uint32_t)>& admit) const {
  std::vector<uint32_t> out;
  if (max == 0) return out;
  // Created in (now - kNewItemSeconds, now].
  auto lo = std::upper_bound(by_creation_.begin(), by_creation_.end(),
                             std::make_pair(now - kNewItemSeconds, UINT32_MAX));
  auto hi = std::upper_bound(by_creation_.begin(), by_creation_.end(),
                             std::make_pair(now, UINT32_MAX));
  const uint64_t recent = hi > lo ? static_cast<uint64_t>(hi - lo) : 0;
  const uint64_t newer = id_limit > num_items_ ? id_limit - num_items_ : 0;
  const uint64_t total = unseen_.size() + newer + recent;
  if (total == 0) return out;
  auto at = [&](uint64_t x) -> uint32_t {
    if (x < unseen_.size()) return unseen_[x];
    x -= unseen_.size();
    if (x < newer) return num_items_ + static_cast<uint32_t>(x);
    return (lo + static_cast<std::ptrdiff_t>(x - newer))->second;
  };
  // A seeded start and a stride coprime with the total visit every cold item
  // once, in an order that differs per seed.
  uint64_t z = seed + kSplitMix64Gamma;
  auto next = [&z] { return SplitMix64Next(&z); };
  uint64_t pos = next() % total;
  uint64_t stride = 1;
  if (total > 2) {
    stride = 1 + next() % (total - 1);
    while (std::gcd(stride, total) != 1) stride = stride % (total - 1) + 1;
  }
  for (uint64_t v = 0; v < total && out.size() < max; ++v) {
    const uint32_t iid = at(pos);
    if (admit(iid)) out.push_back(iid);
    pos = (pos + stride) % total;
  }
  return out;
}

}  // namespace recdb::rerank
