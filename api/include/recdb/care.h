// Care: what recdb does to a ranked list after fusion so that it serves the
// person and not only the next click (engine/rerank/README.md).
//
// Each stage has one knob. Options::care holds the database's defaults;
// RecommendRequest::care, when set, replaces them for one request. Every
// knob at 0 (the default) leaves the fused ranking untouched, except for
// impression rotation, which only acts once impressions are recorded
// (DB::RecordImpressions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace recdb {

struct CareOptions {
  // Diversity: coverage-aware maximal marginal relevance (Carbonell &
  // Goldstein 1998). Each slot takes the candidate maximising
  //   (1 - diversity) * relevance - diversity * (mean similarity to the items
  //   already chosen + 0.3 * log-popularity / log-max-popularity)
  // (relevance = the fused score z-normalised over the pool, 0 for the best;
  // similarity = Jaccard over categories, or cosine in `diversity_space`
  // when set); the chosen set is then listed in fused order. The mean, not
  // MMR's max, is what intra-list diversity averages; the popularity term
  // spreads lists over the catalogue. Useful range on ml-100k: 0.8-0.9
  // (0.9: intra-list diversity +16%, coverage@10 0.40, NDCG@10 -4.7% at
  // candidate_factor 10; engine/rerank/README.md). In [0, 1]. Default: 0.
  double diversity = 0;
  // Embedding space whose item vectors define similarity for diversity;
  // empty = categories. Items without a vector fall back to categories.
  std::string diversity_space;

  // Calibration (Steck 2018): the list's category mix follows the user's
  // history mix; greedy on (1 - calibration) * relevance - calibration *
  // KL(history || list). In [0, 1]. Default: 0 (off).
  double calibration = 0;
  // Calibration against the filter bubble: the user's last
  // calibration_recent_items distinct consumed items count with the list, so
  // the greedy minimises KL(history || recent items + list): the list fills
  // in what recent consumption lacks relative to the whole history, and
  // shows less of what the user just consumed a lot of. Without it (0) each
  // list is calibrated on its own, and a user whose consumption narrows is
  // shown the same history mix, which narrows it further (sim/README.md
  // "The care bar"). Acts only with calibration > 0. In [0, 1000].
  // Default: 0 (off).
  size_t calibration_recent_items = 0;

  // Fair exposure: the minimum share of slots given to long-tail items
  // (outside the items holding the top 20% of interactions). Amortised: a
  // user whose recorded impressions gave the long tail less than this share
  // of position-weighted exposure gets up to twice as many slots until the
  // deficit is repaid. In [0, 1]. Default: 0 (off).
  double fair_share = 0;

  // Exploration: the share of slots (rounded up) given to new or under-exposed items from
  // the user's candidate pool or to cold items outside it (no training interaction, or created
  // in the last 14 days; engine/rerank/README.md), chosen by Thompson sampling on impressions
  // vs engagements, deterministic under exploration_seed. In [0, 1]. Default: 0 (off).
  double exploration = 0;
  uint64_t exploration_seed = 0;
  // An item counts as under-exposed while shown fewer than this many times
  // in all. Default: 20.
  int64_t exploration_max_impressions = 20;

  // Impression rotation: an item shown to the user at least
  // rotate_after_impressions times within the last rotate_period_seconds,
  // with no event of that user on it since the first of those impressions,
  // is left out; it comes back once the impressions age past the period.
  // 0 = off. Default: 3 impressions, 7 days.
  int rotate_after_impressions = 3;
  int64_t rotate_period_seconds = 7 * 86400;

  // The re-ranked pool: the fused top (candidate_factor * k) items.
  // Default: 10. Cost: the fusion step ranks that many items, and diversity
  // compares each with the list (O(k^2 * factor) similarities).
  size_t candidate_factor = 10;
};

// Business rules, applied per request after the care stages.
struct BusinessRules {
  // Placed first, in this order, if they pass the request's filter (and are
  // not the user's seen items when exclude_seen); unknown ids are skipped.
  std::vector<std::string> pin;
  // Item id -> added to its relevance (1/log2(fused rank + 2), 1 for the
  // best) before re-ranking; negative values demote; in [-kMaxFusionWeight,
  // kMaxFusionWeight] (recdb/recommend.h), else InvalidArgument. A boost
  // re-orders the candidate pool (the k * CareOptions::candidate_factor most
  // relevant items that pass the filter): an item outside the pool is not
  // added by its boost (pin it for that). The returned score is the fused
  // relevance, without the boost; the explanation lists "boosted".
  std::map<std::string, double> boost;
  // Moved after every other candidate (still listed if k requires).
  std::vector<std::string> bury;
};

}  // namespace recdb
