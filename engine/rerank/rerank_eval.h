// RerankedEvaluation: the docs/DESIGN.md protocol for the fused list after the
// care stages, by the same rerank::Rerank that serves requests, so `recdb
// eval` measures exactly what users get. Each test user's fused pool is
// computed once; every CareOptions (a sweep point) then only re-ranks.
//
// Offline there are no impressions: every item counts as unexposed for
// exploration, and fair exposure has no past deficit to repay.
//
// Thread-safety: Evaluate is const and runs `threads` threads itself.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/eval/evaluator.h"
#include "engine/eval/split.h"
#include "engine/models/fused.h"
#include "engine/rerank/care_facts.h"
#include "engine/rerank/rerank.h"

namespace recdb::rerank {

class RerankedEvaluation {
 public:
  // `fused` must be fitted on split.train; both must outlive this object.
  // Pools hold max(ndcg_k, recall_k, list_k) * max_factor candidates.
  RerankedEvaluation(const models::Fused& fused, const eval::TemporalSplit& split,
                     const eval::EvalOptions& options = {}, size_t max_factor = 10);

  // Metrics of the re-ranked lists (care.candidate_factor is capped at
  // max_factor). Lists of length list_k / ndcg_k are re-ranked at that k;
  // Recall@recall_k uses a list re-ranked at recall_k.
  eval::EvalReport Evaluate(const CareOptions& care) const;

 private:
  const eval::TemporalSplit& split_;
  eval::EvalOptions options_;
  size_t max_factor_;
  CareFacts facts_;
  std::vector<std::vector<Candidate>> pools_;      // by test user index
  std::vector<std::vector<double>> history_mix_;   // by test user index
  // The last kMaxRecentItems distinct training items, newest first
  // (CareOptions::calibration_recent_items takes a prefix).
  static constexpr size_t kMaxRecentItems = 1000;
  std::vector<std::vector<uint32_t>> recent_;      // by test user index
};

}  // namespace recdb::rerank
