// Deterministic randomness for the simulator: splitmix64, keyed by
// (seed, stream, a, b, c) so that every draw is a pure function of what it is
// for (a user's response at a round and slot, a random policy's list). The
// same key gives the same draw in every policy's world ("common random
// numbers"), so policies are compared on the same luck.
#pragma once

#include <cmath>
#include <cstdint>

#include "recdb/splitmix64.h"

namespace recdb::sim {

// recdb's one SplitMix64 (recdb/splitmix64.h), as a hash of x.
inline uint64_t Mix64(uint64_t x) { return SplitMix64(x); }

// A key for one purpose: stream names the kind of draw.
inline uint64_t DrawKey(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b = 0,
                        uint64_t c = 0) {
  uint64_t k = Mix64(seed ^ (stream * 0xD1B54A32D192ED03ull));
  k = Mix64(k ^ a);
  k = Mix64(k ^ (b * kSplitMix64Gamma));
  return Mix64(k ^ (c * 0xC2B2AE3D27D4EB4Full));
}

// A sequence of draws from one key.
class Rng {
 public:
  explicit Rng(uint64_t key) : state_(key) {}
  uint64_t Next() { return SplitMix64Next(&state_); }
  // In [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // In [0, n); 0 when n <= 1.
  uint64_t Below(uint64_t n) { return n <= 1 ? 0 : Next() % n; }
  double Normal() {
    double u1 = Uniform(), u2 = Uniform();
    if (u1 < 1e-12) u1 = 1e-12;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

// Streams (DrawKey's `stream`).
enum DrawStream : uint64_t {
  kResponseStream = 101,  // a user's reaction to one slot
  kLeaveStream,           // whether a user leaves after a round
  kRandomPolicyStream,    // the random policy's list
  kQualityStream,         // an item's latent quality
  kLearnedPolicyStream,   // the learned policy's Plackett-Luce draw
};

}  // namespace recdb::sim
