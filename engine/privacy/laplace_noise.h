// Laplace noise for the counts recdb exposes
// (AggregatePrivacyOptions::popularity_epsilon, recdb/privacy.h).
//
// A count c is released as round(c + X), X ~ Laplace(0, b), b = sensitivity
// / epsilon with sensitivity 1 (one event changes one count by one): the
// Laplace mechanism, epsilon-differentially private per count. X is a
// deterministic function of (seed, counter key), drawn by inverse CDF from a
// SplitMix64 hash, so repeated queries of one counter return the same value.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace recdb::privacy {

// A Laplace(0, scale) draw determined by (seed, key).
double LaplaceNoise(uint64_t seed, uint64_t key, double scale);

// The key of one counter: item, event type, and day (all_time: the all-time
// counter; type 0xFFFF: the total over types).
uint64_t CountNoiseKey(uint32_t item, uint16_t type, int64_t day, bool all_time);

// round(count + LaplaceNoise(seed, key, 1 / epsilon)); `count` if epsilon <= 0.
int64_t NoisyCount(int64_t count, double epsilon, uint64_t seed, uint64_t key);

}  // namespace recdb::privacy
