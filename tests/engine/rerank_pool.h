// The hand-made candidate pool of the care-stage tests
// (tests/engine/rerank_stages_test.cc, tests/engine/rerank/): ten
// candidates, best first: 0..5 in category 0, 6..7 in category 1, 8..9 in
// category 2. Items 7..9 are long tail.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/rerank/rerank.h"

namespace recdb::rerank::test {

struct TenCandidates {
  TenCandidates() {
    for (uint32_t i = 0; i < 10; ++i) {
      pool_.push_back({i, 10.0 - i});
      categories_.push_back({i < 6 ? 0u : (i < 8 ? 1u : 2u)});
      long_tail_.push_back(i >= 7);
    }
    facts_.categories = &categories_;
    facts_.num_categories = 3;
    facts_.long_tail = &long_tail_;
  }
  TenCandidates(const TenCandidates&) = delete;  // facts_ points into this object
  TenCandidates& operator=(const TenCandidates&) = delete;

  static std::vector<uint32_t> Items(const std::vector<Placed>& placed) {
    std::vector<uint32_t> out;
    for (const auto& p : placed) out.push_back(p.item);
    return out;
  }

  std::vector<Candidate> pool_;
  std::vector<std::vector<uint32_t>> categories_;
  std::vector<bool> long_tail_;
  ItemFacts facts_;
};

}  // namespace recdb::rerank::test
