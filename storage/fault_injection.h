// FaultInjectionFileSystem: a rocksdb::FileSystem that fails the N-th I/O
// operation of a chosen kind, for tests that check every I/O error becomes a
// Status and the database reopens consistent (SQLite's ioerr tests, LevelDB's
// fault-injection Env).
//
// Wrap the default file system, make an Env from it, and install that Env
// for the Stores opened next:
//
//   auto fs = std::make_shared<FaultInjectionFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = NewFaultInjectionEnv(fs);
//   storage::SetEnvForTesting(env.get());   // storage/store.h
//   fs->Arm(FaultKind::kSync, 3);           // the 3rd sync from now fails
//   ... open a DB, write ...
//   storage::SetEnvForTesting(nullptr);
//
// What counts as one operation of each kind:
//   kWrite   creating a writable file, Append/PositionedAppend, RandomRW Write
//   kSync    Sync/Fsync/RangeSync of a file, Fsync of a directory
//   kRename  RenameFile, LinkFile
//   kRead    opening a file for reading, Read/PositionedRead/MultiRead
// Preallocation (FSWritableFile::Allocate) is skipped: it is only a hint, and
// on tmpfs it costs more than everything else a sweep does.
// Only RocksDB's I/O goes through here; recdb's own files (index
// checkpoints, snapshot files) have their own seam, common/file_io.h.
//
// Thread-safety: every method is safe to call concurrently (RocksDB calls it
// from its background threads); counters are atomic.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace recdb::storage {

enum class FaultKind : int { kWrite = 0, kSync, kRename, kRead };
inline constexpr int kNumFaultKinds = 4;
const char* FaultKindName(FaultKind kind);

class FaultInjectionFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultInjectionFileSystem(
      const std::shared_ptr<rocksdb::FileSystem>& base = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "RecdbFaultInjectionFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // The `n`-th (1-based) operation of `kind` after this call fails with an
  // IOError (RocksDB's "injected" message). If `persistent`, every later
  // operation of that kind fails too (a dead disk); otherwise only that one
  // (a transient error). Replaces any earlier arming. REQUIRES: n >= 1.
  void Arm(FaultKind kind, uint64_t n, bool persistent = false);
  // No more failures; counting goes on.
  void Disarm();

  // Operations of `kind` seen since construction (all of them, armed or not).
  uint64_t count(FaultKind kind) const;
  // Failures injected since construction.
  uint64_t injected() const { return injected_.load(); }

  // Called by the file wrappers: true if this operation must fail.
  bool ShouldFail(FaultKind kind);

  rocksdb::IOStatus NewSequentialFile(const std::string& f, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;

 private:
  std::atomic<int> armed_kind_{-1};  // -1: disarmed
  std::atomic<uint64_t> fail_at_{0};   // count value at which to fail
  std::atomic<bool> persistent_{false};
  std::atomic<uint64_t> counts_[kNumFaultKinds] = {};
  std::atomic<uint64_t> injected_{0};
};

// An Env over `fs` for SetEnvForTesting. Its clock caps every sleep RocksDB
// asks for at 10 ms: after a failed background flush or compaction RocksDB
// 7.8 sleeps a hard-coded second before its next background job
// (DBImpl::BackgroundCallFlush/Compaction), and that second was ~90% of a
// fault sweep's wall time with the CPU idle. Time itself is not changed.
std::unique_ptr<rocksdb::Env> NewFaultInjectionEnv(const std::shared_ptr<rocksdb::FileSystem>& fs);

}  // namespace recdb::storage
