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
// sequence number, disk bytes and the serving model (version, sequence, and
// the problem with the stored model, if any).
nlohmann::ordered_json StatsToJson(const DBStats& s);

nlohmann::ordered_json RecommendationsToJson(const RecommendResponse& r, bool explain);

// One line per item: rank, id, score, title (looked up by `title_of`) and,
// with explain, the explanation sentence.
std::string RecommendationsToText(const RecommendResponse& r, bool explain,
                                  const std::map<std::string, std::string>& titles);

// Parses "k=v" pairs (each --context flag value) into a map.
// Errors: InvalidArgument naming the bad pair.
StatusOr<std::map<std::string, std::string>> ParsePairs(const std::vector<std::string>& pairs,
                                                        const std::string& flag);

}  // namespace recdb::cli
