// Context features: what the request's situation says, as sparse binary
// features shared by the context-aware models (ContextPopularity, the Fused
// blender). Two are derived from time (UTC): the daypart (night 0-6 h,
// morning 6-12, afternoon 12-18, evening 18-24) and weekday / weekend; the
// others are "key=value" pairs the events carry (device, surface, country,
// ...), collected into the Dataset's vocabulary by the engine.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/models/dataset.h"
#include "engine/models/recommender.h"

namespace recdb::models {

// Feature ids 0..5 are the derived features; stored ones follow.
inline constexpr uint32_t kDerivedContextFeatures = 6;

// "daypart=night", "daypart=morning", "daypart=afternoon", "daypart=evening",
// "weekend=0", "weekend=1".
std::vector<std::string> DerivedContextFeatureNames();

// The daypart and weekend feature ids of time `ts` (seconds since epoch, UTC).
std::array<uint32_t, 2> DerivedContextFeatures(int64_t ts);

// Every feature of a request, ascending: the derived ones of its time
// (context_time, else now, else the last history timestamp; none if all are
// unknown) and query.context_features.
std::vector<uint32_t> QueryContextFeatures(const UserQuery& query);

// Every feature of a stored interaction, ascending.
std::vector<uint32_t> InteractionContextFeatures(const Dataset& data, const Interaction& e);

// A user's training timeline as a query (the offline protocol's request):
// history oldest first, timestamps, weights, and the stored context of the
// last event as the request's context.
struct TimelineQuery {
  std::vector<uint32_t> items;
  std::vector<int64_t> timestamps;
  std::vector<float> weights;
  std::vector<uint32_t> context;
  UserQuery query;  // points into the vectors above
};
void BuildTimelineQuery(const Dataset& data, uint32_t user, TimelineQuery* out);

}  // namespace recdb::models
