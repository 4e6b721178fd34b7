#include "common/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace recdb::io {
namespace {

// True if the Env refuses this operation (errno is then EIO). The default
// Env allows everything: skip the virtual call.
bool Refused(Env* env, FileOperationKind kind, std::string_view path) {
  if (env == Env::Default()) return false;
  if (env->OnFileOperation(FileOperation{kind, FileOwner::kRecdb, path}).ok()) return false;
  errno = EIO;
  return true;
}

}  // namespace

int Open(Env* env, const char* path, int flags) {
  if (Refused(env, FileOperationKind::kOpen, path)) return -1;
  return ::open(path, flags);
}

ssize_t Write(Env* env, int fd, const void* buf, size_t n, std::string_view path) {
  if (Refused(env, FileOperationKind::kWrite, path)) return -1;
  return ::write(fd, buf, n);
}

ssize_t Read(Env* env, int fd, void* buf, size_t n, std::string_view path) {
  if (Refused(env, FileOperationKind::kRead, path)) return -1;
  return ::read(fd, buf, n);
}

int Fsync(Env* env, int fd, std::string_view path) {
  if (Refused(env, FileOperationKind::kSync, path)) return -1;
  return ::fsync(fd);
}

int Rename(Env* env, const char* from, const char* to) {
  if (Refused(env, FileOperationKind::kRename, from)) return -1;
  return std::rename(from, to);
}

}  // namespace recdb::io
