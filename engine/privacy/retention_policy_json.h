// RetentionPolicy <-> JSON: the policy file `recdb retention` reads.
//
//   {"ttl_seconds_by_type": {"view": 2592000, "purchase": 63072000},
//    "max_events_per_user": 1000, "delete_inactive_users_after_days": 730,
//    "training_horizon_seconds": 31536000, "sweep_interval_seconds": 3600}
//
// Every field is optional; unknown fields are InvalidArgument (a typo must not
// silently keep data longer).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "recdb/privacy.h"
#include "recdb/status.h"

namespace recdb::privacy {

// Errors: InvalidArgument for malformed JSON, an unknown field, a value of
// the wrong type or a negative number.
StatusOr<RetentionPolicy> ParseRetentionPolicy(std::string_view json);

// The policy as JSON (indent 2), every field present.
std::string RetentionPolicyToJson(const RetentionPolicy& policy);

}  // namespace recdb::privacy
