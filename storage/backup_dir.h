// Backup directories: a directory of snapshots that share unchanged files.
//
//   BACKUP_DIR/LOCK                      flock()ed: exclusively by create and
//                                        prune, shared by list, verify, restore
//   BACKUP_DIR/snapshot-000001/          one complete snapshot (an openable
//     snapshot.manifest                  recdb directory: db/, derived/ and
//     db/...  derived/...                the manifest, storage/FORMAT.md)
//   BACKUP_DIR/.partial-snapshot-000002/ a snapshot being built (or left by a
//                                        crash; prune removes it)
//
// Files are shared between snapshots (and with the live database) by hard
// links, so a snapshot directory is self-contained and removing one never
// affects another. A snapshot's manifest is written last and the directory is
// renamed into place after it, so "snapshot-N" without a valid manifest is
// damaged, never half-written.
//
// Thread-safety: functions are safe to call concurrently; the LOCK file
// serialises the ones that change a backup directory across threads and
// processes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recdb/env.h"
#include "recdb/status.h"
#include "storage/snapshot_manifest.h"

namespace recdb::storage {

inline constexpr std::string_view kSnapshotDirPrefix = "snapshot-";
inline constexpr std::string_view kPartialSnapshotPrefix = ".partial-snapshot-";

// "snapshot-000042" for id 42.
std::string SnapshotDirName(uint64_t id);
// The id of a complete ("snapshot-N") or partial (".partial-snapshot-N")
// directory name; false for anything else.
bool ParseSnapshotDirName(std::string_view name, uint64_t* id, bool* partial);

// A flock() on BACKUP_DIR/LOCK, released on destruction. Exclusive for the
// writers of a backup directory (create, prune), shared for its readers
// (list, verify, restore): a reader waits for a running create or prune, and
// a prune waits for the readers, so none of them sees a snapshot half-built
// or half-removed. (Without the lock a verify running beside a prune
// reported the files being removed as missing.)
class BackupDirLock {
 public:
  // Exclusive; waits for every other holder.
  // Errors: IOError (including a missing backup directory).
  static StatusOr<std::unique_ptr<BackupDirLock>> Acquire(const std::string& backup_dir);
  // Shared; waits for an exclusive holder. Creates LOCK when it can; when
  // the directory is not writable and holds no LOCK, returns nullptr (no
  // lock: no writer of ours has run there). `must_exist` false: a directory
  // without LOCK (a lone snapshot's parent) returns nullptr and is left as is.
  // Errors: IOError.
  static StatusOr<std::unique_ptr<BackupDirLock>> AcquireShared(const std::string& backup_dir,
                                                                bool must_exist = true);
  ~BackupDirLock();
  BackupDirLock(const BackupDirLock&) = delete;
  BackupDirLock& operator=(const BackupDirLock&) = delete;

 private:
  explicit BackupDirLock(int fd) : fd_(fd) {}
  int fd_;
};

// One snapshot directory as found in a backup directory.
struct SnapshotDirEntry {
  uint64_t id = 0;
  std::string name;  // "snapshot-000001"
  std::string path;  // BACKUP_DIR/name
  bool partial = false;      // a ".partial-snapshot-N" directory
  Status manifest_status;    // why the manifest is unusable (missing: partial/damaged)
  SnapshotManifest manifest;  // valid when manifest_status.ok()
  // Bytes of this snapshot's files that no lower-numbered snapshot of the
  // listing shares (by inode): what this snapshot added to the directory.
  uint64_t unique_bytes = 0;
};

// Reads and checks SNAPSHOT_DIR/snapshot.manifest. Errors: Corruption
// "partial or damaged: no manifest" if absent; Corruption from
// ParseManifest; IOError.
Status ReadSnapshotManifest(Env* env, const std::string& snapshot_dir, SnapshotManifest* out);

// Whether `dir` holds a snapshot manifest (is a snapshot, not a backup dir).
bool IsSnapshotDir(const std::string& dir);

// Every complete and partial snapshot of `backup_dir` by ascending id.
// Errors: NotFound if `backup_dir` does not exist; IOError.
Status ListSnapshotDirs(Env* env, const std::string& backup_dir,
                        std::vector<SnapshotDirEntry>* out);

// The shared lock a reader of `path` takes: `path` is a backup directory
// (its LOCK) or one snapshot directory (its parent's LOCK, if it has one).
// nullptr when there is nothing to lock (no such directory: the caller's
// listing then reports NotFound). Errors: IOError.
StatusOr<std::unique_ptr<BackupDirLock>> LockForReading(const std::string& path);

// A problem found by verification, naming the file (relative to the
// snapshot directory; the manifest itself is "snapshot.manifest").
struct FileProblem {
  std::string file;
  std::string message;
};

// CRC-32C of files already verified, by (device, inode): shared files are
// read once per verification of a backup directory.
using VerifiedInodes = std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint32_t>>;

// Re-reads every file `manifest` lists under `snapshot_dir` and appends a
// problem for each one missing, of another size or of another CRC-32C.
// `verified` may be null. Returns the bytes read (shared files counted once).
uint64_t VerifySnapshotFiles(Env* env, const std::string& snapshot_dir, const SnapshotManifest& manifest,
                             std::vector<FileProblem>* problems, VerifiedInodes* verified);

// Copies the files of a snapshot into `dest_dir` (existing and empty),
// checking every size and CRC-32C against the manifest while copying, and
// fsyncs them. Files named in `skip` (relative paths) are not copied.
// Errors: Corruption naming the first damaged or missing file; IOError.
// On error the caller removes `dest_dir`'s contents.
Status CopySnapshotFiles(Env* env, const std::string& snapshot_dir, const SnapshotManifest& manifest,
                         const std::string& dest_dir, const std::vector<std::string>& skip,
                         uint64_t* bytes);

// Removes a snapshot directory tree. Errors: IOError.
Status RemoveSnapshotDir(const std::string& path);

}  // namespace recdb::storage
