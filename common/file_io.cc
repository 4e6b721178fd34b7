#include "common/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

namespace recdb::io {
namespace {

struct FaultState {
  std::atomic<bool> armed{false};
  std::atomic<int> kind{0};
  std::atomic<uint64_t> n{0};
  std::atomic<bool> persistent{false};
  std::atomic<bool> fired{false};
  std::atomic<uint64_t> counts[kFaultKinds] = {};
};

FaultState& State() {
  static FaultState state;
  return state;
}

// True if this call must fail (errno is then EIO).
bool Inject(FaultKind k) {
  FaultState& s = State();
  if (!s.armed.load(std::memory_order_relaxed)) return false;
  const int i = static_cast<int>(k);
  const uint64_t c = s.counts[i].fetch_add(1, std::memory_order_relaxed) + 1;
  const uint64_t n = s.n.load(std::memory_order_relaxed);
  if (n == 0 || s.kind.load(std::memory_order_relaxed) != i) return false;
  if (c == n || (c > n && s.persistent.load(std::memory_order_relaxed))) {
    s.fired.store(true, std::memory_order_relaxed);
    errno = EIO;
    return true;
  }
  return false;
}

}  // namespace

int Open(const char* path, int flags) {
  if (Inject(FaultKind::kOpen)) return -1;
  return ::open(path, flags);
}

ssize_t Write(int fd, const void* buf, size_t n) {
  if (Inject(FaultKind::kWrite)) return -1;
  return ::write(fd, buf, n);
}

ssize_t Read(int fd, void* buf, size_t n) {
  if (Inject(FaultKind::kRead)) return -1;
  return ::read(fd, buf, n);
}

int Fsync(int fd) {
  if (Inject(FaultKind::kSync)) return -1;
  return ::fsync(fd);
}

int Rename(const char* from, const char* to) {
  if (Inject(FaultKind::kRename)) return -1;
  return std::rename(from, to);
}

void SetFaultForTesting(FaultKind kind, uint64_t n, bool persistent) {
  FaultState& s = State();
  s.armed.store(false);
  for (auto& c : s.counts) c.store(0);
  s.kind.store(static_cast<int>(kind));
  s.n.store(n);
  s.persistent.store(persistent);
  s.fired.store(false);
  s.armed.store(true);
}

void ClearFaultForTesting() { State().armed.store(false); }

uint64_t CallCountForTesting(FaultKind kind) {
  return State().counts[static_cast<int>(kind)].load();
}

bool FaultFiredForTesting() { return State().fired.load(); }

}  // namespace recdb::io
