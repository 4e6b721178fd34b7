#include "engine/privacy/laplace_noise.h"

#include <cmath>

#include "recdb/splitmix64.h"

namespace recdb::privacy {

double LaplaceNoise(uint64_t seed, uint64_t key, double scale) {
  const uint64_t h = SplitMix64(SplitMix64(seed) ^ key);
  // u uniform in (0, 1), never 0 or 1: 53 random bits, centred in their cell.
  const double u = (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  // Inverse CDF of Laplace(0, scale).
  return u < 0.5 ? scale * std::log(2.0 * u) : -scale * std::log(2.0 * (1.0 - u));
}

uint64_t CountNoiseKey(uint32_t item, uint16_t type, int64_t day, bool all_time) {
  uint64_t k = SplitMix64((uint64_t{item} << 16) | type);
  return SplitMix64(k ^ (all_time ? 0x5A5A5A5A5A5A5A5Aull : static_cast<uint64_t>(day)));
}

int64_t NoisyCount(int64_t count, double epsilon, uint64_t seed, uint64_t key) {
  if (!(epsilon > 0)) return count;
  return count + static_cast<int64_t>(std::llround(LaplaceNoise(seed, key, 1.0 / epsilon)));
}

}  // namespace recdb::privacy
