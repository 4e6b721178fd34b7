// Snapshots, backups and restore: the option and result types of
// DB::CreateSnapshot and DB::Restore (recdb/db.h), and the functions that
// manage a backup directory.
//
// A snapshot is one consistent point of a database: its RocksDB files (the
// source of truth, including the stored fusion weights and the forget
// ledger), its derived files (HNSW index checkpoints) and a manifest listing
// every file with its size and CRC-32C, the RocksDB sequence number, the
// recdb format version and the creation time; the manifest is checksummed
// itself (storage/FORMAT.md, "Snapshots and backups").
//
// Snapshots live in a backup directory, one subdirectory each
// (BACKUP_DIR/snapshot-000001, ...). Unchanged files are shared between
// snapshots, and with the database when it is on the same file system, by
// hard links: a snapshot costs the bytes that changed since the previous one.
// Each snapshot directory is a complete database that opens read-only in
// place (Options::read_only) for analysis; opening it for writing is refused.
//
// Sharing blocks with the live database protects against lost or bad writes,
// dropped data and mistakes, not against the disk failing: keep a backup
// directory on another device for that (files are then copied).
//
// Privacy (docs/DESIGN.md decision 9): a snapshot keeps the data of users
// forgotten after it was taken, so backups count towards the retention
// bound: prune them with PruneOptions::max_age_seconds no larger than the
// bound. Restore re-applies the forget ledger inside the snapshot and, when
// asked, the ledger of the live database.
//
// Thread-safety: every function may be called from any thread. Operations
// that change a backup directory (create, prune) take BACKUP_DIR/LOCK, so
// they serialise across threads and processes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recdb/export.h"
#include "recdb/options.h"
#include "recdb/status.h"

namespace recdb {

struct SnapshotOptions {
  // Hard-link immutable files (SST files, index checkpoints) from the
  // database when the backup directory is on the same file system, instead
  // of copying them. Files equal to the previous snapshot's are linked to it
  // either way. Default: true. Cost when false: copying every changed file.
  bool link_files = true;
};

// One snapshot of a backup directory.
struct SnapshotInfo {
  uint64_t id = 0;
  std::string name;  // "snapshot-000001"
  std::string path;  // its directory, openable read-only in place
  uint64_t sequence_number = 0;  // every write acknowledged before it started has a sequence <= this
  uint64_t format_version = 0;   // recdb on-disk format
  int64_t created_unix_micros = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;         // sum of the files' sizes
  uint64_t unique_bytes = 0;  // bytes not shared with an earlier snapshot
  // Empty for a usable snapshot; else why it is damaged or partial (List).
  std::string problem;
  double seconds = 0;  // CreateSnapshot only: how long it took
};

// A damaged, missing or mismatching file found by VerifySnapshots.
struct SnapshotProblem {
  std::string snapshot;  // snapshot directory name, e.g. "snapshot-000003"
  std::string file;      // relative path inside it, e.g. "db/000012.sst"
  std::string message;
};

struct VerifyReport {
  uint64_t snapshots = 0;
  uint64_t files = 0;
  uint64_t bytes_read = 0;  // shared files are read once
  std::vector<SnapshotProblem> problems;
  bool ok() const { return problems.empty(); }
};

struct PruneOptions {
  // Keep at most this many snapshots (the newest). Must be >= 0; 0 removes
  // all (subject to max_age_seconds removing more).
  int64_t keep = 0;
  // Also remove every snapshot older than this (seconds); 0 = no age limit.
  // Set it to the privacy retention bound: a snapshot holds users forgotten
  // after it was taken.
  int64_t max_age_seconds = 0;
};

struct PruneReport {
  std::vector<std::string> removed;  // snapshot names
  std::vector<std::string> kept;
  uint64_t bytes_freed = 0;  // bytes no remaining snapshot shares
};

struct RestoreOptions {
  // A live database whose forget ledger is re-applied to the restored one:
  // every user forgotten there (also after the snapshot was taken) is
  // forgotten in the restored database, and its ledger entries are copied
  // when both share the ledger key (a snapshot of the same database). Read
  // read-only; it may be open by another process. Default: "" (only the
  // snapshot's own ledger is re-applied).
  std::string forget_ledger_from;
  // How the restored copy is opened to re-apply the ledgers (e.g. with the
  // database's pseudonym keys). create_if_missing, error_if_exists,
  // read_only and background_threads are overridden. Default: Options{}.
  Options open_options;
  // The Env the restore runs through (recdb/env.h, as Options::env): it
  // sees the reads of the snapshot's manifest and files and the writes of
  // the copy, and may fail them; the restored copy is opened with it unless
  // open_options.env names another. Not owned; REQUIRES: outlives the call.
  // Default: nullptr (Env::Default(), the operating system).
  Env* env = nullptr;
};

struct RestoreReport {
  SnapshotInfo snapshot;  // what was restored
  uint64_t files = 0;
  uint64_t bytes = 0;
  // Stored users the ledgers named, forgotten again in the restored database.
  int64_t forgotten_by_snapshot_ledger = 0;
  int64_t forgotten_by_live_ledger = 0;
  // Ledger entries of forget_ledger_from copied / not copyable (other key).
  int64_t ledger_entries_imported = 0;
  int64_t ledger_entries_not_imported = 0;
  double seconds = 0;       // in all
  double copy_seconds = 0;  // verifying and copying the files
};

// The snapshots of `backup_dir` by ascending id, damaged and partial ones
// included (SnapshotInfo::problem says why). Checks each manifest's own
// checksum, not the files (VerifySnapshots does). Waits for a running
// CreateSnapshot or PruneSnapshots on the directory (a shared lock on its
// LOCK file, across processes), so a partial snapshot listed is one a crash
// left, not one being built.
// Errors: NotFound if `backup_dir` does not exist; IOError.
[[nodiscard]] RECDB_EXPORT StatusOr<std::vector<SnapshotInfo>> ListSnapshots(
    const std::string& backup_dir);

// Re-reads every file of every snapshot in `path` (a backup directory, or
// one snapshot directory) and compares size and CRC-32C with its manifest.
// Returns the report; problems name each bad file. A partial snapshot or a
// damaged manifest is a problem too (file "snapshot.manifest"). Waits for a
// running create or prune, and holds prune off while it reads (as
// ListSnapshots; DB::Restore too).
// Errors: NotFound if `path` is neither; IOError.
[[nodiscard]] RECDB_EXPORT StatusOr<VerifyReport> VerifySnapshots(const std::string& path);

// Removes the snapshots beyond the newest options.keep and those older than
// options.max_age_seconds, and partial snapshots left by a crash. Shared
// files stay as long as a remaining snapshot links them.
// Errors: InvalidArgument for a negative keep or age; NotFound; IOError.
[[nodiscard]] RECDB_EXPORT StatusOr<PruneReport> PruneSnapshots(const std::string& backup_dir,
                                                                const PruneOptions& options);

}  // namespace recdb
