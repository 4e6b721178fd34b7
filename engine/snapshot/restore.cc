// DB::Restore: a verified copy of a snapshot into a new directory, then the
// forget ledgers re-applied (engine/snapshot/README.md).
#include <chrono>
#include <exception>
#include <filesystem>
#include <new>

#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"
#include "engine/snapshot/snapshot_info.h"
#include "storage/backup_dir.h"
#include "storage/snapshot_files.h"

namespace recdb {

namespace {

namespace fs = std::filesystem;

// The on-disk format this recdb reads (engine/db_impl/db_impl.cc, storage/FORMAT.md).
constexpr uint64_t kReadableFormatVersion = 1;

// `src` itself if it is a snapshot, else the newest snapshot of the backup
// directory `src`.
Status ResolveSnapshot(Env* env, const std::string& src, storage::SnapshotDirEntry* out) {
  uint64_t id = 0;
  bool partial = false;
  fs::path normal = fs::path(src).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();  // "dir/"
  const std::string name = normal.filename().string();
  if (storage::IsSnapshotDir(src) || storage::ParseSnapshotDirName(name, &id, &partial)) {
    out->path = src;
    out->name = name;
    out->id = id;
    out->manifest_status = storage::ReadSnapshotManifest(env, src, &out->manifest);
  } else {
    std::vector<storage::SnapshotDirEntry> entries;
    Status s = storage::ListSnapshotDirs(env, src, &entries);
    if (s.IsNotFound()) return Status::NotFound("no snapshot or backup directory " + src);
    RECDB_RETURN_IF_ERROR(s);
    const storage::SnapshotDirEntry* newest = nullptr;
    for (const auto& e : entries) {
      if (!e.partial) newest = &e;
    }
    if (newest == nullptr) return Status::NotFound("no snapshot in " + src);
    *out = *newest;
  }
  if (!out->manifest_status.ok()) {
    return out->manifest_status.WithContext("refusing to restore " + out->path);
  }
  return Status::OK();
}

// Every listed file present with its listed size: a partial or truncated
// snapshot is refused before a byte is copied.
Status CheckFilesPresent(const storage::SnapshotDirEntry& snap) {
  for (const storage::ManifestFile& f : snap.manifest.files) {
    std::error_code ec;
    const uint64_t size = fs::file_size(snap.path + "/" + f.path, ec);
    if (ec) return Status::Corruption(f.path + ": missing from the snapshot");
    if (size != f.size) {
      return Status::Corruption(f.path + ": size " + std::to_string(size) +
                                " bytes, manifest says " + std::to_string(f.size));
    }
  }
  return Status::OK();
}

}  // namespace

StatusOr<RestoreReport> DB::Restore(const std::string& src, const std::string& dest,
                                    const RestoreOptions& options) {
  return NoThrow([&]() -> StatusOr<RestoreReport> {
    const auto start = std::chrono::steady_clock::now();
    if (dest.empty()) return Status::InvalidArgument("empty restore destination");
    // Shared: a prune cannot remove the snapshot while it is copied.
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<storage::BackupDirLock> lock,
                           storage::LockForReading(src));
    storage::SnapshotDirEntry snap;
    Env* env = options.env != nullptr ? options.env : Env::Default();
    RECDB_RETURN_IF_ERROR(ResolveSnapshot(env, src, &snap));
    const std::string refuse = "refusing to restore " + snap.path;
    if (snap.manifest.format_version != kReadableFormatVersion) {
      return Status::NotSupported(refuse + ": recdb format version " +
                                  std::to_string(snap.manifest.format_version) +
                                  " (this recdb reads " + std::to_string(kReadableFormatVersion) +
                                  ")");
    }
    RECDB_RETURN_IF_ERROR(CheckFilesPresent(snap).WithContext(refuse));

    std::error_code ec;
    const bool existed = fs::exists(dest, ec);
    if (existed && !fs::is_empty(dest, ec)) {
      return Status::AlreadyExists("restore destination " + dest + " is not empty");
    }
    fs::create_directories(dest, ec);
    if (ec) return Status::IOError("cannot create " + dest + ": " + ec.message());
    // Anything failing from here leaves `dest` as it was (absent or empty).
    auto cleanup = [&]() {
      if (!existed) {
        fs::remove_all(dest, ec);
      } else {
        for (const auto& entry : fs::directory_iterator(dest, ec)) fs::remove_all(entry.path(), ec);
      }
    };

    RestoreReport report;
    report.snapshot = snapshot::ToSnapshotInfo(snap);
    // The RocksDB identity is not restored: the copy is a new database whose
    // file numbers diverge from the source's, so it must not pass for it
    // when both are backed up into one directory (SST sharing keys on it).
    Status s = storage::CopySnapshotFiles(env, snap.path, snap.manifest, dest,
                                          {"db/IDENTITY"}, &report.bytes);
    if (!s.ok()) {
      cleanup();
      return s.WithContext(refuse);
    }
    report.files = snap.manifest.files.size();
    report.copy_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const char* sub : {"/db", "/derived"}) fs::create_directories(dest + sub, ec);

    Options o = options.open_options;
    o.create_if_missing = false;
    o.error_if_exists = false;
    o.read_only = false;
    o.background_threads = 0;
    if (o.env == nullptr) o.env = options.env;
    auto opened = DBImpl::OpenImpl(o, dest);
    if (!opened.ok()) {
      cleanup();
      return opened.status().WithContext("opening the restored database in " + dest);
    }
    std::unique_ptr<DBImpl> db = std::move(opened).value();
    s = db->ReapplyForgetLedgers(options.forget_ledger_from, &report);
    Status closed = db->Close();
    if (s.ok()) s = closed;
    if (!s.ok()) {
      cleanup();
      return s.WithContext("re-applying the forget ledger to " + dest);
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  });
}

}  // namespace recdb
