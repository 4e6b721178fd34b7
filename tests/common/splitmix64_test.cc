// recdb/splitmix64.h is the one home of the SplitMix64 that five files
// carried their own copy of. Seeded outputs (noisy counts, synthetic worlds,
// the figures of docs/BENCHMARKS.md) depend on every bit, so the shared one
// must give the very sequences the copies gave: checked here against the
// published reference values and against each removed copy, verbatim.
#include "recdb/splitmix64.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace recdb {
namespace {

// The removed copies, as they were written.
// engine/privacy/laplace_noise.cc, engine/embed/text_embedder.cc,
// tools/import/synthetic_world.cc (Mix), tools/cli/crashtest_model.cc:
uint64_t OldMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
// tools/import/synthetic_world.cc (Next):
uint64_t OldNext(uint64_t* s) {
  *s += 0x9E3779B97F4A7C15ull;
  uint64_t z = *s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Vigna's splitmix64.c: the first outputs from the states 0 and 1234567.
TEST(SplitMix64Test, MatchesTheReferenceGenerator) {
  uint64_t s = 0;
  EXPECT_EQ(SplitMix64Next(&s), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(SplitMix64Next(&s), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(SplitMix64Next(&s), 0x06C45D188009454Full);
  s = 1234567;
  EXPECT_EQ(SplitMix64Next(&s), 6457827717110365317ull);
  EXPECT_EQ(SplitMix64Next(&s), 3203168211198807973ull);
  EXPECT_EQ(SplitMix64Next(&s), 9817491932198370423ull);
  static_assert(SplitMix64(0) == 0xE220A8397B1DCDAFull, "usable in constant expressions");
}

TEST(SplitMix64Test, GivesTheSequencesOfTheRemovedCopies) {
  for (uint64_t seed : {0ull, 1ull, 42ull, 0x5A5A5A5A5A5A5A5Aull, ~0ull, 0x9E3779B97F4A7C15ull}) {
    // The hash form (Mix) over a chain of inputs.
    uint64_t x = seed;
    for (int i = 0; i < 1000; ++i) {
      ASSERT_EQ(SplitMix64(x), OldMix(x)) << seed << " " << i;
      x = OldMix(x) ^ static_cast<uint64_t>(i);
    }
    // The generator form (Next): the same draws and the same state after.
    uint64_t a = seed, b = seed;
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(SplitMix64Next(&a), OldNext(&b)) << seed << " " << i;
    EXPECT_EQ(a, b);
    // engine/rerank/cold_items.cc started its stream at seed + gamma and
    // advanced before mixing; it now starts SplitMix64Next at seed + gamma.
    uint64_t z_old = seed + 0x9E3779B97F4A7C15ull, z_new = seed + kSplitMix64Gamma;
    for (int i = 0; i < 100; ++i) ASSERT_EQ(SplitMix64Next(&z_new), OldNext(&z_old));
  }
}

}  // namespace
}  // namespace recdb
