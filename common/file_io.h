// The POSIX file calls recdb's own files make (index checkpoints, snapshot
// files, model files), behind one seam so that tests can fail the N-th open
// for reading, write, sync, rename or read with EIO (tests/fault/recdb_files_fault_test.cc), as
// storage/fault_injection.h does for RocksDB's I/O. Each wrapper behaves as
// the POSIX call it names (return value and errno); unarmed, the only extra
// cost is one relaxed atomic load.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace recdb::io {

enum class FaultKind { kWrite = 0, kSync = 1, kRename = 2, kRead = 3, kOpen = 4 };
inline constexpr int kFaultKinds = 5;

// ::open(path, flags) for reading (no mode argument: not for O_CREAT). Used
// by ReadOnlyFile (common/durable_file.h), so kOpen fails the opening of a
// model file before it is mapped.
int Open(const char* path, int flags);
ssize_t Write(int fd, const void* buf, size_t n);
ssize_t Read(int fd, void* buf, size_t n);
int Fsync(int fd);
int Rename(const char* from, const char* to);

// Test only. Arms the hook and zeroes the counters: from now on every call
// is counted per kind, and the n-th call of `kind` (n >= 1) fails with EIO
// without doing anything, as does every later one of that kind if
// `persistent`. n == 0 only counts. Process-wide; not for concurrent tests.
void SetFaultForTesting(FaultKind kind, uint64_t n, bool persistent);
// Disarms the hook (calls are no longer counted or failed).
void ClearFaultForTesting();
// Calls of `kind` since the last SetFaultForTesting (failed ones included).
uint64_t CallCountForTesting(FaultKind kind);
// Whether the armed fault has failed at least one call.
bool FaultFiredForTesting();

}  // namespace recdb::io
