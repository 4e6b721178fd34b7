#include "storage/fault_injection.h"

#include <rocksdb/system_clock.h>

#include <algorithm>
#include <string>
#include <utility>

namespace recdb::storage {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

IOStatus Injected(FaultKind kind) {
  return IOStatus::IOError(std::string("injected fault: ") + FaultKindName(kind));
}

class FaultySequentialFile : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  FaultySequentialFile(std::unique_ptr<rocksdb::FSSequentialFile>&& t,
                       FaultInjectionFileSystem* fs)
      : FSSequentialFileOwnerWrapper(std::move(t)), fs_(fs) {}
  IOStatus Read(size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kRead)) return Injected(FaultKind::kRead);
    return target()->Read(n, o, result, scratch, dbg);
  }
  IOStatus PositionedRead(uint64_t offset, size_t n, const IOOptions& o, Slice* result,
                          char* scratch, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kRead)) return Injected(FaultKind::kRead);
    return target()->PositionedRead(offset, n, o, result, scratch, dbg);
  }

 private:
  FaultInjectionFileSystem* fs_;
};

class FaultyRandomAccessFile : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultyRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile>&& t,
                         FaultInjectionFileSystem* fs)
      : FSRandomAccessFileOwnerWrapper(std::move(t)), fs_(fs) {}
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    if (fs_->ShouldFail(FaultKind::kRead)) return Injected(FaultKind::kRead);
    return target()->Read(offset, n, o, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kRead)) {
      for (size_t i = 0; i < num_reqs; ++i) reqs[i].status = Injected(FaultKind::kRead);
      return Injected(FaultKind::kRead);
    }
    return target()->MultiRead(reqs, num_reqs, o, dbg);
  }

 private:
  FaultInjectionFileSystem* fs_;
};

class FaultyWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile>&& t, FaultInjectionFileSystem* fs)
      : FSWritableFileOwnerWrapper(std::move(t)), fs_(fs) {}
  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
    return target()->Append(data, o, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
    return target()->Append(data, o, info, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
    return target()->PositionedAppend(data, offset, o, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
    return target()->PositionedAppend(data, offset, o, info, dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kSync)) return Injected(FaultKind::kSync);
    return target()->Sync(o, dbg);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kSync)) return Injected(FaultKind::kSync);
    return target()->Fsync(o, dbg);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kSync)) return Injected(FaultKind::kSync);
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
  FaultInjectionFileSystem* fs_;
};

class FaultyRandomRWFile : public rocksdb::FSRandomRWFileOwnerWrapper {
 public:
  FaultyRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile>&& t, FaultInjectionFileSystem* fs)
      : FSRandomRWFileOwnerWrapper(std::move(t)), fs_(fs) {}
  IOStatus Write(uint64_t offset, const Slice& data, const IOOptions& o,
                 IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
    return target()->Write(offset, data, o, dbg);
  }
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    if (fs_->ShouldFail(FaultKind::kRead)) return Injected(FaultKind::kRead);
    return target()->Read(offset, n, o, result, scratch, dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kSync)) return Injected(FaultKind::kSync);
    return target()->Sync(o, dbg);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kSync)) return Injected(FaultKind::kSync);
    return target()->Fsync(o, dbg);
  }

 private:
  FaultInjectionFileSystem* fs_;
};

class FaultyDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultyDirectory(std::unique_ptr<rocksdb::FSDirectory>&& t, FaultInjectionFileSystem* fs)
      : FSDirectoryWrapper(std::move(t)), fs_(fs) {}
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_->ShouldFail(FaultKind::kSync)) return Injected(FaultKind::kSync);
    return FSDirectoryWrapper::Fsync(o, dbg);
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    if (fs_->ShouldFail(FaultKind::kSync)) return Injected(FaultKind::kSync);
    return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, dir_options);
  }

 private:
  FaultInjectionFileSystem* fs_;
};

}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kWrite:
      return "write";
    case FaultKind::kSync:
      return "sync";
    case FaultKind::kRename:
      return "rename";
    case FaultKind::kRead:
      return "read";
  }
  return "?";
}

FaultInjectionFileSystem::FaultInjectionFileSystem(
    const std::shared_ptr<rocksdb::FileSystem>& base)
    : FileSystemWrapper(base) {}

void FaultInjectionFileSystem::Arm(FaultKind kind, uint64_t n, bool persistent) {
  armed_kind_.store(-1);
  persistent_.store(persistent);
  fail_at_.store(counts_[static_cast<int>(kind)].load() + n);
  armed_kind_.store(static_cast<int>(kind));
}

void FaultInjectionFileSystem::Disarm() { armed_kind_.store(-1); }

uint64_t FaultInjectionFileSystem::count(FaultKind kind) const {
  return counts_[static_cast<int>(kind)].load();
}

bool FaultInjectionFileSystem::ShouldFail(FaultKind kind) {
  const int k = static_cast<int>(kind);
  const uint64_t c = ++counts_[k];
  if (armed_kind_.load() != k) return false;
  const uint64_t at = fail_at_.load();
  if (c == at || (persistent_.load() && c > at)) {
    ++injected_;
    return true;
  }
  return false;
}

IOStatus FaultInjectionFileSystem::NewSequentialFile(const std::string& f,
                                                     const rocksdb::FileOptions& o,
                                                     std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                                     IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kRead)) return Injected(FaultKind::kRead);
  std::unique_ptr<rocksdb::FSSequentialFile> file;
  IOStatus s = target()->NewSequentialFile(f, o, &file, dbg);
  if (s.ok()) r->reset(new FaultySequentialFile(std::move(file), this));
  return s;
}

IOStatus FaultInjectionFileSystem::NewRandomAccessFile(
    const std::string& f, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSRandomAccessFile>* r, IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kRead)) return Injected(FaultKind::kRead);
  std::unique_ptr<rocksdb::FSRandomAccessFile> file;
  IOStatus s = target()->NewRandomAccessFile(f, o, &file, dbg);
  if (s.ok()) r->reset(new FaultyRandomAccessFile(std::move(file), this));
  return s;
}

IOStatus FaultInjectionFileSystem::NewWritableFile(const std::string& f,
                                                   const rocksdb::FileOptions& o,
                                                   std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                   IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->NewWritableFile(f, o, &file, dbg);
  if (s.ok()) r->reset(new FaultyWritableFile(std::move(file), this));
  return s;
}

IOStatus FaultInjectionFileSystem::ReopenWritableFile(const std::string& f,
                                                      const rocksdb::FileOptions& o,
                                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                      IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->ReopenWritableFile(f, o, &file, dbg);
  if (s.ok()) r->reset(new FaultyWritableFile(std::move(file), this));
  return s;
}

IOStatus FaultInjectionFileSystem::ReuseWritableFile(const std::string& f, const std::string& old,
                                                     const rocksdb::FileOptions& o,
                                                     std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                     IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->ReuseWritableFile(f, old, o, &file, dbg);
  if (s.ok()) r->reset(new FaultyWritableFile(std::move(file), this));
  return s;
}

IOStatus FaultInjectionFileSystem::NewRandomRWFile(const std::string& f,
                                                   const rocksdb::FileOptions& o,
                                                   std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                                   IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kWrite)) return Injected(FaultKind::kWrite);
  std::unique_ptr<rocksdb::FSRandomRWFile> file;
  IOStatus s = target()->NewRandomRWFile(f, o, &file, dbg);
  if (s.ok()) r->reset(new FaultyRandomRWFile(std::move(file), this));
  return s;
}

IOStatus FaultInjectionFileSystem::NewDirectory(const std::string& name, const IOOptions& o,
                                                std::unique_ptr<rocksdb::FSDirectory>* r,
                                                IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, o, &dir, dbg);
  if (s.ok()) r->reset(new FaultyDirectory(std::move(dir), this));
  return s;
}

IOStatus FaultInjectionFileSystem::RenameFile(const std::string& src, const std::string& target,
                                              const IOOptions& o, IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kRename)) return Injected(FaultKind::kRename);
  return FileSystemWrapper::RenameFile(src, target, o, dbg);
}

IOStatus FaultInjectionFileSystem::LinkFile(const std::string& src, const std::string& target,
                                            const IOOptions& o, IODebugContext* dbg) {
  if (ShouldFail(FaultKind::kRename)) return Injected(FaultKind::kRename);
  return FileSystemWrapper::LinkFile(src, target, o, dbg);
}

namespace {

class ShortSleepClock final : public rocksdb::SystemClockWrapper {
 public:
  explicit ShortSleepClock(const std::shared_ptr<rocksdb::SystemClock>& target)
      : SystemClockWrapper(target) {}
  const char* Name() const override { return "RecdbShortSleepClock"; }
  void SleepForMicroseconds(int micros) override {
    SystemClockWrapper::SleepForMicroseconds(std::min(micros, 10000));
  }
};

// The composite Env's file system and thread pools; only the clock differs.
class FaultInjectionEnv final : public rocksdb::EnvWrapper {
 public:
  explicit FaultInjectionEnv(std::unique_ptr<rocksdb::Env> target)
      : EnvWrapper(std::move(target)) {
    system_clock_ = std::make_shared<ShortSleepClock>(system_clock_);
  }
  const char* Name() const override { return "RecdbFaultInjectionEnv"; }
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFaultInjectionEnv(const std::shared_ptr<rocksdb::FileSystem>& fs) {
  return std::make_unique<FaultInjectionEnv>(rocksdb::NewCompositeEnv(fs));
}

}  // namespace recdb::storage
