// Env: the operating-system services a database uses (the clock and file
// operations), in one object an application can supply through
// Options::env, as LevelDB's and RocksDB's Env are.
//
// What goes through a database's Env:
//   - the clock: every wall-clock "now" the database reads: retention (the
//     sweep and the events family's compaction filter) and privacy
//     deadlines, forget receipts and exports, the time of a Recommend or an
//     impression whose request gives none, when a model was trained and a
//     space or a snapshot created;
//   - every file operation on recdb's own files (model files, index
//     checkpoints, snapshot files and manifests) and on RocksDB's (WAL, SST,
//     MANIFEST, OPTIONS, CURRENT), reported to OnFileOperation before it is
//     performed; a non-OK answer fails the operation with that error;
//   - the sleeps RocksDB takes (the back-off after a background error).
// recdb performs the file operations itself (POSIX, or RocksDB's POSIX file
// system): an Env observes, meters and fails them; it does not redirect them
// to another medium. Not reported: creating recdb's own files (their first
// write is), hard-linking files into a snapshot, reads of a mapped model
// file (its open is), directory listings and removals. Event timestamps are
// the caller's; the scheduler's timers use the process's monotonic clock.
// DB::Restore uses RestoreOptions::env; the other calls that run without an
// open database (ListSnapshots, VerifySnapshots, PruneSnapshots) use
// Env::Default().
//
// Env::Default() is the operating system: the system clock, and every file
// operation allowed. A database whose Options::env is null uses it, and then
// skips the calls and RocksDB's wrapper entirely (no cost).
//
// Thread-safety: a database calls its Env from many threads at once (the
// caller's, its scheduler's and RocksDB's background threads); every
// override must be safe for concurrent use. An Env outlives every database
// opened with it.
#pragma once

#include <cstdint>
#include <string_view>

#include "recdb/export.h"
#include "recdb/status.h"

namespace recdb {

// What a file operation does.
enum class FileOperationKind : int {
  kWrite = 0,   // writing to a file; for RocksDB's files also creating one
  kSync = 1,    // fsync/fdatasync/range sync of a file, fsync of a directory
  kRename = 2,  // renaming a file; for RocksDB's files also hard-linking one
  kRead = 3,    // reading from an open file
  kOpen = 4,    // opening an existing file for reading
};
inline constexpr int kNumFileOperationKinds = 5;

// A stable lower-case name: "write", "sync", "rename", "read", "open".
RECDB_EXPORT const char* FileOperationKindName(FileOperationKind kind);

// Whose file an operation is on.
enum class FileOwner : int {
  kRecdb = 0,    // recdb's own files: model files, index checkpoints, snapshots
  kStorage = 1,  // RocksDB's files under DIR/db
};

struct FileOperation {
  FileOperationKind kind = FileOperationKind::kWrite;
  FileOwner owner = FileOwner::kRecdb;
  // The file (or, for a directory fsync, the directory); for a rename or a
  // link, its source. Valid only during the call.
  std::string_view path;
};

class RECDB_EXPORT Env {
 public:
  Env() = default;
  virtual ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // The operating system's Env. Never null; lives for the whole process.
  static Env* Default();

  // Wall-clock microseconds since the Unix epoch.
  // Default: the system clock.
  virtual int64_t NowMicros();
  // NowMicros() in whole seconds, the resolution recdb stores times at.
  int64_t NowSeconds() { return NowMicros() / 1'000'000; }

  // Called before each file operation recdb or RocksDB performs; OK lets it
  // proceed, any other Status fails it without performing it: recdb's own
  // file calls fail with EIO and become an IOError naming the file,
  // RocksDB's become a rocksdb IOError carrying this message, so the call
  // that needed the operation returns a non-OK Status (or, for a read a
  // database can recover from, such as an index checkpoint it rebuilds,
  // recovers). Default: OK (every operation allowed).
  virtual Status OnFileOperation(const FileOperation& op);

  // Called when RocksDB sleeps (the back-off after a failed flush or
  // compaction, a delayed write). Default: sleeps that long. An Env for
  // tests may shorten it; RocksDB's own readings of the time stay the
  // system's.
  virtual void SleepForMicroseconds(int64_t micros);
};

}  // namespace recdb
