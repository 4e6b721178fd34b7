// The POSIX file calls recdb's own files make (index checkpoints, snapshot
// files, model files), behind one seam: each first reports the operation to
// the database's Env (recdb/env.h, Env::OnFileOperation, owner kRecdb), and
// fails with EIO without doing anything when the Env says no; otherwise it
// behaves as the POSIX call it names (return value and errno). RocksDB's
// files report to the same Env through storage/env_file_system.h.
// `path` names the file for the Env (for Write/Read/Fsync, the file `fd` is
// open on). REQUIRES: env is not null.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string_view>

#include "recdb/env.h"

namespace recdb::io {

// ::open(path, flags) for reading (no mode argument: not for O_CREAT); a
// kOpen operation. Used by ReadOnlyFile (common/durable_file.h), so the Env
// can fail the opening of a model file before it is mapped.
int Open(Env* env, const char* path, int flags);
ssize_t Write(Env* env, int fd, const void* buf, size_t n, std::string_view path);
ssize_t Read(Env* env, int fd, void* buf, size_t n, std::string_view path);
int Fsync(Env* env, int fd, std::string_view path);
int Rename(Env* env, const char* from, const char* to);

}  // namespace recdb::io
