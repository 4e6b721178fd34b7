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
#include <string_view>
#include <vector>

#include "recdb/export.h"
#include "recdb/status.h"

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
  // The user had a record: always true for a user ForgetUser found, whether
  // UpsertUsers wrote it or their first event created it (get, dump and
  // stats show both). `user_auto_created` tells the two apart.
  bool had_user_record = false;
  bool user_auto_created = false;  // created by an event, never upserted
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

  // Anonymise events older than this many days: the sweep deletes them from
  // their user's range (history, export and training no longer see them, and
  // the user's key prefix leaves them) but keeps them in the per-item counts
  // (GetItemCounts, item_stats), which hold no user. Read-time: such events
  // are hidden at once, before the sweep runs. 0 = never. An event past its
  // type's TTL as well is expired instead (its counts are subtracted).
  int64_t anonymize_after_days = 0;

  // Run the sweep in the background this often; 0 = only on
  // DB::SweepRetention (and ForgetOptions::wait_for_physical_erasure).
  int64_t sweep_interval_seconds = 0;

  bool empty() const {
    return ttl_seconds_by_type.empty() && max_events_per_user == 0 &&
           delete_inactive_users_after_days == 0 && training_horizon_seconds == 0 &&
           anonymize_after_days == 0;
  }
};

// What one retention sweep did.
struct SweepReport {
  int64_t expired_events_removed = 0;  // past their type's TTL
  int64_t excess_events_removed = 0;   // beyond max_events_per_user
  int64_t inactive_users_forgotten = 0;
  int64_t events_anonymized = 0;       // past anonymize_after_days: unlinked, still counted
  int64_t ranges_compacted = 0;        // key ranges rewritten to drop deleted bytes
  bool full_compaction = false;        // the whole events family was compacted
  double seconds = 0.0;
};

// Pseudonymous user ids (engine/privacy/README.md). With keys set, recdb
// stores every user id as its pseudonym: lower-case hex of HMAC-SHA256 under
// the keys, applied in order (x = hex(HMAC(key_1, id)), then
// x = hex(HMAC(key_2, x)), ...), so no file in the directory holds a raw user
// id. Calls that take a user id take the raw id and hash it first; what they
// return names the user as the caller gave it (GetUser, GetUserHistory,
// ExportUser, receipts). Listings that have no caller-given id (ForEachUser,
// ForEachEvent, recdb dump) show pseudonyms. DB::RotatePseudonymKeys appends
// a key (re-hashing every stored id), so a leaked older key alone no longer
// links the files to raw ids.
struct PseudonymOptions {
  // The key chain, oldest first; each key at least 16 bytes (raw bytes).
  // Default: empty (user ids stored as given).
  std::vector<std::string> keys;
  // A file holding the key chain instead: one key per line as hex (at least
  // 32 hex digits), oldest first; blank lines and lines starting with '#'
  // are skipped. Used when `keys` is empty. `recdb privacy new-key` prints a
  // fresh key. Default: "" (none).
  std::string key_file;

  bool enabled() const { return !keys.empty() || !key_file.empty(); }
};

// The default k-anonymity threshold of co-occurrence
// (AggregatePrivacyOptions::min_pair_users): a pair of items co-consumed by
// fewer than this many distinct users is never used.
inline constexpr uint32_t kDefaultMinPairUsers = 3;

// Privacy of the aggregates recdb exposes.
struct AggregatePrivacyOptions {
  // Laplace noise on the per-item counts DB::GetItemCounts returns: each
  // count gets noise of scale 1 / popularity_epsilon (one event changes one
  // count by 1: sensitivity 1), rounded to an integer. The noise of a count
  // is a deterministic function of (noise_seed, item, type, day), so asking
  // again returns the same value (averaging repeated queries gains nothing).
  // 0 = exact counts. Default: 0. Fixed at Open. Cost: one hash per count.
  double popularity_epsilon = 0.0;
  // Seed of that noise; 0 = a random seed drawn at Open (so noise differs
  // between opens). Tests fix it. Default: 0.
  uint64_t noise_seed = 0;
  // k-anonymity of co-occurrence: a pair of items co-consumed by fewer than
  // this many distinct users gets no weight in the co-occurrence components,
  // so it never scores a recommendation through them and never appears as
  // "because you ..." evidence (other models are not thresholded). 1 turns
  // the protection off (a pair one user made is used); 2 still lets a pair
  // reveal what two people did. Must be >= 1 (Open: InvalidArgument).
  // Default: kDefaultMinPairUsers (3). Fixed at Open; used by every
  // DB::Train (and the retrains it schedules) and DB::Evaluate. Cost on
  // ml-100k (engine/privacy/README.md) of 3 against 2: NDCG@10 -0.5%
  // (co-occurrence), -1.3% (fused); a larger k drops more pairs.
  uint32_t min_pair_users = kDefaultMinPairUsers;
};

// One entry of the privacy audit log (DB::ReadAuditLog): which privacy
// operation ran, when, and how much it touched. Holds no personal data: the
// subject is a keyed hash (HMAC-SHA256 under the forget-ledger key of the id
// as stored, i.e. of the pseudonym when pseudonyms are on), never an id.
struct AuditEntry {
  uint64_t sequence = 0;  // 1, 2, ... in the order the operations committed
  int64_t timestamp = 0;  // seconds since epoch (the database's clock)
  // "forget", "unforget", "export", "consent", "retention_sweep",
  // "rotate_key".
  std::string operation;
  std::string subject;  // hex keyed hash of the user, or "" (no single user)
  // Counts describing the operation, e.g. {"events", 42}; for "consent" the
  // new flags {"personalization", 0/1}, ...
  std::map<std::string, int64_t> counts;
};

// --- Key files and retention-policy JSON -------------------------------------
// What the `recdb privacy` and `recdb retention` commands need besides DB:
// public so that tools built on librecdb do not reach into engine/privacy/.

// A fresh random pseudonym key as one line of a key file: 64 lower-case hex
// digits (32 bytes from the OS random source). Errors: Internal when the
// random source fails.
RECDB_EXPORT StatusOr<std::string> NewPseudonymKey();

// Reads a pseudonym key file (one hex key per line, oldest first, '#'
// comments), the chain PseudonymOptions::key_file names, as Open reads it.
// Errors: NotFound; InvalidArgument for a malformed or too short key.
RECDB_EXPORT StatusOr<std::vector<std::string>> ReadPseudonymKeyFile(const std::string& path);

// The "retention" object of an options file (recdb/options_file.h) to and
// from a RetentionPolicy. Unknown keys and negative values are
// InvalidArgument.
RECDB_EXPORT StatusOr<RetentionPolicy> ParseRetentionPolicyJson(std::string_view json);
RECDB_EXPORT std::string RetentionPolicyToJson(const RetentionPolicy& policy);

}  // namespace recdb
