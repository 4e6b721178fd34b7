// JSON and text renderings of recommendation results, shared by the
// recommend, similar and demo commands (and, later, the HTTP service).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recdb/records.h"
#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb::cli {

// {"items": [{"id", "score", "contributions": {...}[, "explanation": {...}]}],
//  "model_version": N}
// The stats document of `recdb stats --json` and GET /v1/stats: counts,
// sequence number, disk bytes, the serving model (version, sequence, and
// the problem with the stored model, if any), the retention policy in force
// ("retention", as RetentionPolicyToJson) and "last_retention_sweep"
// (seconds since epoch, 0 = never).
nlohmann::ordered_json StatsToJson(const DBStats& s);

// GET /v1/model (DB::GetModelReport): {"model_version", "trained_at",
// "seconds", "seconds_by_recommender", "weights", "validation_ndcg",
// "events"}; model_version 0 when no model serves.
nlohmann::ordered_json TrainReportToJson(const TrainReport& r);

nlohmann::ordered_json RecommendationsToJson(const RecommendResponse& r, bool explain);

// {"ndcg@10", "recall@20", "coverage@10", "ild@10", "novelty@10", "gini@10",
//  "calibration_kl@10", "long_tail_share@10"}: one recommender's metrics in
// `recdb eval --json` and GET /v1/eval.
nlohmann::ordered_json EvalMetricsToJson(const EvalMetrics& m);

// The document of `recdb eval --json` ({"users", "items", "test_users",
// "recommenders": {NAME: {metrics..., "train_s"}}, "fused_weights"}), plus,
// for a sweep, "sweep_knob" and "sweep": [{"value", metrics...}] in order.
nlohmann::ordered_json EvaluationToJson(const EvaluationReport& r);

// One line per item: rank, id, score, title (looked up by `title_of`) and,
// with explain, the explanation sentence.
std::string RecommendationsToText(const RecommendResponse& r, bool explain,
                                  const std::map<std::string, std::string>& titles);

// Parses "k=v" pairs (each --context flag value) into a map.
// Errors: InvalidArgument naming the bad pair.
StatusOr<std::map<std::string, std::string>> ParsePairs(const std::vector<std::string>& pairs,
                                                        const std::string& flag);

}  // namespace recdb::cli
