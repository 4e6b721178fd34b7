#include "tools/cli/recommend_json.h"

#include <cstdio>
#include <sstream>

namespace recdb::cli {

nlohmann::ordered_json StatsToJson(const DBStats& s) {
  nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
  for (const BackgroundJobStats& j : s.background_jobs) {
    jobs.push_back({{"name", j.name},
                    {"runs", j.runs},
                    {"failures", j.failures},
                    {"last_run_failed", j.last_run_failed},
                    {"last_error", j.last_error}});
  }
  return {{"users", s.users},
          {"items", s.items},
          {"events", s.events},
          {"event_types", s.event_types},
          {"disk_bytes", s.disk_bytes},
          {"sequence_number", s.sequence_number},
          {"model_version", s.model_version},
          {"model_sequence", s.model_sequence},
          {"model_problem", s.model_problem},
          {"retention", nlohmann::ordered_json::parse(RetentionPolicyToJson(s.retention))},
          {"last_retention_sweep", s.last_retention_sweep},
          {"background_jobs", jobs}};
}

nlohmann::ordered_json TrainReportToJson(const TrainReport& r) {
  nlohmann::ordered_json seconds = nlohmann::ordered_json::object();
  for (const auto& [name, sec] : r.seconds_by_recommender) seconds[name] = sec;
  nlohmann::ordered_json weights = nlohmann::ordered_json::object();
  for (const auto& [name, w] : r.weights) weights[name] = w;
  nlohmann::ordered_json out = {{"model_version", r.model_version},
                                {"trained_at", r.trained_at},
                                {"seconds", r.seconds},
                                {"seconds_by_recommender", seconds},
                                {"weights", weights},
                                {"validation_ndcg", r.validation_ndcg},
                                {"events", r.events}};
  if (r.learned_policy.trained) {  // engine/policy/README.md
    nlohmann::ordered_json theta = nlohmann::ordered_json::object();
    for (const auto& [name, w] : r.learned_policy.weights) theta[name] = w;
    out["learned_policy"] = {{"impressions", r.learned_policy.impressions},
                             {"slots", r.learned_policy.slots},
                             {"rewarded_slots", r.learned_policy.rewarded_slots},
                             {"slots_outside_pool", r.learned_policy.slots_outside_pool},
                             {"weights", theta}};
  }
  return out;
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
    if (r.policy != "fused") j["propensity"] = rec.propensity;  // for RecordImpressions
    if (explain) {
      nlohmann::ordered_json evidence = nlohmann::ordered_json::array();
      for (const auto& e : rec.explanation.evidence) {
        nlohmann::ordered_json ej;
        ej["kind"] = e.kind;
        if (!e.recommender.empty()) ej["recommender"] = e.recommender;
        if (e.kind == "recommender" || e.kind == "learned_policy") ej["share"] = e.share;
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
  // Only when a policy was asked for (RecommendRequest::policy): the fused
  // default's JSON is unchanged.
  if (r.policy != "fused" || !r.policy_note.empty()) {
    out["policy"] = r.policy;
    if (!r.policy_note.empty()) out["policy_note"] = r.policy_note;
  }
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
    if (r.policy != "fused") {
      char p[48];
      std::snprintf(p, sizeof(p), "  (propensity %.4g)", rec.propensity);
      out << p;
    }
    out << "\n";
    if (explain) out << "               " << rec.explanation.sentence << "\n";
  }
  if (!r.policy_note.empty()) out << "policy: " << r.policy << " (" << r.policy_note << ")\n";
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

nlohmann::ordered_json EvalMetricsToJson(const EvalMetrics& m) {
  return {{"ndcg@10", m.ndcg_at_10},
          {"recall@20", m.recall_at_20},
          {"coverage@10", m.coverage_at_10},
          {"ild@10", m.ild_at_10},
          {"novelty@10", m.novelty_at_10},
          {"gini@10", m.gini_at_10},
          {"calibration_kl@10", m.calibration_kl_at_10},
          {"long_tail_share@10", m.long_tail_share_at_10}};
}

nlohmann::ordered_json EvaluationToJson(const EvaluationReport& r) {
  nlohmann::ordered_json j;
  j["users"] = r.users;
  j["items"] = r.items;
  j["test_users"] = r.test_users;
  nlohmann::ordered_json recs = nlohmann::ordered_json::object();
  for (const auto& [name, m] : r.recommenders) {
    recs[name] = EvalMetricsToJson(m);
    recs[name]["train_s"] = m.train_seconds;
  }
  j["recommenders"] = recs;
  j["fused_weights"] = r.fused_weights;
  if (!r.sweep_knob.empty()) {
    j["sweep_knob"] = r.sweep_knob;
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (const auto& p : r.sweep) {
      nlohmann::ordered_json point = {{"value", p.value}};
      const nlohmann::ordered_json metrics = EvalMetricsToJson(p.metrics);
      for (auto it = metrics.begin(); it != metrics.end(); ++it) point[it.key()] = it.value();
      points.push_back(point);
    }
    j["sweep"] = points;
  }
  return j;
}

}  // namespace recdb::cli
