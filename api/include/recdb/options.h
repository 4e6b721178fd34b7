// Options that control a database, its writes and its reads.
//
// Every option states its meaning, its default, whether it can change after
// Open, and what it costs. Options are plain values, copied at Open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "recdb/care.h"
#include "recdb/privacy.h"

namespace recdb {

class Env;  // recdb/env.h

struct Options {
  // Create the database directory if it does not exist.
  // Default: false. Fixed at Open.
  bool create_if_missing = false;

  // Fail Open if the database already exists.
  // Default: false. Fixed at Open.
  bool error_if_exists = false;

  // Open read-only: no writes, no background jobs, no derived files written.
  // Several read-only openers may share a directory with no writer.
  // Default: false. Fixed at Open.
  bool read_only = false;

  // RecordEvents creates a user (default consent) for an unknown user id.
  // If false, an unknown user is InvalidArgument and the batch is rejected.
  // Default: true. Fixed at Open.
  bool auto_create_users = true;

  // RecordEvents creates a placeholder item (no text, available) for an
  // unknown item id. If false, an unknown item is InvalidArgument.
  // Default: true. Fixed at Open.
  bool auto_create_items = true;

  // Size of the RocksDB block cache shared by all column families.
  // Default: 64 MiB. Fixed at Open. Cost: memory, up to this many bytes.
  size_t block_cache_bytes = 64u << 20;

  // RocksDB memtable size per column family before it is flushed.
  // Default: 32 MiB. Fixed at Open. Cost: memory per column family, and WAL
  // replay time after a crash grows with it.
  size_t write_buffer_bytes = 32u << 20;

  // Threads in the background scheduler (retention, training, checkpoints).
  // 0 = manual mode: nothing runs until the caller (a test) steps it.
  // Default: 2. Fixed at Open. Cost: one OS thread each.
  int background_threads = 2;

  // Retrain the recommenders in the background this often (seconds), when
  // events were recorded since the last training. 0 = only on Train().
  // Default: 0. Fixed at Open. Cost: one training run (about 5 s of 2 cores
  // at 100K events) per period.
  int64_t retrain_interval_seconds = 0;

  // Default re-ranking of every Recommend (diversity, calibration, fair
  // exposure, exploration, impression rotation); a request's
  // RecommendRequest::care replaces it. See recdb/care.h for each knob.
  // Default: every stage off, rotation after 3 impressions in 7 days.
  // Fixed at Open. Cost: re-ranking candidate_factor * k items (microseconds).
  CareOptions care;

  // Checkpoint every embedding space's HNSW indexes to DIR/derived/ this
  // often (seconds), and truncate their change logs; Close checkpoints too.
  // 0 = only on Close and DB::CheckpointIndexes. Default: 300. Fixed at Open.
  // Cost: writing each changed index (~(8*M + 4*dim + 16) bytes per vector)
  // per period; longer periods make the log replayed at Open longer.
  int64_t index_checkpoint_interval_seconds = 300;

  // How long events are kept (recdb/privacy.h). An event type it names must
  // be registered, else Open fails with InvalidArgument. Default: keep
  // everything. Fixed at Open. Cost: a sweep compacts the events family.
  RetentionPolicy retention;

  // Store user ids as keyed pseudonyms (recdb/privacy.h PseudonymOptions).
  // A database created with keys must be opened with the same chain: Open
  // fails with FailedPrecondition without keys and InvalidArgument with a
  // different chain; a database holding raw ids opened with keys fails with
  // FailedPrecondition (convert it with RotatePseudonymKeys / recdb privacy
  // rotate-key). Default: off. Fixed at Open. Cost: one HMAC-SHA256 (~1 us)
  // per user id looked up or written.
  PseudonymOptions pseudonyms;

  // Noise on exposed counts (recdb/privacy.h AggregatePrivacyOptions).
  // Default: exact counts. Fixed at Open.
  AggregatePrivacyOptions aggregate_privacy;

  // The clock and file-operation hooks the database uses (recdb/env.h):
  // an application's Env sees every file operation of recdb and of RocksDB
  // and may fail it, and its clock drives retention and privacy deadlines.
  // Not owned; REQUIRES: outlives the database. Not part of the options
  // file (recdb/options_file.h): it is a pointer, not a setting.
  // Default: nullptr (Env::Default(), the operating system). Fixed at Open.
  // Cost: with an Env other than the default, one virtual call per file
  // operation, and RocksDB's I/O through a wrapping file system.
  Env* env = nullptr;
};

struct WriteOptions {
  // fsync the write-ahead log before the call returns. When false a write is
  // durable against a process crash (kill -9) but not against a power loss
  // until the next synced write or flush.
  // Default: false. Cost: one fsync per call (milliseconds on most disks).
  bool sync = false;

  // An opaque key/value committed in the SAME atomic RocksDB write as the
  // call's records, for a caller that applies an external replicated log
  // (recdb_cluster stores the stream sequence it has applied): after a crash
  // at any point, DB::GetAppliedPosition(key) returns the value of the last
  // committed batch, so the caller resumes exactly after it, with no event
  // lost or applied twice. Honoured by RecordEvents (an empty event batch
  // then writes just the position), UpsertItems, UpsertUsers and
  // RecordImpressions (also when consent stores nothing); a rejected batch
  // writes nothing; other writes ignore it. Empty key = none; the key is at most
  // kMaxIdBytes bytes, the value at most kMaxAttributeValueBytes
  // (InvalidArgument otherwise).
  // Default: none. Cost: one extra put in the batch.
  std::string applied_position_key;
  std::string applied_position_value;
};

struct ReadOptions {
  // Verify block checksums on every read from disk.
  // Default: true. Cost: a few percent of read CPU.
  bool verify_checksums = true;
};

}  // namespace recdb
