// CareFacts: what the care stages and explanations know about the catalogue
// of one trained model, computed once per Train (or per evaluation fit):
// categories and the long tail by item, and the trending items of each
// category ("popular in Comedy this week").
//
// Thread-safety: immutable after BuildCareFacts.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/models/dataset.h"
#include "engine/models/fused.h"
#include "engine/rerank/rerank.h"

namespace recdb::rerank {

struct CareFacts {
  std::vector<std::vector<uint32_t>> categories;  // by item (dataset order)
  uint32_t num_categories = 0;
  std::vector<bool> long_tail;  // outside the items holding 20% of distinct users
  std::vector<float> popularity;  // distinct users per item
  // Per category: its most trending items (time-decayed, half-life 7 days)
  // as of the end of the data, sorted ascending for lookup.
  std::vector<std::vector<uint32_t>> trending_by_category;

  // Persistence with the trained model (engine/models/model_io.h); Load
  // returns false after failing `in`.
  void Save(models::ModelWriter& out) const;
  bool Load(models::ModelReader& in);

  // ItemFacts over these facts (no vectors, no exposure).
  ItemFacts Items() const;
  // The user's history mix over categories; empty without categories.
  std::vector<double> HistoryMix(std::span<const uint32_t> history) const;
  // True if `item` is among the trending items of `category`.
  bool TrendingIn(uint32_t item, uint32_t category) const;
};

// Items per category kept as "trending". Default: 10.
inline constexpr size_t kTrendingPerCategory = 10;

// `fused` must be fitted on `data`; its "trending" component (if any) gives
// the per-category trending lists.
CareFacts BuildCareFacts(const models::Dataset& data, const models::Fused* fused);

}  // namespace recdb::rerank
