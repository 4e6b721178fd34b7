#include "index/id_filter.h"

#include <bit>

namespace recdb::index {

IdFilter IdFilter::Only(std::span<const uint32_t> ids) {
  IdFilter filter;
  filter.restricted_ = true;
  for (uint32_t id : ids) filter.Allow(id);
  return filter;
}

bool IdFilter::Set(std::vector<uint64_t>* bits, uint32_t id) {
  const size_t word = id >> 6;
  if (word >= bits->size()) bits->resize(word + 1, 0);
  const uint64_t mask = uint64_t{1} << (id & 63);
  const bool was_clear = ((*bits)[word] & mask) == 0;
  (*bits)[word] |= mask;
  return was_clear;
}

void IdFilter::Allow(uint32_t id) {
  restricted_ = true;
  if (Set(&allowed_, id)) {
    ++allowed_count_;
    if (Test(excluded_, id)) ++excluded_allowed_count_;
  }
}

void IdFilter::Exclude(uint32_t id) {
  if (Set(&excluded_, id) && Test(allowed_, id)) ++excluded_allowed_count_;
}

int64_t IdFilter::EstimatedMatches() const {
  return restricted_ ? allowed_count_ - excluded_allowed_count_ : -1;
}

bool IdFilter::ListMatches(std::vector<uint32_t>* ids) const {
  if (!restricted_) return false;
  for (size_t w = 0; w < allowed_.size(); ++w) {
    uint64_t word = allowed_[w];
    if (w < excluded_.size()) word &= ~excluded_[w];
    while (word != 0) {
      const int bit = std::countr_zero(word);
      ids->push_back(static_cast<uint32_t>(w * 64 + bit));
      word &= word - 1;
    }
  }
  return true;
}

}  // namespace recdb::index
