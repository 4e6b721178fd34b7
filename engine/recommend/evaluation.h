// Offline evaluation of every recommender on a Dataset with the docs/DESIGN.md
// protocol (engine/eval/), as `recdb eval DIR` and DB::Evaluate report it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/models/content_profile.h"
#include "engine/models/dataset.h"
#include "engine/models/recommender.h"
#include "recdb/privacy.h"
#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb {

// A recommender by name, with a factory for an unfitted instance.
struct NamedRecommender {
  std::string name;
  std::function<std::unique_ptr<models::Recommender>()> make;
};

// The recommenders that `recdb eval` and `recdb bench quality` compare, in
// report order: mostpop, ials, ease, itemknn, recentknn, cooccurrence,
// trending, context_pop, content (only with `content` vectors), fused (with
// the default blend for a catalogue of `num_items`, content included when
// given). The co-occurrence ones (alone and in the blend) drop pairs of
// fewer than `min_pair_users` distinct users (AggregatePrivacyOptions).
std::vector<NamedRecommender> EvaluatedRecommenders(
    int threads, uint32_t num_items, std::shared_ptr<const models::ItemVectors> content = nullptr,
    uint32_t min_pair_users = kDefaultMinPairUsers);

// Splits `data` by time, fits each requested recommender on the train part
// (the fused one learns its weights on a validation split carved from that
// train part only) and measures it on the test part, with the k-anonymity
// threshold `min_pair_users` as in EvaluatedRecommenders.
// Errors: InvalidArgument for an unknown recommender name.
StatusOr<EvaluationReport> EvaluateRecommenders(
    const models::Dataset& data, const EvaluateOptions& options,
    std::shared_ptr<const models::ItemVectors> content = nullptr,
    uint32_t min_pair_users = kDefaultMinPairUsers);

}  // namespace recdb
