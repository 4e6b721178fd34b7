// Privacy vocabulary: forgetting a user (right to erasure), the receipt it
// returns, and retention policies (how long events are kept).
//
// Bounds (engine/privacy/README.md states them in full):
//  - DB::ForgetUser removes the user's record, id mapping, every stored event
//    and their vectors, and subtracts their events from the per-item counts,
//    in one atomic write: from its return no read, count or training run sees
//    them. The serving model keeps the user's contribution until the retrain
//    it schedules finishes (ForgetOptions::retrain makes that synchronous).
//  - Their bytes leave every file in the database directory (SST, WAL,
//    MANIFEST, index checkpoints) at the next retention sweep: at once with
//    ForgetOptions::wait_for_physical_erasure, by DB::SweepRetention, or by
//    the scheduled sweep (RetentionPolicy::sweep_interval_seconds).
//
// Plain values; no thread-safety concerns.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace recdb {

struct ForgetOptions {
  // Run the physical-erasure sweep (DB::SweepRetention) before returning, so
  // that on success no file of the database holds the user's data.
  // Default: false. Cost: flushes every memtable and compacts the affected
  // key ranges (tens of milliseconds on a small database, more on a big one).
  bool wait_for_physical_erasure = false;

  // Retrain the recommenders before returning, so the serving model no
  // longer carries the user's contribution when ForgetUser returns. If false
  // (or that training fails, e.g. no events are left) and a model is loaded,
  // a retrain is posted to the background scheduler.
  // Default: false. Cost: one training run.
  bool retrain = false;
};

// What ForgetUser removed. Holds no data about the user beyond the id the
// caller passed in and the ledger hash.
struct ErasureReceipt {
  std::string user;              // the external id passed to ForgetUser
  bool had_user_record = false;  // an explicit user record (not auto-created)
  int64_t events_removed = 0;    // stored events deleted
  int64_t vectors_removed = 0;   // vectors deleted, over every embedding space
  int64_t impressions_removed = 0;
  int64_t counts_adjusted = 0;   // per-item (item, type, day) counters decremented
  int64_t bytes_estimate = 0;    // key + value bytes of what was deleted
  int64_t timestamp = 0;         // seconds since epoch when it was forgotten
  // Hex HMAC-SHA256 of the id under the database's ledger key: the entry the
  // forget ledger keeps (no raw id is kept).
  std::string ledger_hash;
  bool physically_erased = false;  // the sweep ran before ForgetUser returned
  bool model_retrained = false;    // the model was retrained before returning
  bool retrain_scheduled = false;  // a background retrain was posted
};

// How long data is kept. Enforced by a compaction filter on the events
// (expired events are dropped when RocksDB rewrites their files), by reads
// (expired events are invisible at once to history, training and export) and
// by the retention sweep, which makes deletion physical and adjusts counts.
struct RetentionPolicy {
  // Event type name -> time to live in seconds (events older than now - ttl
  // expire). Types not listed, and ttl <= 0, never expire.
  std::map<std::string, int64_t> ttl_seconds_by_type;

  // Keep at most this many events per user (the newest); 0 = unlimited.
  // Enforced by the sweep.
  int64_t max_events_per_user = 0;

  // Forget (as DB::ForgetUser) users whose newest event is older than this
  // many days; 0 = never. Enforced by the sweep.
  int64_t delete_inactive_users_after_days = 0;

  // Training uses only events newer than now - this many seconds; 0 = all.
  int64_t training_horizon_seconds = 0;

  // Run the sweep in the background this often; 0 = only on
  // DB::SweepRetention (and ForgetOptions::wait_for_physical_erasure).
  int64_t sweep_interval_seconds = 0;

  bool empty() const {
    return ttl_seconds_by_type.empty() && max_events_per_user == 0 &&
           delete_inactive_users_after_days == 0 && training_horizon_seconds == 0;
  }
};

// What one retention sweep did.
struct SweepReport {
  int64_t expired_events_removed = 0;  // past their type's TTL
  int64_t excess_events_removed = 0;   // beyond max_events_per_user
  int64_t inactive_users_forgotten = 0;
  int64_t ranges_compacted = 0;        // key ranges rewritten to drop deleted bytes
  bool full_compaction = false;        // the whole events family was compacted
  double seconds = 0.0;
};

}  // namespace recdb
