// The DESIGN.md temporal split of ml-100k, loaded once per test binary and
// shared by the tests that train on it (they had each loaded and split the
// data themselves).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "test_util.h"

namespace recdb::test {

// The split of ../shared/data/ml-100k (Ml100kDir), or nullptr when the data
// is absent or cannot be loaded (`*error` then says why, "" when absent).
// Built on first use and kept until the binary exits; read-only.
inline const eval::TemporalSplit* Ml100kSplit(std::string* error) {
  static std::string load_error;
  static const eval::TemporalSplit* const split = []() -> const eval::TemporalSplit* {
    const std::string dir = Ml100kDir();
    if (dir.empty()) return nullptr;
    auto data = eval::LoadMovieLens100k(dir);
    if (!data.ok()) {
      load_error = data.status().ToString();
      return nullptr;
    }
    auto s = eval::SplitByTime(*data);
    if (!s.ok()) {
      load_error = s.status().ToString();
      return nullptr;
    }
    return new eval::TemporalSplit(std::move(s).value());
  }();
  *error = load_error;
  return split;
}

}  // namespace recdb::test

// Declares `const eval::TemporalSplit* var`: skips the test when ml-100k is
// absent, fails it when the data is there but does not load.
#define RECDB_REQUIRE_ML100K_SPLIT(var)                                            \
  std::string var##_error;                                                         \
  const ::recdb::eval::TemporalSplit* var = ::recdb::test::Ml100kSplit(&var##_error); \
  if (!var && !var##_error.empty()) FAIL() << "ml-100k: " << var##_error;          \
  if (!var) GTEST_SKIP() << "ml-100k not found; skipping"
