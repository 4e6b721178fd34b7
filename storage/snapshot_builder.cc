#include "storage/snapshot_builder.h"

#include <rocksdb/metadata.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/crc32c.h"
#include "common/file_io.h"
#include "storage/snapshot_files.h"
#include "storage/store.h"

namespace recdb::storage {
namespace {

namespace fs = std::filesystem;

// Re-enables file deletions (not forced: other holders keep theirs) on scope exit.
class FileDeletionsDisabled {
 public:
  explicit FileDeletionsDisabled(rocksdb::DB* db) : db_(db) {}
  ~FileDeletionsDisabled() {
    if (db_ != nullptr) db_->EnableFileDeletions(/*force=*/false).PermitUncheckedError();
  }
  FileDeletionsDisabled(const FileDeletionsDisabled&) = delete;
  FileDeletionsDisabled& operator=(const FileDeletionsDisabled&) = delete;

 private:
  rocksdb::DB* db_;
};

}  // namespace

StatusOr<std::unique_ptr<SnapshotBuilder>> SnapshotBuilder::Begin(Env* env,
                                                                  const std::string& backup_dir,
                                                                  bool link_files) {
  if (backup_dir.empty()) return Status::InvalidArgument("empty backup directory");
  std::error_code ec;
  fs::create_directories(backup_dir, ec);
  if (ec) return Status::IOError("cannot create " + backup_dir + ": " + ec.message());
  std::unique_ptr<SnapshotBuilder> b(new SnapshotBuilder());
  b->env_ = env;
  b->backup_dir_ = backup_dir;
  b->link_files_ = link_files;
  RECDB_ASSIGN_OR_RETURN(b->lock_, BackupDirLock::Acquire(backup_dir));
  std::vector<SnapshotDirEntry> entries;
  RECDB_RETURN_IF_ERROR(ListSnapshotDirs(env, backup_dir, &entries));
  uint64_t max_id = 0;
  for (const SnapshotDirEntry& e : entries) {
    max_id = std::max(max_id, e.id);
    if (e.partial) {
      // We hold the lock: no builder is running, so it was left by a crash.
      RECDB_RETURN_IF_ERROR(RemoveSnapshotDir(e.path));
    } else if (e.manifest_status.ok()) {
      b->prev_path_ = e.path;  // ascending ids: ends at the newest complete one
      b->prev_db_id_ = e.manifest.db_id;
      b->prev_files_.clear();
      for (const ManifestFile& f : e.manifest.files) b->prev_files_[f.path] = f;
    }
  }
  b->id_ = max_id + 1;
  b->partial_path_ =
      backup_dir + "/" + std::string(kPartialSnapshotPrefix) + SnapshotDirName(b->id_).substr(9);
  fs::create_directories(b->partial_path_ + "/db", ec);
  if (ec) return Status::IOError("cannot create " + b->partial_path_ + ": " + ec.message());
  b->made_dirs_.push_back(b->partial_path_ + "/db");
  return b;
}

SnapshotBuilder::~SnapshotBuilder() {
  if (!committed_ && !partial_path_.empty()) RemoveSnapshotDir(partial_path_).IgnoreError();
}

Status SnapshotBuilder::EnsureParent(const std::string& rel) {
  const std::string parent = fs::path(partial_path_ + "/" + rel).parent_path().string();
  if (std::find(made_dirs_.begin(), made_dirs_.end(), parent) != made_dirs_.end()) {
    return Status::OK();
  }
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Status::IOError("cannot create " + parent + ": " + ec.message());
  made_dirs_.push_back(parent);
  return Status::OK();
}

Status SnapshotBuilder::PlaceImmutable(const std::string& src, const std::string& rel,
                                       uint64_t size, bool is_sst, bool may_link_source) {
  const std::string dst = partial_path_ + "/" + rel;
  auto prev = prev_files_.find(rel);
  const bool prev_has = prev != prev_files_.end() && prev->second.size == size;
  // SST names are unique within one RocksDB (file numbers are never reused),
  // so the same identity, name and size is the same file: no read needed.
  if (is_sst && prev_has && prev_db_id_ == manifest_.db_id &&
      TryHardLink(prev_path_ + "/" + rel, dst)) {
    manifest_.files.push_back(prev->second);
    return Status::OK();
  }
  if (!is_sst && prev_has) {
    uint64_t n = 0;
    uint32_t crc = 0;
    RECDB_RETURN_IF_ERROR(ChecksumFile(env_, src, &n, &crc));
    if (n == size && crc == prev->second.crc32c && TryHardLink(prev_path_ + "/" + rel, dst)) {
      manifest_.files.push_back(prev->second);
      return Status::OK();
    }
  }
  if (may_link_source && link_files_ && TryHardLink(src, dst)) {
    unchecked_.push_back(rel);
    return Status::OK();
  }
  ManifestFile f;
  f.path = rel;
  RECDB_RETURN_IF_ERROR(CopyFileChecked(env_, src, dst, size, &f.size, &f.crc32c));
  manifest_.files.push_back(std::move(f));
  return Status::OK();
}

Status SnapshotBuilder::CaptureRocksDB(rocksdb::DB* db) {
  std::string db_id;
  RECDB_RETURN_IF_ERROR(FromRocksDB(db->GetDbIdentity(db_id)));
  manifest_.db_id = db_id;
  // Every write acknowledged before this point has a sequence <= this and is
  // in the memtables or WAL the capture below flushes or copies.
  manifest_.sequence = db->GetLatestSequenceNumber();
  RECDB_RETURN_IF_ERROR(FromRocksDB(db->DisableFileDeletions()));
  FileDeletionsDisabled guard(db);
  rocksdb::LiveFilesStorageInfoOptions opts;
  opts.wal_size_for_flush = 0;  // always flush: small WAL copies, short recovery
  std::vector<rocksdb::LiveFileStorageInfo> files;
  RECDB_RETURN_IF_ERROR(FromRocksDB(db->GetLiveFilesStorageInfo(opts, &files)));
  for (const rocksdb::LiveFileStorageInfo& info : files) {
    const std::string rel = "db/" + info.relative_filename;
    if (!IsSafeRelativePath(rel)) {
      return Status::Internal("RocksDB named an unexpected live file " + info.relative_filename);
    }
    const std::string src = info.directory + "/" + info.relative_filename;
    const std::string dst = partial_path_ + "/" + rel;
    if (!info.replacement_contents.empty()) {  // CURRENT, as of the capture
      RECDB_RETURN_IF_ERROR(WriteNewFile(env_, dst, info.replacement_contents));
      manifest_.files.push_back(
          {rel, info.replacement_contents.size(), Crc32c(info.replacement_contents)});
      continue;
    }
    if (info.file_type == rocksdb::kTableFile || info.file_type == rocksdb::kBlobFile) {
      RECDB_RETURN_IF_ERROR(
          PlaceImmutable(src, rel, info.size, info.file_type == rocksdb::kTableFile, true));
      continue;
    }
    if (info.file_type == rocksdb::kOptionsFile && !info.trim_to_size) {
      // Written once under a fresh number, never changed: shared when equal
      // (size and CRC) to the previous snapshot's; else copied, since the
      // live database deletes old OPTIONS files.
      RECDB_RETURN_IF_ERROR(
          PlaceImmutable(src, rel, info.size, /*is_sst=*/false, /*may_link_source=*/false));
      continue;
    }
    // MANIFEST, WAL, IDENTITY: copied, up to the captured size.
    ManifestFile f;
    f.path = rel;
    RECDB_RETURN_IF_ERROR(
        CopyFileChecked(env_, src, dst, info.trim_to_size ? info.size : UINT64_MAX, &f.size,
                        &f.crc32c));
    manifest_.files.push_back(std::move(f));
  }
  return Status::OK();
}

Status SnapshotBuilder::AddFile(const std::string& src, const std::string& rel) {
  if (!IsSafeRelativePath(rel) || rel == kSnapshotManifestName) {
    return Status::InvalidArgument("unsafe snapshot path \"" + rel + "\"");
  }
  RECDB_RETURN_IF_ERROR(EnsureParent(rel));
  std::error_code ec;
  const uint64_t size = fs::file_size(src, ec);
  if (ec) return Status::IOError("cannot stat " + src + ": " + ec.message());
  return PlaceImmutable(src, rel, size, /*is_sst=*/false, /*may_link_source=*/true);
}

StatusOr<SnapshotDirEntry> SnapshotBuilder::Commit(uint64_t format_version) {
  for (const std::string& rel : unchecked_) {
    ManifestFile f;
    f.path = rel;
    RECDB_RETURN_IF_ERROR(ChecksumFile(env_, partial_path_ + "/" + rel, &f.size, &f.crc32c));
    manifest_.files.push_back(std::move(f));
  }
  unchecked_.clear();
  std::sort(manifest_.files.begin(), manifest_.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  manifest_.format_version = format_version;
  manifest_.created_unix_micros = env_->NowMicros();
  for (const std::string& d : made_dirs_) RECDB_RETURN_IF_ERROR(SyncDir(env_, d));
  RECDB_RETURN_IF_ERROR(WriteNewFile(env_, partial_path_ + "/" + std::string(kSnapshotManifestName),
                                     SerializeManifest(manifest_)));
  RECDB_RETURN_IF_ERROR(SyncDir(env_, partial_path_));
  SnapshotDirEntry entry;
  entry.id = id_;
  entry.name = SnapshotDirName(id_);
  entry.path = backup_dir_ + "/" + entry.name;
  if (io::Rename(env_, partial_path_.c_str(), entry.path.c_str()) != 0) {
    return Status::IOError("cannot rename " + partial_path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
  RECDB_RETURN_IF_ERROR(SyncDir(env_, backup_dir_));
  entry.manifest = manifest_;
  // What this snapshot added: files not shared with the previous one.
  for (const ManifestFile& f : manifest_.files) {
    if (prev_path_.empty() || !SameInode(entry.path + "/" + f.path, prev_path_ + "/" + f.path)) {
      entry.unique_bytes += f.size;
    }
  }
  return entry;
}

}  // namespace recdb::storage
