#include "storage/snapshot_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "common/crc32c.h"
#include "common/file_io.h"

namespace recdb::storage {
namespace {

constexpr size_t kBufferBytes = 1u << 20;

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

// Closes the descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// read() until `n` bytes or EOF; returns bytes read or -1.
ssize_t ReadFull(Env* env, int fd, char* buf, size_t n, const std::string& path) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = io::Read(env, fd, buf + got, n - got, path);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

Status WriteFull(Env* env, int fd, const char* buf, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = io::Write(env, fd, buf + done, n - done, path);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    done += static_cast<size_t>(w);
  }
  return Status::OK();
}

}  // namespace

Status ChecksumFile(Env* env, const std::string& path, uint64_t* size, uint32_t* crc32c) {
  Fd in(io::Open(env, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return Errno("cannot open", path);
  ::posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<char[]> buf(new char[kBufferBytes]);
  uint32_t crc = 0;
  uint64_t total = 0;
  for (;;) {
    ssize_t r = ReadFull(env, in.fd, buf.get(), kBufferBytes, path);
    if (r < 0) return Errno("cannot read", path);
    if (r == 0) break;
    crc = Crc32cExtend(crc, buf.get(), static_cast<size_t>(r));
    total += static_cast<uint64_t>(r);
  }
  *size = total;
  *crc32c = crc;
  return Status::OK();
}

Status CopyFileChecked(Env* env, const std::string& src, const std::string& dst, uint64_t limit,
                       uint64_t* size, uint32_t* crc32c) {
  Fd in(io::Open(env, src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return Errno("cannot open", src);
  ::posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.fd < 0) return Errno("cannot create", dst);
  std::unique_ptr<char[]> buf(new char[kBufferBytes]);
  uint32_t crc = 0;
  uint64_t total = 0;
  while (total < limit) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kBufferBytes, limit - total));
    ssize_t r = ReadFull(env, in.fd, buf.get(), want, src);
    if (r < 0) return Errno("cannot read", src);
    if (r == 0) break;
    RECDB_RETURN_IF_ERROR(WriteFull(env, out.fd, buf.get(), static_cast<size_t>(r), dst));
    crc = Crc32cExtend(crc, buf.get(), static_cast<size_t>(r));
    total += static_cast<uint64_t>(r);
  }
  if (limit != UINT64_MAX && total != limit) {
    return Status::Corruption(src + " is shorter (" + std::to_string(total) +
                              " bytes) than expected (" + std::to_string(limit) + ")");
  }
  if (io::Fsync(env, out.fd, dst) != 0) return Errno("cannot fsync", dst);
  *size = total;
  *crc32c = crc;
  return Status::OK();
}

Status WriteNewFile(Env* env, const std::string& dst, const std::string& contents) {
  Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.fd < 0) return Errno("cannot create", dst);
  RECDB_RETURN_IF_ERROR(WriteFull(env, out.fd, contents.data(), contents.size(), dst));
  if (io::Fsync(env, out.fd, dst) != 0) return Errno("cannot fsync", dst);
  return Status::OK();
}

Status ReadSmallFile(Env* env, const std::string& path, size_t max_bytes, std::string* out) {
  Fd in(io::Open(env, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return Errno("cannot open", path);
  }
  out->clear();
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t r = ReadFull(env, in.fd, buf.data(), buf.size(), path);
    if (r < 0) return Errno("cannot read", path);
    if (r == 0) break;
    out->append(buf.data(), static_cast<size_t>(r));
    if (out->size() > max_bytes) return Status::Corruption(path + " is larger than expected");
  }
  return Status::OK();
}

bool TryHardLink(const std::string& src, const std::string& dst) {
  return ::link(src.c_str(), dst.c_str()) == 0;
}

Status SyncDir(Env* env, const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0) return Errno("cannot open directory", dir);
  if (io::Fsync(env, d.fd, dir) != 0) return Errno("cannot fsync directory", dir);
  return Status::OK();
}

bool SameInode(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace recdb::storage
