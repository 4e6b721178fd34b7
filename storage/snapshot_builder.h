// SnapshotBuilder: writes one snapshot of a live RocksDB database (plus any
// other files the caller adds) into a backup directory (backup_dir.h).
//
// The RocksDB part is an online, consistent copy, the same primitive
// rocksdb::Checkpoint uses: DisableFileDeletions, GetLiveFilesStorageInfo
// (which flushes the memtables and returns one consistent set: SST files,
// the MANIFEST and the WAL, each with the size to copy), then every file is
// linked or copied, and deletions are re-enabled. Writes continue meanwhile;
// every write acknowledged before CaptureRocksDB started is in the snapshot.
// We do not call rocksdb::Checkpoint itself because it can neither share a
// file with the previous snapshot of the backup directory nor checksum while
// it copies.
//
// Immutable files (SST files, files passed to AddFile) are, in order of
// preference: hard-linked from the previous snapshot when it holds the same
// file (same RocksDB identity, name and size for SSTs; same size and
// CRC-32C otherwise), hard-linked from the source when link_files is set and
// the file systems allow it, or copied. OPTIONS files are shared with the
// previous snapshot when equal, else copied (RocksDB deletes old ones).
// Mutable files (MANIFEST, WAL) are always copied, up to the size captured.
//
// Usage: Begin -> CaptureRocksDB -> AddFile* -> Commit. Destroying an
// uncommitted builder removes its partial directory.
//
// Thread-safety: one thread per builder; the backup directory's LOCK is held
// from Begin to Commit/destruction.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "recdb/status.h"
#include "storage/backup_dir.h"
#include "storage/snapshot_manifest.h"

namespace recdb::storage {

class SnapshotBuilder {
 public:
  // Creates `backup_dir` if missing, takes its lock, removes partial
  // snapshots left by a crash, and starts snapshot (highest id + 1) in
  // BACKUP_DIR/.partial-snapshot-N. Every read, write, fsync and rename of
  // the snapshot's files goes through `env` (the database's Env).
  // REQUIRES: env outlives the builder. Errors: IOError.
  static StatusOr<std::unique_ptr<SnapshotBuilder>> Begin(Env* env, const std::string& backup_dir,
                                                          bool link_files);
  ~SnapshotBuilder();
  SnapshotBuilder(const SnapshotBuilder&) = delete;
  SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;

  // Captures the live files of `db` into db/ (see the header comment).
  // Errors: IOError; RocksDB errors (FromRocksDB).
  Status CaptureRocksDB(rocksdb::DB* db);

  // Adds the immutable file `src` as `rel` (e.g. "derived/space-1-item.hnsw").
  // REQUIRES: `src` is not modified in place while the builder runs (files
  // replaced by rename are fine). Errors: IOError; InvalidArgument for an
  // unsafe `rel`.
  Status AddFile(const std::string& src, const std::string& rel);

  // Checksums the linked files, writes the manifest (format_version and the
  // captured sequence), fsyncs, and renames the directory to
  // BACKUP_DIR/snapshot-N. Returns the entry of the new snapshot.
  StatusOr<SnapshotDirEntry> Commit(uint64_t format_version);

  const std::string& partial_path() const { return partial_path_; }

 private:
  SnapshotBuilder() = default;
  // Links the previous snapshot's copy of `rel`, or links `src` (if
  // may_link_source and link_files_), or copies it.
  Status PlaceImmutable(const std::string& src, const std::string& rel, uint64_t size,
                        bool is_sst, bool may_link_source);
  Status EnsureParent(const std::string& rel);

  Env* env_ = nullptr;
  std::string backup_dir_;
  std::unique_ptr<BackupDirLock> lock_;
  uint64_t id_ = 0;
  std::string partial_path_;
  bool link_files_ = true;
  bool committed_ = false;
  SnapshotManifest manifest_;
  // Files hard-linked from the source whose checksum Commit computes.
  std::vector<std::string> unchecked_;
  // The previous complete snapshot, for sharing.
  std::string prev_path_;
  std::string prev_db_id_;
  std::map<std::string, ManifestFile> prev_files_;
  std::vector<std::string> made_dirs_;
};

}  // namespace recdb::storage
