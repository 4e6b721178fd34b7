// The docs/DESIGN.md evaluation split: per user, events sorted by (timestamp, item
// rank); the last 20% (rounded to the nearest integer, ties to even as in
// Python's round(), at least 1) are test; users with fewer than 5 events are
// train-only. The same rule, applied to a training set, carves the validation
// split used to learn fusion weights.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/models/dataset.h"
#include "recdb/status.h"

namespace recdb::eval {

struct SplitOptions {
  // Fraction of each eligible user's events held out. Default: 0.2.
  double test_fraction = 0.2;
  // Users with fewer events stay train-only. Default: 5.
  uint32_t min_events = 5;
};

struct TemporalSplit {
  models::Dataset train;                         // same users/items/ids as the input
  std::vector<uint32_t> test_users;              // ascending user id
  std::vector<std::vector<uint32_t>> test_items; // per user (num_users): distinct, ascending
};

// Number of held-out events for a user with n events: 0 if n < min_events,
// else max(1, round_half_even(test_fraction * n)).
uint32_t NumHeldOut(uint64_t n, const SplitOptions& options);

// Splits `data` by time per user. Returns InvalidArgument for a fraction
// outside [0, 1].
StatusOr<TemporalSplit> SplitByTime(const models::Dataset& data,
                                    const SplitOptions& options = {});

}  // namespace recdb::eval
