// IdFilter: the SearchFilter the engine builds from predicates.
//
// Two bitsets over internal ids: an optional allow set ("category in {...}",
// "price in range", "available") and an exclude set ("already seen"). An id
// passes if it is in the allow set (or no allow set was given) and not
// excluded. Allows() is two bit tests, so it is cheap inside HNSW traversal.
//
// Build it on one thread, then share it read-only with any number of searches.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "index/vector_index.h"

namespace recdb::index {

class IdFilter final : public SearchFilter {
 public:
  // Passes every id (until Allow/AllowAll restricts it or Exclude removes some).
  IdFilter() = default;

  // Passes only `ids` (and whatever Allow adds later).
  static IdFilter Only(std::span<const uint32_t> ids);

  // Adds `id` to the allow set; the first call turns the filter from "every
  // id" into "only allowed ids".
  void Allow(uint32_t id);

  // `id` never passes, whatever the allow set says.
  void Exclude(uint32_t id);

  bool Allows(uint32_t id) const override {
    if (restricted_ && !Test(allowed_, id)) return false;
    return !Test(excluded_, id);
  }

  // For a restricted filter: allowed ids minus excluded ones. Unrestricted: -1
  // (unknown: "everything but a few" is large, and the planner treats it so).
  int64_t EstimatedMatches() const override;

  // Restricted filters list their matches (ascending); unrestricted ones can't.
  bool ListMatches(std::vector<uint32_t>* ids) const override;

  bool restricted() const { return restricted_; }

 private:
  static bool Test(const std::vector<uint64_t>& bits, uint32_t id) {
    const size_t word = id >> 6;
    return word < bits.size() && ((bits[word] >> (id & 63)) & 1) != 0;
  }
  // Sets the bit; returns true if it was clear.
  static bool Set(std::vector<uint64_t>* bits, uint32_t id);

  bool restricted_ = false;
  std::vector<uint64_t> allowed_;
  std::vector<uint64_t> excluded_;
  int64_t allowed_count_ = 0;
  int64_t excluded_allowed_count_ = 0;  // excluded ids that are also allowed
};

}  // namespace recdb::index
