#include "engine/models/context.h"

#include <algorithm>

namespace recdb::models {

std::vector<std::string> DerivedContextFeatureNames() {
  return {"daypart=night", "daypart=morning", "daypart=afternoon", "daypart=evening",
          "weekend=0", "weekend=1"};
}

std::array<uint32_t, 2> DerivedContextFeatures(int64_t ts) {
  int64_t days = ts / 86400, secs = ts % 86400;
  if (secs < 0) secs += 86400, --days;
  const uint32_t daypart = static_cast<uint32_t>(secs / (6 * 3600));  // 0..3
  int64_t weekday = (days + 3) % 7;  // 1970-01-01 was a Thursday; Monday = 0
  if (weekday < 0) weekday += 7;
  return {daypart, weekday >= 5 ? 5u : 4u};
}

std::vector<uint32_t> QueryContextFeatures(const UserQuery& query) {
  std::vector<uint32_t> out(query.context_features.begin(), query.context_features.end());
  int64_t t = query.context_time != 0 ? query.context_time : query.now;
  if (t == 0 && !query.timestamps.empty()) t = query.timestamps.back();
  if (t != 0) {
    for (uint32_t f : DerivedContextFeatures(t)) out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint32_t> InteractionContextFeatures(const Dataset& data, const Interaction& e) {
  std::span<const uint32_t> stored = data.ContextFeatures(e.context);
  std::vector<uint32_t> out(stored.begin(), stored.end());
  for (uint32_t f : DerivedContextFeatures(e.ts)) out.push_back(f);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void BuildTimelineQuery(const Dataset& data, uint32_t user, TimelineQuery* out) {
  out->items.clear();
  out->timestamps.clear();
  out->weights.clear();
  out->context.clear();
  uint32_t last_context = kNoContext;
  for (uint32_t k : data.UserTimeline(user)) {
    const Interaction& e = data.interactions()[k];
    out->items.push_back(e.item);
    out->timestamps.push_back(e.ts);
    out->weights.push_back(e.weight);
    last_context = e.context;
  }
  std::span<const uint32_t> stored = data.ContextFeatures(last_context);
  out->context.assign(stored.begin(), stored.end());
  out->query = UserQuery{};
  out->query.user = user;
  out->query.items = out->items;
  out->query.timestamps = out->timestamps;
  out->query.weights = out->weights;
  out->query.context_features = out->context;
}

}  // namespace recdb::models
