// Evaluator: runs the docs/DESIGN.md protocol for one fitted Recommender over a
// TemporalSplit. For every test user the query is the user's training timeline
// (oldest first, with timestamps); the ranking covers all items except the
// user's training items; equal scores rank by ascending item rank.
//
// Thread-safety: Evaluate is reentrant; it calls the model's const Score from
// `threads` threads at once.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/eval/split.h"
#include "engine/models/recommender.h"

namespace recdb::eval {

struct EvalOptions {
  size_t ndcg_k = 10;       // Default: 10
  size_t recall_k = 20;     // Default: 20
  size_t list_k = 10;       // list length for coverage and beyond-accuracy metrics. Default: 10
  int threads = 2;          // Default: 2
  double calibration_alpha = 0.01;  // Default: 0.01 (Steck 2018)
  double short_head_share = 0.2;    // Default: 0.2 of the interactions
  bool keep_per_user = false;       // fill EvalReport::per_user_ndcg
};

struct EvalReport {
  size_t users = 0;           // test users evaluated
  double ndcg = 0;            // mean NDCG@ndcg_k
  double recall = 0;          // mean Recall@recall_k
  double coverage = 0;        // distinct items in all top-list_k lists / num_items
  double ild = 0;             // mean intra-list diversity (Jaccard distance over categories)
  double novelty = 0;         // mean self-information, bits
  double gini = 0;            // Gini of top-list_k exposure over the catalogue
  double calibration_kl = 0;  // mean KL(history genres || list genres), nats
  double long_tail_share = 0; // fraction of listed items outside the short head
  std::vector<double> per_user_ndcg;  // aligned with split.test_users when requested
};

// One test user's figures. AggregateUserMetrics is the one place that
// averages them and measures exposure (coverage, Gini) into a report:
// Evaluate and rerank's RerankEvaluator both use it.
struct UserMetrics {
  double ndcg = 0, recall = 0, ild = 0, novelty = 0, kl = 0, long_tail = 0;
  std::vector<uint32_t> list;  // the user's top list_k
};
EvalReport AggregateUserMetrics(const std::vector<UserMetrics>& users, uint32_t n_items,
                                bool keep_per_user_ndcg);

EvalReport Evaluate(const models::Recommender& model, const TemporalSplit& split,
                    const EvalOptions& options = {});

}  // namespace recdb::eval
