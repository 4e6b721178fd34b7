// PrivacyState: what DBImpl keeps for privacy work (engine/db_impl/db_impl_privacy.cc):
// the forget ledger, the compiled retention rules, and the erasures not yet
// made physical by a sweep.
//
// Thread-safety: ledger and rules as documented on their types; the pending
// erasure list is GUARDED_BY(pending_mu); sweeps are serialised by sweep_mu.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/privacy/audit_log.h"
#include "engine/privacy/forget_ledger.h"
#include "engine/privacy/pseudonyms.h"
#include "storage/retention_filter.h"

namespace recdb::privacy {

struct PrivacyState {
  std::unique_ptr<ForgetLedger> ledger;
  std::unique_ptr<AuditLog> audit;
  // The pseudonym key chain (Options::pseudonyms). Changed only by a key
  // rotation, with DBImpl's write_mu_ held and state_mu_ exclusive, so it is
  // read under either.
  PseudonymChain pseudonyms;
  // Laplace noise on GetItemCounts (epsilon <= 0: none).
  double popularity_epsilon = 0.0;
  uint64_t noise_seed = 0;
  // RetentionPolicy::anonymize_after_days in seconds (0: never).
  int64_t anonymize_after_seconds = 0;
  // Retention rules in type ids (also installed in the compaction filter).
  std::shared_ptr<const storage::EventExpiryRules> rules;
  int64_t training_horizon_seconds = 0;
  bool trims_users = false;  // max_events_per_user or inactive-user deletion set

  std::mutex sweep_mu;  // one sweep at a time
  uint64_t sweep_job = 0;

  std::mutex pending_mu;
  // User iids forgotten since the last sweep, whose key ranges it compacts.
  std::vector<uint32_t> pending_users;  // GUARDED_BY(pending_mu)
  // Vectors were deleted: the sweep checkpoints the spaces.
  bool pending_vectors = false;  // GUARDED_BY(pending_mu)
  // Deletions whose ranges are unknown (forgotten before a restart): the
  // sweep compacts whole families. Persisted as meta "privacy/unswept".
  bool pending_unknown = false;  // GUARDED_BY(pending_mu)
};

inline constexpr std::string_view kMetaUnswept = "privacy/unswept";
inline constexpr std::string_view kMetaLastSweep = "privacy/last_sweep";

}  // namespace recdb::privacy
