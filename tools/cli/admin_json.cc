#include "tools/cli/admin_json.h"

namespace recdb::cli {

using ojson = nlohmann::ordered_json;

ojson SnapshotToJson(const SnapshotInfo& s) {
  ojson j = {{"id", s.id},
             {"name", s.name},
             {"path", s.path},
             {"sequence_number", s.sequence_number},
             {"format_version", s.format_version},
             {"created_unix_micros", s.created_unix_micros},
             {"files", s.files},
             {"bytes", s.bytes},
             {"unique_bytes", s.unique_bytes}};
  if (!s.problem.empty()) j["problem"] = s.problem;
  if (s.seconds > 0) j["seconds"] = s.seconds;
  return j;
}

ojson VerifyReportToJson(const VerifyReport& r) {
  ojson problems = ojson::array();
  for (const auto& p : r.problems) {
    problems.push_back({{"snapshot", p.snapshot}, {"file", p.file}, {"message", p.message}});
  }
  return {{"ok", r.ok() && r.snapshots > 0},
          {"snapshots", r.snapshots},
          {"files", r.files},
          {"bytes_read", r.bytes_read},
          {"problems", std::move(problems)}};
}

ojson SpaceToJson(const SpaceInfo& info) {
  const SpaceOptions& o = info.options;
  return {{"name", o.name},
          {"dimension", o.dimension},
          {"metric", MetricName(o.metric)},
          {"model", o.model_name},
          {"model_version", o.model_version},
          {"hnsw_m", o.hnsw_m},
          {"hnsw_ef_construction", o.hnsw_ef_construction},
          {"hnsw_ef_search", o.hnsw_ef_search},
          {"item_vectors", info.item_vectors},
          {"user_vectors", info.user_vectors},
          {"checkpoint_sequence", info.checkpoint_sequence}};
}

ojson AuditEntryToJson(const AuditEntry& e) {
  return {{"sequence", e.sequence},
          {"timestamp", e.timestamp},
          {"operation", e.operation},
          {"subject", e.subject},
          {"counts", e.counts}};
}

ojson ErasureReceiptToJson(const ErasureReceipt& r) {
  return {{"user", r.user},
          {"had_user_record", r.had_user_record},
          {"user_auto_created", r.user_auto_created},
          {"events_removed", r.events_removed},
          {"vectors_removed", r.vectors_removed},
          {"impressions_removed", r.impressions_removed},
          {"counts_adjusted", r.counts_adjusted},
          {"bytes_estimate", r.bytes_estimate},
          {"timestamp", r.timestamp},
          {"ledger_hash", r.ledger_hash},
          {"physically_erased", r.physically_erased}};
}

}  // namespace recdb::cli
