// Builds the models::Dataset that training and offline evaluation use, from
// one consistent snapshot of the event log.
//
// Rules: an event counts as one implicit interaction of weight = its type's
// weight; events whose type weight is <= 0 (negative feedback) are left out;
// users whose consent has training == false are left out entirely. Users and
// items keep their internal ids (dense, docs/DESIGN.md decision 2); external item
// ids set the protocol's tie-break order; categories come from the catalog;
// the events' context maps become context features (engine/models/context.h).
#pragma once

#include <cstdint>

#include "engine/catalog/item_catalog.h"
#include "engine/models/dataset.h"
#include "recdb/status.h"

namespace recdb {

class DBImpl;

// Context features kept for training (besides daypart and weekend): the most
// frequent "key=value" pairs of the events' context, each seen in at least
// kMinContextFeatureEvents events, at most kMaxContextFeatures of them.
// High-cardinality keys (session ids) fall below the threshold.
inline constexpr size_t kMaxContextFeatures = 256;
inline constexpr int64_t kMinContextFeatureEvents = 20;
inline constexpr size_t kMaxProvisionalContextFeatures = 1 << 20;

struct TrainingDataStats {
  int64_t events_used = 0;
  int64_t events_skipped_negative = 0;
  int64_t users_excluded_by_consent = 0;
};

// `events_before`: only events with timestamp < it (off-policy evaluation's
// model as of a past time); default: all.
StatusOr<models::Dataset> BuildTrainingDataset(const DBImpl& db, const ItemCatalog& catalog,
                                               TrainingDataStats* stats,
                                               int64_t events_before = INT64_MAX);

}  // namespace recdb
