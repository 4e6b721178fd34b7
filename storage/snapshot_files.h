// File primitives of snapshots and backups: checksum a file, copy it while
// checksumming, hard-link it, fsync files and directories.
//
// Every function returns IOError naming the path on a file-system failure.
// Opens for reading, reads, writes and fsyncs go through `env`
// (common/file_io.h: the database's Env sees and may fail each one);
// creating a file and hard-linking do not. REQUIRES: env is not null.
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <string>

#include "recdb/env.h"
#include "recdb/status.h"

namespace recdb::storage {

// CRC-32C and size of the whole file `path`.
Status ChecksumFile(Env* env, const std::string& path, uint64_t* size, uint32_t* crc32c);

// Copies the first `limit` bytes of `src` (all of it if limit == UINT64_MAX)
// to a new file `dst` (which must not exist), fsyncs it, and returns the
// bytes copied and their CRC-32C. Errors: IOError; Corruption if `src` is
// shorter than a finite `limit`.
Status CopyFileChecked(Env* env, const std::string& src, const std::string& dst, uint64_t limit,
                       uint64_t* size, uint32_t* crc32c);

// Writes `contents` to a new file `dst` and fsyncs it.
Status WriteNewFile(Env* env, const std::string& dst, const std::string& contents);

// Reads the whole file (at most `max_bytes`; larger is Corruption).
Status ReadSmallFile(Env* env, const std::string& path, size_t max_bytes, std::string* out);

// Hard-links `src` as `dst`. Returns false (and no error) when the file
// systems differ or links are not supported, so the caller copies instead.
bool TryHardLink(const std::string& src, const std::string& dst);

// fsyncs a directory, so a rename or new entry in it is durable.
Status SyncDir(Env* env, const std::string& dir);

// True if `a` and `b` name the same inode.
bool SameInode(const std::string& a, const std::string& b);

}  // namespace recdb::storage
