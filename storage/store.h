// Store: recdb's RocksDB instance and its column families.
//
// A Store opens (or creates) one RocksDB database with every column family
// recdb defines (ColumnFamily below; storage/FORMAT.md documents each one),
// creating missing ones at open so that later format additions need no
// migration. It is the only place rocksdb::Status becomes recdb::Status
// (FromRocksDB), and the only place RocksDB options are chosen, so the
// engine and the ingest benchmark's raw-RocksDB anchor share them.
//
// The Store does not interpret keys or values: key_codec.h and
// record_codec.h do. It exposes the rocksdb::DB* for callers that need the
// full RocksDB API (iterators with bounds, properties).
//
// Thread-safety: every method is safe to call concurrently except Close and
// the destructor, which REQUIRE that no other call is in progress.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/options.h"
#include "recdb/status.h"
#include "storage/retention_filter.h"

namespace recdb::storage {

// The column families of a recdb database. Their names are part of the
// on-disk format (FORMAT.md lists each one; tests/storage/format_doc_test.cc
// fails when a name here is missing there); never rename one.
//
// "Core" families exist in every recdb database; a read-only open of one
// that lacks a core family is Corruption. The others (vectors, vector_log,
// models, impressions) were added after format version 1 shipped: every
// writable open creates them, and a read-only open of a database that
// predates them finds them absent (Handle() returns null).
enum class ColumnFamily : int {
  kDefault = 0,  // "default": RocksDB requires it; recdb stores nothing there
  kMeta,         // "meta": format version, counters, event types, privacy state
  kIds,          // "ids": kind + external id -> internal id
  kItems,        // "items": item iid -> Item
  kUsers,        // "users": user iid -> User
  kEvents,       // "events": user iid + time + seq -> EventRecord
  kItemStats,    // "item_stats": per-item counters (Int64AddOperator)
  kVectors,      // "vectors": embedding spaces: definitions and vectors (added later)
  kVectorLog,    // "vector_log": the vector change log the indexes catch up from (added later)
  kModels,       // "models": persisted model state, "fusion/current" (added later)
  kImpressions,  // "impressions": what was shown to whom (added later)
  kStatsLog,     // "stats_log": item_stats deltas not yet folded in (core)
};
inline constexpr int kNumColumnFamilies = 12;

// The on-disk name of `cf`.
std::string_view ColumnFamilyName(ColumnFamily cf);

// Maps a RocksDB status to a recdb Status (the one place this happens).
// The message keeps RocksDB's text, prefixed with "rocksdb: ".
Status FromRocksDB(const rocksdb::Status& s);

// A snapshot released on destruction. REQUIRES: outlives no Store.
using Snapshot = std::unique_ptr<rocksdb::ManagedSnapshot>;

class Store {
 public:
  // Opens the RocksDB database in directory `db_dir` (recdb's DIR/db).
  // Honours options.create_if_missing, error_if_exists, read_only,
  // block_cache_bytes, write_buffer_bytes and env: RocksDB runs on
  // NewStorageEnv(options.env) (storage/env_file_system.h), so the Env sees
  // and may fail each of its file operations. REQUIRES: options.env, if
  // set, outlives the Store.
  // Errors: NotFound if absent and !create_if_missing; AlreadyExists if
  // present and error_if_exists; Corruption if a core column family is
  // missing in a read-only open; IOError (e.g. the LOCK is held).
  static StatusOr<std::unique_ptr<Store>> Open(const Options& options, const std::string& db_dir);

  ~Store();  // Close() if not yet closed; errors dropped.
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // True if Open created the database (it did not exist before).
  bool created() const { return created_; }
  bool read_only() const { return read_only_; }
  const std::string& dir() const { return dir_; }

  rocksdb::DB* db() const { return db_; }
  // Never null for a core family; the families added later are null only in
  // a read-only open of a database that predates them.
  rocksdb::ColumnFamilyHandle* Handle(ColumnFamily cf) const {
    return handles_[static_cast<int>(cf)];
  }
  // Any column family by name, including ones a newer recdb created; null
  // if the database has none of that name.
  rocksdb::ColumnFamilyHandle* Handle(std::string_view name) const;

  // Commits `batch` atomically. sync: fsync the WAL first.
  // Errors: FailedPrecondition if read-only; IOError.
  Status Write(rocksdb::WriteBatch* batch, bool sync);

  // Reads one value. Errors: NotFound if absent; IOError; Corruption.
  Status Get(ColumnFamily cf, std::string_view key, std::string* value,
             const rocksdb::Snapshot* snapshot = nullptr, bool verify_checksums = true) const;

  // An iterator over `cf`; the caller sets bounds/snapshot in `ro`.
  std::unique_ptr<rocksdb::Iterator> NewIterator(ColumnFamily cf,
                                                 const rocksdb::ReadOptions& ro) const;

  // An iterator over the keys of `cf` that begin with `prefix`, positioned at
  // the first of them (!Valid() when there is none). It owns its bounds (the
  // prefix may go away), so Seek, SeekToLast and Next stay within the prefix.
  // `snapshot` as ReadOptions::snapshot. The one home of the bounded prefix
  // scan that meta and vector records are read with.
  std::unique_ptr<rocksdb::Iterator> NewPrefixIterator(ColumnFamily cf, std::string_view prefix,
                                                       const rocksdb::Snapshot* snapshot = nullptr) const;

  // Adds a point Delete to `batch` for every key of `cf` in [begin, end)
  // as of now, and returns how many. recdb never writes range tombstones
  // (rocksdb::WriteBatch::DeleteRange): Debian's RocksDB 7.8 aborts when
  // writing a compaction output that held only range tombstones fails
  // (tests/fault RocksDbDefectDeathTest), which the I/O fault sweeps hit.
  // A point delete costs one key scan of the range; every caller deletes
  // what it has just read or written, so the scan is of the same order as
  // the work it undoes. Keys written into the range after the scan are not
  // deleted: callers hold whatever lock keeps writers out of the range.
  // Errors: IOError, Corruption (from the scan).
  StatusOr<int64_t> AddDeletesInRange(ColumnFamily cf, std::string_view begin,
                                      std::string_view end, rocksdb::WriteBatch* batch) const;

  Snapshot GetSnapshot() const;
  uint64_t LatestSequenceNumber() const { return db_->GetLatestSequenceNumber(); }

  // Live SST bytes of every column family plus WAL bytes.
  uint64_t DiskBytes() const;

  // Flushes every memtable to SST files and waits.
  Status Flush();

  // The expiry rules and clock of the "events" family's compaction filter
  // (storage/retention_filter.h); never null.
  EventRetention* retention() const { return retention_.get(); }

  // Flushes (unless read-only) and closes RocksDB. Idempotent; later calls
  // other than the destructor are invalid.
  Status Close();

  // The RocksDB options of family `cf` (`name` for a family recdb does not
  // know). `cache` is the block cache shared by all families.
  static rocksdb::ColumnFamilyOptions MakeColumnFamilyOptions(
      const Options& options, std::string_view name, const std::shared_ptr<rocksdb::Cache>& cache);

 private:
  Store() = default;

  // RocksDB's Env over Options::env (null: rocksdb::Env::Default()).
  // Declared before db_ and never reset: it outlives the DB.
  std::unique_ptr<rocksdb::Env> env_;
  rocksdb::DB* db_ = nullptr;  // owned; deleted by Close
  std::array<rocksdb::ColumnFamilyHandle*, kNumColumnFamilies> handles_{};
  // Every open handle (core, added later, and unknown ones a newer recdb created), in open order.
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles_;
  std::string dir_;
  std::shared_ptr<EventRetention> retention_ = std::make_shared<EventRetention>();
  bool created_ = false;
  bool read_only_ = false;
  bool closed_ = false;
};

}  // namespace recdb::storage
