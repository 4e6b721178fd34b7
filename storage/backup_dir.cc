#include "storage/backup_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "storage/snapshot_files.h"

namespace recdb::storage {
namespace {

namespace fs = std::filesystem;

// A manifest larger than this is not one recdb wrote (4M files * ~60 bytes).
constexpr size_t kMaxManifestBytes = 256u << 20;

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

}  // namespace

std::string SnapshotDirName(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06llu", static_cast<unsigned long long>(id));
  return std::string(kSnapshotDirPrefix) + buf;
}

bool ParseSnapshotDirName(std::string_view name, uint64_t* id, bool* partial) {
  std::string_view digits;
  if (name.substr(0, kSnapshotDirPrefix.size()) == kSnapshotDirPrefix) {
    digits = name.substr(kSnapshotDirPrefix.size());
    *partial = false;
  } else if (name.substr(0, kPartialSnapshotPrefix.size()) == kPartialSnapshotPrefix) {
    digits = name.substr(kPartialSnapshotPrefix.size());
    *partial = true;
  } else {
    return false;
  }
  if (digits.empty() || digits.size() > 18) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *id);
  return ec == std::errc() && end == digits.data() + digits.size();
}

StatusOr<std::unique_ptr<BackupDirLock>> BackupDirLock::Acquire(const std::string& backup_dir) {
  const std::string path = backup_dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return Status::IOError("cannot lock " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<BackupDirLock>(new BackupDirLock(fd));
}

StatusOr<std::unique_ptr<BackupDirLock>> BackupDirLock::AcquireShared(
    const std::string& backup_dir, bool must_exist) {
  const std::string path = backup_dir + "/LOCK";
  int fd = must_exist ? ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
  if (fd < 0) {
    const int err = errno;
    if (must_exist && err != EACCES && err != EROFS && err != EPERM) {
      return Status::IOError("cannot open " + path + ": " + std::strerror(err));
    }
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // flock needs no write access
    if (fd < 0) {
      if (errno == ENOENT) return std::unique_ptr<BackupDirLock>();
      return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
    }
  }
  while (::flock(fd, LOCK_SH) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return Status::IOError("cannot lock " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<BackupDirLock>(new BackupDirLock(fd));
}

BackupDirLock::~BackupDirLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

Status ReadSnapshotManifest(Env* env, const std::string& snapshot_dir, SnapshotManifest* out) {
  std::string text;
  Status s = ReadSmallFile(env, snapshot_dir + "/" + std::string(kSnapshotManifestName),
                           kMaxManifestBytes, &text);
  if (s.IsNotFound()) {
    return Status::Corruption("snapshot " + snapshot_dir +
                              " is partial or damaged: it has no snapshot.manifest");
  }
  RECDB_RETURN_IF_ERROR(s);
  return ParseManifest(text, out).WithContext(snapshot_dir + "/" +
                                              std::string(kSnapshotManifestName));
}

bool IsSnapshotDir(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / std::string(kSnapshotManifestName), ec);
}

Status ListSnapshotDirs(Env* env, const std::string& backup_dir,
                        std::vector<SnapshotDirEntry>* out) {
  out->clear();
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec)) {
    return Status::NotFound("no backup directory " + backup_dir);
  }
  fs::directory_iterator it(backup_dir, ec);
  if (ec) return Status::IOError("cannot list " + backup_dir + ": " + ec.message());
  for (const fs::directory_entry& entry : it) {
    uint64_t id = 0;
    bool partial = false;
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory(ec) || !ParseSnapshotDirName(name, &id, &partial)) continue;
    SnapshotDirEntry e;
    e.id = id;
    e.name = name;
    e.path = entry.path().string();
    e.partial = partial;
    e.manifest_status = partial ? Status::Corruption("snapshot " + e.path + " is partial")
                                : ReadSnapshotManifest(env, e.path, &e.manifest);
    out->push_back(std::move(e));
  }
  std::sort(out->begin(), out->end(), [](const SnapshotDirEntry& a, const SnapshotDirEntry& b) {
    return a.id != b.id ? a.id < b.id : a.partial < b.partial;
  });
  // Bytes each snapshot added: files whose inode no earlier snapshot holds.
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (SnapshotDirEntry& e : *out) {
    if (!e.manifest_status.ok()) continue;
    for (const ManifestFile& f : e.manifest.files) {
      struct stat st{};
      if (::stat((e.path + "/" + f.path).c_str(), &st) != 0) continue;
      if (seen.insert({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)}).second) {
        e.unique_bytes += f.size;
      }
    }
  }
  return Status::OK();
}

uint64_t VerifySnapshotFiles(Env* env, const std::string& snapshot_dir, const SnapshotManifest& manifest,
                             std::vector<FileProblem>* problems, VerifiedInodes* verified) {
  uint64_t bytes_read = 0;
  for (const ManifestFile& f : manifest.files) {
    const std::string path = snapshot_dir + "/" + f.path;
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
      problems->push_back({f.path, "missing (" + std::string(std::strerror(errno)) + ")"});
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      problems->push_back({f.path, "not a regular file"});
      continue;
    }
    uint64_t size = 0;
    uint32_t crc = 0;
    const auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    auto cached = verified != nullptr ? verified->find(key) : VerifiedInodes::iterator();
    if (verified != nullptr && cached != verified->end() &&
        cached->second.first == static_cast<uint64_t>(st.st_size)) {
      size = cached->second.first;
      crc = cached->second.second;
    } else {
      Status s = ChecksumFile(env, path, &size, &crc);
      if (!s.ok()) {
        problems->push_back({f.path, s.ToString()});
        continue;
      }
      bytes_read += size;
      if (verified != nullptr) (*verified)[key] = {size, crc};
    }
    if (size != f.size) {
      problems->push_back({f.path, "size " + std::to_string(size) + " bytes, manifest says " +
                                       std::to_string(f.size)});
    } else if (crc != f.crc32c) {
      problems->push_back(
          {f.path, "crc32c " + Hex8(crc) + " does not match the manifest's " + Hex8(f.crc32c)});
    }
  }
  return bytes_read;
}

Status CopySnapshotFiles(Env* env, const std::string& snapshot_dir, const SnapshotManifest& manifest,
                         const std::string& dest_dir, const std::vector<std::string>& skip,
                         uint64_t* bytes) {
  *bytes = 0;
  std::set<std::string> dirs;
  for (const ManifestFile& f : manifest.files) {
    if (std::find(skip.begin(), skip.end(), f.path) != skip.end()) continue;
    const std::string src = snapshot_dir + "/" + f.path;
    const std::string dst = dest_dir + "/" + f.path;
    const std::string parent = fs::path(dst).parent_path().string();
    if (dirs.insert(parent).second) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec) return Status::IOError("cannot create " + parent + ": " + ec.message());
    }
    uint64_t size = 0;
    uint32_t crc = 0;
    Status s = CopyFileChecked(env, src, dst, UINT64_MAX, &size, &crc);
    if (!s.ok()) {
      if (!fs::exists(src)) return Status::Corruption(f.path + ": missing from the snapshot");
      return s.WithContext(f.path);
    }
    if (size != f.size) {
      return Status::Corruption(f.path + ": size " + std::to_string(size) +
                                " bytes, manifest says " + std::to_string(f.size));
    }
    if (crc != f.crc32c) {
      return Status::Corruption(f.path + ": crc32c " + Hex8(crc) +
                                " does not match the manifest's " + Hex8(f.crc32c));
    }
    *bytes += size;
  }
  dirs.insert(dest_dir);
  for (const std::string& d : dirs) RECDB_RETURN_IF_ERROR(SyncDir(env, d));
  return Status::OK();
}

Status RemoveSnapshotDir(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::IOError("cannot remove " + path + ": " + ec.message());
  return Status::OK();
}

StatusOr<std::unique_ptr<BackupDirLock>> LockForReading(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path normal = fs::path(path).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();  // "dir/"
  uint64_t id = 0;
  bool partial = false;
  if (IsSnapshotDir(path) || ParseSnapshotDirName(normal.filename().string(), &id, &partial)) {
    const fs::path parent = normal.parent_path();
    return BackupDirLock::AcquireShared(parent.empty() ? "." : parent.string(),
                                        /*must_exist=*/false);
  }
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return std::unique_ptr<BackupDirLock>();
  return BackupDirLock::AcquireShared(path);
}

}  // namespace recdb::storage
