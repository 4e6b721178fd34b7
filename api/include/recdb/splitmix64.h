// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014; Vigna's splitmix64.c): the one mixing function behind
// recdb's seeded, reproducible draws: the Laplace noise of exposed counts,
// the text embedder's feature hashing, the cold-item order, the synthetic
// world generator (tools/import), the crash test's model (tools/cli), the
// simulator's draws (sim/rng.h) and the learned policy's list draws.
// Header-only, so it adds nothing to librecdb's exports; public because the
// tools, which use the public API only, draw from it too.
//
// Stable: seeded outputs (noisy counts, synthetic worlds, docs/BENCHMARKS.md
// figures) depend on every bit, so it never changes (tests/common).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace recdb {

// The golden-ratio increment of the generator's state.
inline constexpr uint64_t kSplitMix64Gamma = 0x9E3779B97F4A7C15ull;

// The generator's output for the state `x`: the finaliser applied to
// x + kSplitMix64Gamma. Also a good 64-bit hash of x.
constexpr uint64_t SplitMix64(uint64_t x) {
  x += kSplitMix64Gamma;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The next draw of the generator whose state is *state, which it advances.
constexpr uint64_t SplitMix64Next(uint64_t* state) {
  const uint64_t out = SplitMix64(*state);
  *state += kSplitMix64Gamma;
  return out;
}

}  // namespace recdb
