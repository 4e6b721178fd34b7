// The backup-directory functions of recdb/snapshot.h: list, verify, prune.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <new>
#include <set>

#include "engine/snapshot/snapshot_info.h"
#include "engine/no_throw.h"
#include "recdb/snapshot.h"
#include "storage/backup_dir.h"

namespace recdb {

namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

namespace snapshot {

SnapshotInfo ToSnapshotInfo(const storage::SnapshotDirEntry& e) {
  SnapshotInfo info;
  info.id = e.id;
  info.name = e.name;
  info.path = e.path;
  info.unique_bytes = e.unique_bytes;
  if (!e.manifest_status.ok()) {
    info.problem = e.manifest_status.ToString();
    return info;
  }
  info.sequence_number = e.manifest.sequence;
  info.format_version = e.manifest.format_version;
  info.created_unix_micros = e.manifest.created_unix_micros;
  info.files = e.manifest.files.size();
  info.bytes = e.manifest.TotalBytes();
  return info;
}

}  // namespace snapshot

StatusOr<std::vector<SnapshotInfo>> ListSnapshots(const std::string& backup_dir) {
  return NoThrow([&]() -> StatusOr<std::vector<SnapshotInfo>> {
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<storage::BackupDirLock> lock,
                           storage::LockForReading(backup_dir));
    std::vector<storage::SnapshotDirEntry> entries;
    RECDB_RETURN_IF_ERROR(storage::ListSnapshotDirs(Env::Default(), backup_dir, &entries));
    std::vector<SnapshotInfo> out;
    for (const auto& e : entries) out.push_back(snapshot::ToSnapshotInfo(e));
    return out;
  });
}

StatusOr<VerifyReport> VerifySnapshots(const std::string& path) {
  return NoThrow([&]() -> StatusOr<VerifyReport> {
    namespace fs = std::filesystem;
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<storage::BackupDirLock> lock,
                           storage::LockForReading(path));
    std::vector<storage::SnapshotDirEntry> entries;
    fs::path normal = fs::path(path).lexically_normal();
    if (normal.filename().empty()) normal = normal.parent_path();  // "dir/"
    uint64_t id = 0;
    bool partial = false;
    if (storage::IsSnapshotDir(path) ||
        storage::ParseSnapshotDirName(normal.filename().string(), &id, &partial)) {
      // One snapshot (a "snapshot-N" without a manifest is a damaged one).
      storage::SnapshotDirEntry e;
      e.path = path;
      e.name = normal.filename().string();
      e.manifest_status = storage::ReadSnapshotManifest(Env::Default(), path, &e.manifest);
      entries.push_back(std::move(e));
    } else {
      Status s = storage::ListSnapshotDirs(Env::Default(), path, &entries);
      if (s.IsNotFound()) return Status::NotFound("no snapshot or backup directory " + path);
      RECDB_RETURN_IF_ERROR(s);
    }
    VerifyReport report;
    storage::VerifiedInodes verified;
    for (const storage::SnapshotDirEntry& e : entries) {
      if (e.partial) continue;  // not a snapshot: an interrupted create
      report.snapshots++;
      if (!e.manifest_status.ok()) {
        report.problems.push_back(
            {e.name, std::string(storage::kSnapshotManifestName), e.manifest_status.ToString()});
        continue;
      }
      std::vector<storage::FileProblem> problems;
      report.bytes_read += storage::VerifySnapshotFiles(Env::Default(), e.path, e.manifest,
                                                        &problems, &verified);
      report.files += e.manifest.files.size();
      for (auto& p : problems) report.problems.push_back({e.name, p.file, p.message});
    }
    return report;
  });
}

StatusOr<PruneReport> PruneSnapshots(const std::string& backup_dir,
                                     const PruneOptions& options) {
  return NoThrow([&]() -> StatusOr<PruneReport> {
    if (options.keep < 0) return Status::InvalidArgument("prune: keep must be >= 0");
    if (options.max_age_seconds < 0) {
      return Status::InvalidArgument("prune: max_age_seconds must be >= 0");
    }
    std::vector<storage::SnapshotDirEntry> entries;
    RECDB_RETURN_IF_ERROR(storage::ListSnapshotDirs(Env::Default(), backup_dir, &entries));
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<storage::BackupDirLock> lock,
                           storage::BackupDirLock::Acquire(backup_dir));
    // Listed again under the lock: a create may have finished meanwhile.
    RECDB_RETURN_IF_ERROR(storage::ListSnapshotDirs(Env::Default(), backup_dir, &entries));
    const int64_t now = NowMicros();
    std::vector<const storage::SnapshotDirEntry*> remove, keep;
    int64_t rank = 0;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      if (it->partial) {
        remove.push_back(&*it);  // left by a crashed create: we hold the lock
        continue;
      }
      const bool too_many = rank++ >= options.keep;
      const bool too_old = options.max_age_seconds > 0 && it->manifest_status.ok() &&
                           now - it->manifest.created_unix_micros >
                               options.max_age_seconds * int64_t{1000000};
      (too_many || too_old ? remove : keep).push_back(&*it);
    }
    // Bytes freed: inodes no kept snapshot holds and every link of which is
    // in a removed snapshot (a link from the live database keeps it).
    std::set<std::pair<uint64_t, uint64_t>> kept_inodes;
    for (const auto* e : keep) {
      std::error_code ec;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(e->path, ec)) {
        struct stat st{};
        if (entry.is_regular_file(ec) && ::stat(entry.path().c_str(), &st) == 0) {
          kept_inodes.insert({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
        }
      }
    }
    struct Inode {
      uint64_t size = 0;
      uint64_t links = 0;
      uint64_t seen = 0;
    };
    std::map<std::pair<uint64_t, uint64_t>, Inode> removed_inodes;
    for (const auto* e : remove) {
      std::error_code ec;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(e->path, ec)) {
        struct stat st{};
        if (!entry.is_regular_file(ec) || ::stat(entry.path().c_str(), &st) != 0) continue;
        const auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
        if (kept_inodes.count(key)) continue;
        Inode& node = removed_inodes[key];
        node.size = static_cast<uint64_t>(st.st_size);
        node.links = static_cast<uint64_t>(st.st_nlink);
        node.seen++;
      }
    }
    PruneReport report;
    for (const auto& [key, node] : removed_inodes) {
      if (node.seen >= node.links) report.bytes_freed += node.size;
    }
    for (const auto* e : remove) {
      RECDB_RETURN_IF_ERROR(storage::RemoveSnapshotDir(e->path));
      if (!e->partial) report.removed.push_back(e->name);
    }
    for (auto it = keep.rbegin(); it != keep.rend(); ++it) report.kept.push_back((*it)->name);
    std::reverse(report.removed.begin(), report.removed.end());
    return report;
  });
}

}  // namespace recdb
