// The records recdb stores: items, users, events, event types, and the
// aggregates read back from them. Plain value types; no behaviour beyond
// construction and comparison.
//
// Identifiers: every item and user has an external id chosen by the
// application (a non-empty UTF-8 string of at most kMaxIdBytes bytes). recdb
// maps them to dense internal ids that never leave the library.
//
// Time: timestamps are seconds since the Unix epoch (UTC), in
// [kMinTimestamp, kMaxTimestamp].
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "recdb/privacy.h"

namespace recdb {

// Documented hard limits. Every write that exceeds one is rejected with
// InvalidArgument naming the field and the limit; nothing of the batch is
// stored.
inline constexpr size_t kMaxIdBytes = 256;              // item / user / event-type ids
inline constexpr size_t kMaxTextBytes = 64 * 1024;      // title, description
inline constexpr size_t kMaxAttributeKeyBytes = 128;
inline constexpr size_t kMaxAttributeValueBytes = 4096; // one string (or list element)
inline constexpr size_t kMaxAttributes = 128;           // attributes per record
inline constexpr size_t kMaxListElements = 256;         // string-list attribute length
inline constexpr size_t kMaxCategories = 64;            // categories per item
inline constexpr size_t kMaxContextEntries = 32;        // context key/values per event
inline constexpr size_t kMaxBatchSize = 100000;         // records per write call
inline constexpr int64_t kMinTimestamp = 0;             // 1970-01-01
inline constexpr int64_t kMaxTimestamp = 253402300799;  // 9999-12-31T23:59:59Z
// An item may be older than 1970 (a film from 1920): Item::created_at may be
// negative, down to 0001-01-01T00:00:00Z. Event times stay >= kMinTimestamp.
inline constexpr int64_t kMinCreatedAt = -62135596800;
inline constexpr size_t kMaxEventTypes = 1000;

// A typed attribute value: string, number (double, finite), bool or list of strings.
using AttributeValue = std::variant<std::string, double, bool, std::vector<std::string>>;
using Attributes = std::map<std::string, AttributeValue>;

struct Item {
  std::string id;                       // external id, required
  std::string title;                    // text an embedding model reads
  std::string description;              // text an embedding model reads
  std::vector<std::string> categories;  // e.g. genres; order kept
  std::string creator;                  // creator / provider, may be empty
  int64_t created_at = 0;               // seconds since epoch (>= kMinCreatedAt); 0 = unknown
  bool available = true;                // false: kept, but never recommended
  Attributes attributes;

  friend bool operator==(const Item&, const Item&) = default;
};

// What the user allowed recdb to do with their data. Defaults: everything on.
struct Consent {
  bool personalization = true;  // personalised results and profiles
  bool store_events = true;     // events are stored with a link to the user
  bool training = true;         // the user's events may train models

  friend bool operator==(const Consent&, const Consent&) = default;
};

struct User {
  std::string id;  // external id, required
  Attributes attributes;
  Consent consent;

  friend bool operator==(const User&, const User&) = default;
};

struct Event {
  std::string user;           // external user id, required
  std::string item;           // external item id, required
  std::string type = "view";  // a registered event type
  double value = 0.0;         // optional payload, e.g. a rating; must be finite
  bool has_value = false;     // whether `value` was given
  int64_t timestamp = 0;      // seconds since epoch
  std::map<std::string, std::string> context;  // device, session, location, ...

  friend bool operator==(const Event&, const Event&) = default;
};

// What one RecordEvents call did with its events; each event is counted in
// exactly one field, so the three add up to the batch size.
struct RecordEventsResult {
  int64_t stored = 0;             // appended to the user's history
  int64_t counted_only = 0;       // consent store_events is off: per-item counts only
  int64_t dropped_forgotten = 0;  // the user is in the forget ledger: dropped
};

// An event type and the weight models give it (purchase 5, view 1, dislike -1).
struct EventType {
  std::string name;
  double weight = 1.0;  // finite; negative means a negative signal

  friend bool operator==(const EventType&, const EventType&) = default;
};

// Per-item interaction counts, by event type.
struct ItemCounts {
  std::string item;
  std::map<std::string, int64_t> by_type;  // all time
  // Per day (UTC day number = timestamp / 86400) and type.
  std::map<int64_t, std::map<std::string, int64_t>> by_day;
  int64_t total = 0;
};

// One kind of background work of an open database (retraining, retention
// sweeps, index checkpoints and rebuilds), as run by its scheduler since Open.
struct BackgroundJobStats {
  std::string name;  // "retrain", "retention-sweep", "retrain-after-forget", "space-checkpoint", ...
  uint64_t runs = 0;
  uint64_t failures = 0;         // runs that returned an error
  bool last_run_failed = false;  // the latest run returned an error
  std::string last_error;        // the latest failed run's status ("" = none since Open)
};

struct DBStats {
  int64_t users = 0;
  int64_t items = 0;
  int64_t events = 0;
  int64_t event_types = 0;
  uint64_t sequence_number = 0;  // RocksDB's latest sequence number
  uint64_t disk_bytes = 0;       // live SST + WAL bytes
  // The model Recommend serves: its version (0 = none yet: Train first) and
  // the sequence number its training read at (events after it are used at
  // serving time from the user's history, not by the fitted components).
  uint64_t model_version = 0;
  uint64_t model_sequence = 0;
  // Empty, or why the model stored on disk was not used at Open (damaged,
  // from another database, other privacy settings) or could not be written
  // after the last Train. The database then needs a Train to serve.
  std::string model_problem;
  // The retention policy in force (Options::retention given to Open) and when
  // its sweep last completed (DB::SweepRetention, the scheduled sweep, or a
  // forget with wait_for_physical_erasure): seconds since epoch, by the
  // database's clock; 0 = never.
  RetentionPolicy retention;
  int64_t last_retention_sweep = 0;
  // Background work since Open, in name order; empty when none has run (e.g.
  // Options::background_threads = 0, or nothing scheduled yet). A job whose
  // last_run_failed is true is retried at its next period or trigger.
  std::vector<BackgroundJobStats> background_jobs;
};

// A range of a user's history, by timestamp: [start, end).
struct HistoryRange {
  int64_t start = kMinTimestamp;
  int64_t end = kMaxTimestamp + 1;
  size_t limit = 0;  // 0 = no limit; otherwise the first `limit` events of the range
};

}  // namespace recdb
