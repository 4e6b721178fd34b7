// A short concurrency stress run (concurrency_stress.h) in the fast suite, so
// `scripts/test.sh --tsan` puts every public operation under ThreadSanitizer
// at once. RECDB_STRESS_SECONDS lengthens it; the slow suite runs a longer
// one (concurrency_stress_slow_test.cc).
#include <gtest/gtest.h>

#include "concurrency_stress.h"
#include "test_util.h"

namespace recdb {
namespace {

TEST(ConcurrencyStressTest, EveryOperationAtOnceKeepsAcknowledgedWrites) {
  test::TempDir dir;
  test::ConcurrencyStress stress(dir.path());
  stress.Run(test::StressSeconds(2.0));
}

}  // namespace
}  // namespace recdb
