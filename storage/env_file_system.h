// EnvFileSystem: RocksDB's file system with every operation first reported
// to a recdb::Env (recdb/env.h, Env::OnFileOperation with owner kStorage);
// a non-OK answer fails the operation with a rocksdb IOError carrying the
// Env's message. This is how Options::env sees, meters and fails RocksDB's
// I/O, as common/file_io.h does for recdb's own files. The Store opens
// RocksDB on NewStorageEnv(options.env) (storage/store.cc).
//
// What each kind covers here:
//   kOpen    opening a file for reading (sequential or random access)
//   kWrite   creating a writable file (new, reopened, reused, random-RW),
//            Append/PositionedAppend, RandomRW Write
//   kSync    Sync/Fsync/RangeSync of a file, Fsync of a directory
//   kRename  RenameFile, LinkFile
//   kRead    Read/PositionedRead/MultiRead
// Preallocation (FSWritableFile::Allocate) is skipped: it is only a hint, and
// on tmpfs it costs more than everything else a fault sweep does.
//
// Thread-safety: every method is safe to call concurrently (RocksDB calls it
// from its background threads) if the Env's methods are.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <memory>
#include <string>

#include "recdb/env.h"

namespace recdb::storage {

class EnvFileSystem : public rocksdb::FileSystemWrapper {
 public:
  // REQUIRES: env is not null and outlives this file system and every file
  // it opened.
  explicit EnvFileSystem(recdb::Env* env, const std::shared_ptr<rocksdb::FileSystem>& base =
                                              rocksdb::FileSystem::Default());

  static const char* kClassName() { return "RecdbEnvFileSystem"; }
  const char* Name() const override { return kClassName(); }

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
  recdb::Env* const env_;
};

// The rocksdb::Env a Store opens RocksDB on for `env`: an EnvFileSystem over
// the default file system, and the default clock with its sleeps handed to
// env->SleepForMicroseconds. nullptr for null or Env::Default(): RocksDB's
// own default Env then, with no wrapper and no cost. REQUIRES: env outlives
// the returned Env.
std::unique_ptr<rocksdb::Env> NewStorageEnv(recdb::Env* env);

}  // namespace recdb::storage
