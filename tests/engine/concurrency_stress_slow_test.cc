// The concurrency stress run (concurrency_stress.h) for a minute: under
// ThreadSanitizer (build-tsan) it reaches the rarer interleavings the short
// fast-suite run may miss. RECDB_STRESS_SECONDS changes the duration.
#include <gtest/gtest.h>

#include "concurrency_stress.h"
#include "test_util.h"

namespace recdb {
namespace {

TEST(ConcurrencyStressSlowTest, EveryOperationAtOnceForAMinute) {
  test::TempDir dir;
  test::ConcurrencyStress stress(dir.path());
  stress.Run(test::StressSeconds(60.0));
}

}  // namespace
}  // namespace recdb
