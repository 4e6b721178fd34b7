// Explainer: the explanation of one result -- structured evidence and one
// human sentence -- from the evidence that really produced it:
//  - "recommender": each recommender's share of the positive fused score;
//  - "because_item": the user's own history item with the strongest
//    co-occurrence with the result (always one of ExplainContext::reasons:
//    an item the user rated below their neutral point is never cited);
//  - "attended_items": the recent history items a sequence model (a
//    component whose Recommender::HistoryEvidence is not empty, "seq")
//    weighted most, when that component contributed positively ("because
//    you just interacted with X and Y"; also only ExplainContext::reasons);
//  - "popular_in_category": the result is among the trending items of one
//    of its own categories ("popular in Comedy this week");
//  - care placements (engine/rerank): "exploration" ("new, and close to what
//    you like"), "diversity" ("added for variety", citing a category of the
//    item the list lacked), "calibration" (a category of the item that the
//    user's history holds), "fair_exposure", "pinned", "boosted".
//
// Thread-safety: pure given its inputs (the catalog is itself thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/catalog/item_catalog.h"
#include "engine/rerank/care_facts.h"
#include "engine/rerank/rerank.h"
#include "recdb/recommend.h"

namespace recdb::models {
class Cooccurrence;
}

namespace recdb::explain {

struct ExplainContext {
  const ItemCatalog* catalog = nullptr;                 // titles, category names
  std::function<std::string(uint32_t)> external_id;     // iid -> external id
  const models::Cooccurrence* cooccurrence = nullptr;   // may be null
  const rerank::CareFacts* facts = nullptr;             // may be null
  // The user's items that may be cited as a reason (CitableItems): the
  // history without the items the user rated below their neutral point.
  // Sorted. Only read with `cooccurrence` (the because_item evidence), so
  // a caller without one may leave it empty.
  std::span<const uint32_t> reasons;
  // The citable history items the sequence component attended to most,
  // heaviest first, and that component's name (empty: none).
  std::vector<uint32_t> attended;
  std::string attended_by;
  size_t k = 0;                                         // list length requested
  bool boosted = false;                                 // a business rule boosted it
  // No history and no session: the list is the popularity fallback
  // (recommend.h, RecommendRequest), and says so.
  bool cold_start = false;
  bool personal = true;  // false: the user's consent turned personalisation off
};

// One event of the user's history, as the explainer weighs it.
struct HistoryEvent {
  uint32_t item = 0;
  uint16_t type = 0;  // event type id: values are compared within a type
  bool has_value = false;
  double value = 0.0;  // e.g. a rating
};

// The items of `events` that may be cited as a reason to like something.
// An event without a value (a view, a purchase) always may. A valued event
// (a rating) may only when its value is at least the user's neutral point
// for that event type: the higher of the mean of the user's values and the
// middle of their range, (min + max) / 2. So on a 1-5 scale a user who rated
// from 1 to 5 never has a 1 or a 2 cited, whatever their mean. An item with
// any event below the neutral point is not citable, even if it was also
// viewed. The result is sorted and unique.
std::vector<uint32_t> CitableItems(std::span<const HistoryEvent> events);

// Fills rec->explanation from rec->contributions and the context. `placed`
// is the care stage's record for the item (null: plain relevance).
void ExplainResult(const ExplainContext& ctx, uint32_t item, const rerank::Placed* placed,
                   Recommendation* rec);

// Rewrites an explanation made for a user (ExplainResult) for an
// item-to-item list (DB::SimilarItems): there is no user, so nothing is
// "because you interacted with"; the sentence names `seed_title`, the item
// the list is similar to, and the reason its top recommender gives.
void ExplainSimilar(const std::string& seed_title, Recommendation* rec);

}  // namespace recdb::explain
