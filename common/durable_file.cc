#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/file_io.h"

namespace recdb {
namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status WriteAll(Env* env, int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t w = io::Write(env, fd, data.data(), data.size(), path);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path);
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::OK();
}

Status FsyncParentDirectory(Env* env, const std::string& path) {
  const std::string dir = DirName(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open directory", dir);
  const int rc = io::Fsync(env, dfd, dir);
  ::close(dfd);
  if (rc != 0) return ErrnoStatus("fsync directory", dir);
  return Status::OK();
}

Status WriteFileDurably(Env* env, const std::string& path, std::string_view head,
                        std::string_view body) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", tmp);
  Status s = WriteAll(env, fd, head, tmp);
  if (s.ok()) s = WriteAll(env, fd, body, tmp);
  if (s.ok() && io::Fsync(env, fd, tmp) != 0) s = ErrnoStatus("fsync", tmp);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus("close", tmp);
  if (s.ok() && io::Rename(env, tmp.c_str(), path.c_str()) != 0) s = ErrnoStatus("rename", tmp);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncParentDirectory(env, path);  // the rename is durable only once the entry is
}

Status ErrnoStatus(std::string_view what, const std::string& path) {
  return Status::IOError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

StatusOr<ReadOnlyFile> ReadOnlyFile::Open(Env* env, const std::string& path) {
  const int fd = io::Open(env, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return ErrnoStatus("open", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus("stat", path);
    ::close(fd);
    return s;
  }
  return ReadOnlyFile(fd, static_cast<size_t>(st.st_size), path);
}

ReadOnlyFile::ReadOnlyFile(ReadOnlyFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), path_(std::move(other.path_)) {}

ReadOnlyFile& ReadOnlyFile::operator=(ReadOnlyFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

ReadOnlyFile::~ReadOnlyFile() {
  if (fd_ >= 0) ::close(fd_);
}

StatusOr<std::string> ReadWholeFile(Env* env, const std::string& path) {
  RECDB_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(env, path));
  std::string bytes(file.size(), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t r = io::Read(env, file.fd(), bytes.data() + done, bytes.size() - done, path);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      return r < 0 ? ErrnoStatus("read", path) : Status::IOError("read " + path + ": file shrank");
    }
    done += static_cast<size_t>(r);
  }
  return bytes;
}

}  // namespace recdb
