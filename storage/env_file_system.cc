#include "storage/env_file_system.h"

#include <rocksdb/system_clock.h>

#include <string>
#include <utility>

namespace recdb::storage {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

using recdb::FileOperationKind;

// The Env's answer for one operation, as RocksDB's IOStatus: OK, or an
// IOError carrying the Env's message.
IOStatus Ask(recdb::Env* env, FileOperationKind kind, std::string_view path) {
  Status s = env->OnFileOperation(FileOperation{kind, FileOwner::kStorage, path});
  if (s.ok()) return IOStatus::OK();
  return IOStatus::IOError(std::string(path), s.ToString());
}

class EnvSequentialFile : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  EnvSequentialFile(std::unique_ptr<rocksdb::FSSequentialFile>&& t,
                    recdb::Env* env, std::string path)
      : FSSequentialFileOwnerWrapper(std::move(t)), env_(env), path_(std::move(path)) {}
  IOStatus Read(size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kRead, path_); !s.ok()) return s;
    return target()->Read(n, o, result, scratch, dbg);
  }
  IOStatus PositionedRead(uint64_t offset, size_t n, const IOOptions& o, Slice* result,
                          char* scratch, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kRead, path_); !s.ok()) return s;
    return target()->PositionedRead(offset, n, o, result, scratch, dbg);
  }

 private:
  recdb::Env* env_;
  const std::string path_;
};

class EnvRandomAccessFile : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  EnvRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile>&& t,
                      recdb::Env* env, std::string path)
      : FSRandomAccessFileOwnerWrapper(std::move(t)), env_(env), path_(std::move(path)) {}
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    if (IOStatus s = Ask(env_, FileOperationKind::kRead, path_); !s.ok()) return s;
    return target()->Read(offset, n, o, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kRead, path_); !s.ok()) {
      for (size_t i = 0; i < num_reqs; ++i) reqs[i].status = s;
      return s;
    }
    return target()->MultiRead(reqs, num_reqs, o, dbg);
  }

 private:
  recdb::Env* env_;
  const std::string path_;
};

class EnvWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  EnvWritableFile(std::unique_ptr<rocksdb::FSWritableFile>&& t, recdb::Env* env, std::string path)
      : FSWritableFileOwnerWrapper(std::move(t)), env_(env), path_(std::move(path)) {}
  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kWrite, path_); !s.ok()) return s;
    return target()->Append(data, o, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kWrite, path_); !s.ok()) return s;
    return target()->Append(data, o, info, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kWrite, path_); !s.ok()) return s;
    return target()->PositionedAppend(data, offset, o, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kWrite, path_); !s.ok()) return s;
    return target()->PositionedAppend(data, offset, o, info, dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kSync, path_); !s.ok()) return s;
    return target()->Sync(o, dbg);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kSync, path_); !s.ok()) return s;
    return target()->Fsync(o, dbg);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kSync, path_); !s.ok()) return s;
    return target()->RangeSync(offset, nbytes, o, dbg);
  }
  // Preallocation (Allocate, and PrepareWrite, which calls the target's
  // Allocate directly) is a hint and not forwarded: on tmpfs, where the
  // sweeps run, fallocate zero-fills the pages (4 MiB per MANIFEST, and
  // recdb starts a MANIFEST per version edit) and the truncate at Close
  // frees them; that was 60% of a sweep's CPU time.
  IOStatus Allocate(uint64_t /*offset*/, uint64_t /*len*/, const IOOptions& /*o*/,
                    IODebugContext* /*dbg*/) override {
    return IOStatus::OK();
  }
  void PrepareWrite(size_t /*offset*/, size_t /*len*/, const IOOptions& /*o*/,
                    IODebugContext* /*dbg*/) override {}

 private:
  recdb::Env* env_;
  const std::string path_;
};

class EnvRandomRWFile : public rocksdb::FSRandomRWFileOwnerWrapper {
 public:
  EnvRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile>&& t, recdb::Env* env, std::string path)
      : FSRandomRWFileOwnerWrapper(std::move(t)), env_(env), path_(std::move(path)) {}
  IOStatus Write(uint64_t offset, const Slice& data, const IOOptions& o,
                 IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kWrite, path_); !s.ok()) return s;
    return target()->Write(offset, data, o, dbg);
  }
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    if (IOStatus s = Ask(env_, FileOperationKind::kRead, path_); !s.ok()) return s;
    return target()->Read(offset, n, o, result, scratch, dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kSync, path_); !s.ok()) return s;
    return target()->Sync(o, dbg);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kSync, path_); !s.ok()) return s;
    return target()->Fsync(o, dbg);
  }

 private:
  recdb::Env* env_;
  const std::string path_;
};

class EnvDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  EnvDirectory(std::unique_ptr<rocksdb::FSDirectory>&& t, recdb::Env* env, std::string path)
      : FSDirectoryWrapper(std::move(t)), env_(env), path_(std::move(path)) {}
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kSync, path_); !s.ok()) return s;
    return FSDirectoryWrapper::Fsync(o, dbg);
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    if (IOStatus s = Ask(env_, FileOperationKind::kSync, path_); !s.ok()) return s;
    return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, dir_options);
  }

 private:
  recdb::Env* env_;
  const std::string path_;
};

}  // namespace

EnvFileSystem::EnvFileSystem(recdb::Env* env, const std::shared_ptr<rocksdb::FileSystem>& base)
    : FileSystemWrapper(base), env_(env) {}

namespace {

// Asks the Env about opening `f` as `kind`, then opens it with `open` and
// wraps the file so that its reads, writes and syncs are asked about too.
template <typename Wrapper, typename File, typename Open>
IOStatus OpenWrapped(recdb::Env* env, FileOperationKind kind, const std::string& f, Open open,
                     std::unique_ptr<File>* r) {
  if (IOStatus s = Ask(env, kind, f); !s.ok()) return s;
  std::unique_ptr<File> file;
  IOStatus s = open(&file);
  if (s.ok()) r->reset(new Wrapper(std::move(file), env, f));
  return s;
}

}  // namespace

IOStatus EnvFileSystem::NewSequentialFile(const std::string& f, const rocksdb::FileOptions& o,
                                          std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                          IODebugContext* dbg) {
  return OpenWrapped<EnvSequentialFile>(
      env_, FileOperationKind::kOpen, f,
      [&](auto* file) { return target()->NewSequentialFile(f, o, file, dbg); }, r);
}

IOStatus EnvFileSystem::NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                                            std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                            IODebugContext* dbg) {
  return OpenWrapped<EnvRandomAccessFile>(
      env_, FileOperationKind::kOpen, f,
      [&](auto* file) { return target()->NewRandomAccessFile(f, o, file, dbg); }, r);
}

IOStatus EnvFileSystem::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSWritableFile>* r,
                                        IODebugContext* dbg) {
  return OpenWrapped<EnvWritableFile>(
      env_, FileOperationKind::kWrite, f,
      [&](auto* file) { return target()->NewWritableFile(f, o, file, dbg); }, r);
}

IOStatus EnvFileSystem::ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                           std::unique_ptr<rocksdb::FSWritableFile>* r,
                                           IODebugContext* dbg) {
  return OpenWrapped<EnvWritableFile>(
      env_, FileOperationKind::kWrite, f,
      [&](auto* file) { return target()->ReopenWritableFile(f, o, file, dbg); }, r);
}

IOStatus EnvFileSystem::ReuseWritableFile(const std::string& f, const std::string& old,
                                          const rocksdb::FileOptions& o,
                                          std::unique_ptr<rocksdb::FSWritableFile>* r,
                                          IODebugContext* dbg) {
  return OpenWrapped<EnvWritableFile>(
      env_, FileOperationKind::kWrite, f,
      [&](auto* file) { return target()->ReuseWritableFile(f, old, o, file, dbg); }, r);
}

IOStatus EnvFileSystem::NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                        IODebugContext* dbg) {
  return OpenWrapped<EnvRandomRWFile>(
      env_, FileOperationKind::kWrite, f,
      [&](auto* file) { return target()->NewRandomRWFile(f, o, file, dbg); }, r);
}

IOStatus EnvFileSystem::NewDirectory(const std::string& name, const IOOptions& o,
                                     std::unique_ptr<rocksdb::FSDirectory>* r,
                                     IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, o, &dir, dbg);
  if (s.ok()) r->reset(new EnvDirectory(std::move(dir), env_, name));
  return s;
}

IOStatus EnvFileSystem::RenameFile(const std::string& src, const std::string& target,
                                   const IOOptions& o, IODebugContext* dbg) {
  if (IOStatus s = Ask(env_, FileOperationKind::kRename, src); !s.ok()) return s;
  return FileSystemWrapper::RenameFile(src, target, o, dbg);
}

IOStatus EnvFileSystem::LinkFile(const std::string& src, const std::string& target,
                                 const IOOptions& o, IODebugContext* dbg) {
  if (IOStatus s = Ask(env_, FileOperationKind::kRename, src); !s.ok()) return s;
  return FileSystemWrapper::LinkFile(src, target, o, dbg);
}

namespace {

// RocksDB's system clock with its sleeps handed to the recdb Env. After a
// failed background flush or compaction RocksDB 7.8 sleeps a hard-coded
// second before its next background job (DBImpl::BackgroundCallFlush /
// Compaction); an Env for tests shortens it (that second was ~90% of a
// fault sweep's wall time with the CPU idle). RocksDB's readings of the
// time stay the system's: its rate limits and statistics need real time.
class EnvSleepClock final : public rocksdb::SystemClockWrapper {
 public:
  EnvSleepClock(const std::shared_ptr<rocksdb::SystemClock>& target, recdb::Env* env)
      : SystemClockWrapper(target), env_(env) {}
  const char* Name() const override { return "RecdbEnvSleepClock"; }
  void SleepForMicroseconds(int micros) override { env_->SleepForMicroseconds(micros); }

 private:
  recdb::Env* env_;
};

// The composite Env's file system and thread pools; only the clock differs.
class StorageEnv final : public rocksdb::EnvWrapper {
 public:
  StorageEnv(std::unique_ptr<rocksdb::Env> target, recdb::Env* env)
      : EnvWrapper(std::move(target)) {
    system_clock_ = std::make_shared<EnvSleepClock>(system_clock_, env);
  }
  const char* Name() const override { return "RecdbStorageEnv"; }
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewStorageEnv(recdb::Env* env) {
  if (env == nullptr || env == recdb::Env::Default()) return nullptr;
  auto fs = std::make_shared<EnvFileSystem>(env);
  return std::make_unique<StorageEnv>(rocksdb::NewCompositeEnv(fs), env);
}

}  // namespace recdb::storage
