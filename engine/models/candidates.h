// The blend's candidate paths beside ScoreCandidates (fused.h): the
// two-stage path, and the components the default blend leaves out.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "engine/models/fused.h"

namespace recdb::models {

// The same candidates and scores as ScoreCandidates (up to iALS's HNSW
// search and rounding of its moments), scoring every item only with models
// that have no fast path (Recommender::SparseScore; Retrieve + ScoreMoments
// + ScoreItems): the two-stage path Fused serves with, and the one its
// blend learns on when it will serve two-stage. `by_rank`: every item, by
// `item_rank` ascending. The models' retrieval state is prepared
// (PrepareRetrieval; a model whose state is not ready is scored in full).
// Thread-safe (per-thread scratch).
CandidateScores TwoStageScoreCandidates(const std::vector<const Recommender*>& models,
                                        const UserQuery& query, std::span<const uint32_t> exclude,
                                        size_t per_model, std::span<const uint32_t> item_rank,
                                        std::span<const uint32_t> by_rank);

// Why DefaultFusedComponents(num_items, ...) leaves a default component out
// (EASE past EaseOptions::max_items: the blend degrades to the others), one
// sentence per component; empty when none is. Train reports them through
// TrainOptions::on_progress, appended to the first stage after reading the
// events ("validation fit: ials (note: ease left out ...)").
std::vector<std::string> LeftOutComponents(uint32_t num_items);

}  // namespace recdb::models
