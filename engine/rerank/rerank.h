// Rerank: the care stages that turn a fused candidate pool into the list a
// person sees -- business rules (pin, boost, bury), exploration (Thompson
// sampling), and one greedy pass that balances relevance with diversity
// (MMR), calibration (Steck 2018) and a fair-exposure floor for long-tail
// items. Serving (RecommendService) and offline evaluation (`recdb eval`,
// sweeps) call the same function, so what is measured is what is served.
//
// Everything is in internal item ids; the function is pure (no I/O) and
// deterministic: exploration draws from a generator seeded by the caller.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "recdb/care.h"
#include "recdb/status.h"

namespace recdb::rerank {

inline constexpr uint32_t kNoCategory = std::numeric_limits<uint32_t>::max();

// One fused candidate. The pool is ordered best first.
struct Candidate {
  uint32_t item = 0;
  double score = 0;
};

// Why a slot holds its item.
enum class Placement : uint8_t {
  kRelevance,    // the best remaining candidate by relevance (after boosts)
  kDiversity,    // chosen over a more relevant one because it is less alike the list
  kCalibration,  // chosen to bring the list's category mix closer to the history's
  kFairness,     // a long-tail item placed by the fair-exposure floor
  kExploration,  // an under-exposed item chosen by Thompson sampling
  kPinned,       // a business rule put it there
};
const char* PlacementName(Placement p);

// Global exposure of an item (all users), from recorded impressions.
struct ItemExposure {
  int64_t impressions = 0;  // times shown
  int64_t engagements = 0;  // impressions followed by an event of that user on it
  bool is_new = false;      // created recently (the caller decides how recent)
};

// What re-ranking may know about items. Every member is optional.
struct ItemFacts {
  // Category ids by item; items past the end have none.
  const std::vector<std::vector<uint32_t>>* categories = nullptr;
  uint32_t num_categories = 0;
  // long_tail[item]: outside the short head (eval::ShortHead); missing = head.
  const std::vector<bool>* long_tail = nullptr;
  // Distinct users per item (training data); missing = 0. Diversity
  // penalises popular items a little (coverage-aware MMR).
  const std::vector<float>* popularity = nullptr;
  // Unit-length vector of an item in the diversity space, or null (then
  // similarity falls back to categories).
  std::function<const std::vector<float>*(uint32_t)> vector;
  // Exposure counts for exploration; null = nothing recorded.
  std::function<ItemExposure(uint32_t)> exposure;
  // Cold items (engine/rerank/cold_items.h): items no recommender ranks
  // (no training interaction, or created recently) that exploration may
  // show although they are not in the pool. The caller has applied the
  // request's filter and exclusions; items also in the pool are ignored.
  // Exploration weighs each as relevant as the pool's last rank would be.
  // Empty = exploration draws from the pool only.
  std::span<const uint32_t> cold;
};

// What re-ranking knows about the person.
struct UserFacts {
  // Category distribution of the history (size num_categories); empty when
  // unknown (calibration then does nothing).
  std::vector<double> history_mix;
  // The user's most recent distinct consumed items, newest first
  // (RecentDistinct; CareOptions::calibration_recent_items of them):
  // calibration counts them with the list. Empty = the list alone.
  std::vector<uint32_t> recent_items;
  // Position-weighted share of this user's past impressions that went to
  // long-tail items, or < 0 when nothing was recorded.
  double past_long_tail_share = -1;
};

// Business rules in internal ids (recdb::BusinessRules, resolved).
struct Rules {
  std::vector<uint32_t> pin;
  std::unordered_map<uint32_t, double> boost;
  std::unordered_set<uint32_t> bury;
};

struct Placed {
  uint32_t item = 0;
  double score = 0;      // the fused score it came with
  Placement why = Placement::kRelevance;
  // The category that motivated a diversity/calibration placement (one of
  // the item's own categories), else kNoCategory.
  uint32_t category = kNoCategory;
  // Rank of the item in the pool by relevance after boosts (0 = best); an
  // item with relevance_rank >= k would not be listed without care.
  uint32_t relevance_rank = 0;
};

// The final k (or fewer, if the pool is smaller) items, best first. The
// pool must be ordered best first: relevance is 1/log2(pool rank + 2).
// Exploration slots may also hold `items.cold` items (their score is the
// pool's last score, their relevance_rank pool size + their index). Pinned
// items must be in the pool to be placed (the caller adds them). `seed`
// drives exploration; the same inputs and seed give the same list.
std::vector<Placed> Rerank(std::span<const Candidate> pool, size_t k, const CareOptions& care,
                           const Rules& rules, const ItemFacts& items, const UserFacts& user,
                           uint64_t seed);

// The last `n` distinct items of `history` (oldest first), newest first:
// UserFacts::recent_items, for serving and offline evaluation alike.
std::vector<uint32_t> RecentDistinct(std::span<const uint32_t> history, size_t n);

// True if any stage of `care` (other than rotation) changes a ranking.
bool AnyStageOn(const CareOptions& care);

// Checks every knob's range. Errors: InvalidArgument naming the knob.
Status ValidateCare(const CareOptions& care);

}  // namespace recdb::rerank
