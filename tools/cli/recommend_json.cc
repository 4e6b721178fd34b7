#include "tools/cli/recommend_json.h"

#include <cstdio>
#include <sstream>

namespace recdb::cli {

nlohmann::ordered_json StatsToJson(const DBStats& s) {
  return {{"users", s.users},
          {"items", s.items},
          {"events", s.events},
          {"event_types", s.event_types},
          {"disk_bytes", s.disk_bytes},
          {"sequence_number", s.sequence_number},
          {"model_version", s.model_version},
          {"model_sequence", s.model_sequence},
          {"model_problem", s.model_problem}};
}

nlohmann::ordered_json RecommendationsToJson(const RecommendResponse& r, bool explain) {
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& rec : r.items) {
    nlohmann::ordered_json j;
    j["id"] = rec.id;
    j["score"] = rec.score;
    nlohmann::ordered_json contributions = nlohmann::ordered_json::object();
    for (const auto& [name, c] : rec.contributions) contributions[name] = c;
    j["contributions"] = contributions;
    if (explain) {
      nlohmann::ordered_json evidence = nlohmann::ordered_json::array();
      for (const auto& e : rec.explanation.evidence) {
        nlohmann::ordered_json ej;
        ej["kind"] = e.kind;
        if (!e.recommender.empty()) ej["recommender"] = e.recommender;
        if (e.kind == "recommender") ej["share"] = e.share;
        if (!e.item.empty()) ej["item"] = e.item;
        if (!e.category.empty()) ej["category"] = e.category;
        ej["text"] = e.text;
        evidence.push_back(ej);
      }
      j["explanation"] = {{"sentence", rec.explanation.sentence}, {"evidence", evidence}};
    }
    items.push_back(j);
  }
  nlohmann::ordered_json out;
  out["items"] = items;
  out["model_version"] = r.model_version;
  return out;
}

std::string RecommendationsToText(const RecommendResponse& r, bool explain,
                                  const std::map<std::string, std::string>& titles) {
  std::ostringstream out;
  int rank = 1;
  for (const auto& rec : r.items) {
    char score[32];
    std::snprintf(score, sizeof(score), "%7.3f", rec.score);
    auto t = titles.find(rec.id);
    out << (rank < 10 ? " " : "") << rank << ". " << score << "  " << rec.id;
    ++rank;
    if (t != titles.end() && !t->second.empty() && t->second != rec.id) out << "  " << t->second;
    out << "\n";
    if (explain) out << "               " << rec.explanation.sentence << "\n";
  }
  return out.str();
}

StatusOr<std::map<std::string, std::string>> ParsePairs(const std::vector<std::string>& pairs,
                                                        const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& p : pairs) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--" + flag + " expects KEY=VALUE, got '" + p + "'");
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

}  // namespace recdb::cli
