// ColdItems: the items exploration may show although no recommender ranks
// them. An item without events is in no recommender's candidate pool (the
// fused top candidate_factor * k), so exploration, which drew only from that
// pool, never showed it: new items stayed unseen, and unseen items gather no
// events (sim/README.md). A cold item is one of
//   - the model's items with no training interaction,
//   - items newer than the model (internal id >= the model's item count),
//   - the model's other items created within kNewItemSeconds of the request.
// Serving samples a few per request (RecommendService::Serve) and hands them
// to Rerank's exploration stage (ItemFacts::cold), which alone may place
// them, within CareOptions::exploration's slots.
//
// Thread-safety: immutable after Build; Sample is safe concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "engine/catalog/item_catalog.h"

namespace recdb::rerank {

// How long after its created_at an item counts as new (exploration's
// ItemExposure::is_new and cold items). 14 days.
inline constexpr int64_t kNewItemSeconds = 14 * 86400;

class ColdItems {
 public:
  ColdItems() = default;

  // `popularity`: distinct training users per item of the model (its size is
  // the model's item count); `catalog` gives creation times.
  static ColdItems Build(const std::vector<float>& popularity, const ItemCatalog& catalog);

  // Up to `max` cold items for a request at time `now`, each passing `admit`
  // (the caller's filter, exclusions and exposure cap), visited in an order
  // drawn from `seed`: every cold item is equally likely to be offered, the
  // same seed gives the same items. `id_limit` is the database's item id
  // limit (items in [model count, id_limit) are newer than the model). Cost:
  // O(visited), at most the number of cold items.
  std::vector<uint32_t> Sample(uint32_t id_limit, int64_t now, size_t max, uint64_t seed,
                               const std::function<bool(uint32_t)>& admit) const;

  uint32_t num_model_items() const { return num_items_; }
  size_t num_without_interactions() const { return unseen_.size(); }

 private:
  uint32_t num_items_ = 0;
  std::vector<uint32_t> unseen_;  // iid < num_items_ with no training interaction
  // The model's other items with a created_at, by (created_at, iid).
  std::vector<std::pair<int64_t, uint32_t>> by_creation_;
};

}  // namespace recdb::rerank
