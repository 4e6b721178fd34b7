#include "engine/privacy/retention_policy_json.h"

#include <nlohmann/json.hpp>

namespace recdb::privacy {
namespace {

Status ReadCount(const nlohmann::json& v, const std::string& field, int64_t* out) {
  if (!v.is_number_integer()) {
    return Status::InvalidArgument("retention policy: " + field + " must be an integer");
  }
  *out = v.get<int64_t>();
  if (*out < 0) return Status::InvalidArgument("retention policy: " + field + " is negative");
  return Status::OK();
}

}  // namespace

StatusOr<RetentionPolicy> ParseRetentionPolicy(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("retention policy: not a JSON object");
  }
  RetentionPolicy p;
  for (const auto& [key, v] : j.items()) {
    if (key == "ttl_seconds_by_type") {
      if (!v.is_object()) {
        return Status::InvalidArgument("retention policy: ttl_seconds_by_type must be an object");
      }
      for (const auto& [type, ttl] : v.items()) {
        int64_t seconds = 0;
        RECDB_RETURN_IF_ERROR(ReadCount(ttl, "ttl_seconds_by_type." + type, &seconds));
        p.ttl_seconds_by_type[type] = seconds;
      }
    } else if (key == "max_events_per_user") {
      RECDB_RETURN_IF_ERROR(ReadCount(v, key, &p.max_events_per_user));
    } else if (key == "delete_inactive_users_after_days") {
      RECDB_RETURN_IF_ERROR(ReadCount(v, key, &p.delete_inactive_users_after_days));
    } else if (key == "training_horizon_seconds") {
      RECDB_RETURN_IF_ERROR(ReadCount(v, key, &p.training_horizon_seconds));
    } else if (key == "anonymize_after_days") {
      RECDB_RETURN_IF_ERROR(ReadCount(v, key, &p.anonymize_after_days));
    } else if (key == "sweep_interval_seconds") {
      RECDB_RETURN_IF_ERROR(ReadCount(v, key, &p.sweep_interval_seconds));
    } else {
      return Status::InvalidArgument("retention policy: unknown field \"" + key + "\"");
    }
  }
  return p;
}

std::string RetentionPolicyToJson(const RetentionPolicy& p) {
  nlohmann::ordered_json j;
  j["ttl_seconds_by_type"] = nlohmann::ordered_json::object();
  for (const auto& [type, ttl] : p.ttl_seconds_by_type) j["ttl_seconds_by_type"][type] = ttl;
  j["max_events_per_user"] = p.max_events_per_user;
  j["delete_inactive_users_after_days"] = p.delete_inactive_users_after_days;
  j["training_horizon_seconds"] = p.training_horizon_seconds;
  j["anonymize_after_days"] = p.anonymize_after_days;
  j["sweep_interval_seconds"] = p.sweep_interval_seconds;
  return j.dump(2);
}

}  // namespace recdb::privacy
