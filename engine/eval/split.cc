#include "engine/eval/split.h"

#include <algorithm>
#include <cmath>

namespace recdb::eval {

uint32_t NumHeldOut(uint64_t n, const SplitOptions& options) {
  if (n < options.min_events) return 0;
  // std::nearbyint uses the current rounding mode, round-half-to-even by
  // default, matching Python's round() on the same double.
  const double r = std::nearbyint(options.test_fraction * static_cast<double>(n));
  const uint64_t held = r < 1.0 ? 1 : static_cast<uint64_t>(r);
  return static_cast<uint32_t>(std::min<uint64_t>(held, n));
}

StatusOr<TemporalSplit> SplitByTime(const models::Dataset& data, const SplitOptions& options) {
  if (!(options.test_fraction >= 0.0 && options.test_fraction <= 1.0)) {
    return Status::InvalidArgument("test_fraction must be in [0, 1]");
  }
  TemporalSplit split;
  split.test_items.resize(data.num_users());
  std::vector<models::Interaction> train;
  train.reserve(data.interactions().size());
  const auto& ev = data.interactions();
  for (uint32_t u = 0; u < data.num_users(); ++u) {
    auto timeline = data.UserTimeline(u);
    const uint32_t held = NumHeldOut(timeline.size(), options);
    const size_t cut = timeline.size() - held;
    for (size_t k = 0; k < cut; ++k) train.push_back(ev[timeline[k]]);
    if (held == 0) continue;
    auto& test = split.test_items[u];
    for (size_t k = cut; k < timeline.size(); ++k) test.push_back(ev[timeline[k]].item);
    std::sort(test.begin(), test.end());
    test.erase(std::unique(test.begin(), test.end()), test.end());
    split.test_users.push_back(u);
  }
  RECDB_ASSIGN_OR_RETURN(split.train, data.WithInteractions(std::move(train)));
  return split;
}

}  // namespace recdb::eval
