// Whole-file writes that survive a crash, and whole-file reads, for recdb's
// own derived files (model files; index checkpoints stream through
// index/index_file.h instead). Every call goes through common/file_io.h, so
// the database's Env (recdb/env.h) sees, and may fail, any open, write,
// sync, rename or read. REQUIRES (every function): env is not null.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "recdb/env.h"
#include "recdb/status.h"

namespace recdb {

// Writes `head` then `body` to `<path>.tmp`, fsyncs it, renames it over
// `path` and fsyncs the directory: a crash leaves the old file or the new
// one, never a mix. IOError on any failure (the temp file is removed and the
// old file at `path` is untouched).
Status WriteFileDurably(Env* env, const std::string& path, std::string_view head,
                        std::string_view body);

// A file open for reading and its size at open time; the descriptor is
// closed when the object goes. Move-only. Shared by ReadWholeFile and the
// model file's mapping (engine/recommend/model_file.cc), so both report a
// missing or unreadable file the same way.
class ReadOnlyFile {
 public:
  // The opened file. NotFound when `path` does not exist; IOError when it
  // cannot be opened (io::Open, a fault point) or stat'ed.
  static StatusOr<ReadOnlyFile> Open(Env* env, const std::string& path);

  ReadOnlyFile(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile& operator=(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  ~ReadOnlyFile();

  int fd() const { return fd_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  ReadOnlyFile(int fd, size_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}

  int fd_;
  size_t size_;
  std::string path_;
};

// IOError "<what> <path>: <strerror(errno)>".
Status ErrnoStatus(std::string_view what, const std::string& path);

// Writes all of `data` to `fd` through io::Write, retrying short writes and
// EINTR; IOError naming `path` otherwise.
Status WriteAll(Env* env, int fd, std::string_view data, const std::string& path);

// Fsyncs the directory holding `path`: a rename into it is durable only
// once the directory entry is.
Status FsyncParentDirectory(Env* env, const std::string& path);

// The whole file. NotFound when it does not exist; IOError otherwise.
StatusOr<std::string> ReadWholeFile(Env* env, const std::string& path);

}  // namespace recdb
