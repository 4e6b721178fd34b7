// FaultInjectionEnv: the recdb::Env (recdb/env.h) the tests open databases
// with (Options::env) to move time by hand, count file operations and fail
// the N-th one, as LevelDB's and RocksDB's fault-injection Envs do. It
// replaces the process-global hooks the fault suites used to install; it
// sees recdb's own files (common/file_io.h) and RocksDB's
// (storage/env_file_system.h) alike, told apart by FileOperation::owner.
//
//   test::FaultInjectionEnv env;
//   Options o = ...; o.env = &env;
//   env.Arm(FileOperationKind::kSync, 3);   // the 3rd sync from now fails
//   ... open a DB, write ...
//   env.Disarm();
//
// Thread-safety: every method may be called concurrently (a database calls
// it from RocksDB's background threads); counters are atomic. Arm and
// Disarm are meant for a quiescent database.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "recdb/env.h"
#include "recdb/status.h"

namespace recdb {
// Names a FileOperationKind parameter in gtest's output (ADL finds it; one
// definition for every test file, so every instantiation prints alike).
inline void PrintTo(FileOperationKind kind, std::ostream* os) {
  *os << FileOperationKindName(kind);
}
}  // namespace recdb

namespace recdb::test {

class FaultInjectionEnv final : public Env {
 public:
  // The clock starts at `now_seconds`; nullopt: the system clock (until
  // SetNowSeconds).
  explicit FaultInjectionEnv(std::optional<int64_t> now_seconds = std::nullopt) {
    if (now_seconds) SetNowSeconds(*now_seconds);
  }

  // --- Faults ---
  // From now on, the `n`-th (1-based) operation of `kind` (of `owner` only,
  // if given) fails with IOError "injected fault: <kind> <path>"; if
  // `persistent`, every later one of them too (a dead disk), otherwise only
  // that one (a transient error). Replaces any earlier arming.
  // REQUIRES: n >= 1.
  void Arm(FileOperationKind kind, uint64_t n, bool persistent = false,
           std::optional<FileOwner> owner = std::nullopt) {
    armed_kind_.store(-1);
    owner_filter_.store(owner ? static_cast<int>(*owner) : -1);
    persistent_.store(persistent);
    fail_at_.store(n);
    seen_.store(0);
    armed_kind_.store(static_cast<int>(kind));
  }
  // No more failures; counting goes on.
  void Disarm() { armed_kind_.store(-1); }

  // Operations of `kind` by `owner` since construction or ResetCounts()
  // (failed ones included).
  uint64_t count(FileOperationKind kind, FileOwner owner) const {
    return counts_[static_cast<int>(owner)][static_cast<int>(kind)].load();
  }
  // Of both owners.
  uint64_t count(FileOperationKind kind) const {
    return count(kind, FileOwner::kRecdb) + count(kind, FileOwner::kStorage);
  }
  void ResetCounts() {
    for (auto& by_owner : counts_) {
      for (auto& c : by_owner) c.store(0);
    }
  }
  // Failures injected since construction.
  uint64_t injected() const { return injected_.load(); }

  Status OnFileOperation(const FileOperation& op) override {
    const int k = static_cast<int>(op.kind);
    const int o = static_cast<int>(op.owner);
    ++counts_[o][k];
    if (armed_kind_.load() != k) return Status::OK();
    const int filter = owner_filter_.load();
    if (filter >= 0 && filter != o) return Status::OK();
    const uint64_t c = ++seen_;
    const uint64_t at = fail_at_.load();
    if (c == at || (persistent_.load() && c > at)) {
      ++injected_;
      return Status::IOError(std::string("injected fault: ") + FileOperationKindName(op.kind) +
                             " " + std::string(op.path));
    }
    return Status::OK();
  }

  // --- Clock ---
  int64_t NowMicros() override {
    const int64_t fake = now_micros_.load();
    return fake >= 0 ? fake : Env::NowMicros();
  }
  void SetNowSeconds(int64_t seconds) { now_micros_.store(seconds * 1'000'000); }
  // REQUIRES: the clock was set (constructor or SetNowSeconds).
  void AdvanceSeconds(int64_t seconds) { now_micros_ += seconds * 1'000'000; }

  // Caps every sleep RocksDB asks for at 10 ms: after a failed background
  // flush or compaction RocksDB sleeps a hard-coded second, which was ~90%
  // of a fault sweep's wall time with the CPU idle.
  void SleepForMicroseconds(int64_t micros) override {
    Env::SleepForMicroseconds(std::min<int64_t>(micros, 10'000));
  }

 private:
  std::atomic<uint64_t> counts_[2][kNumFileOperationKinds] = {};
  std::atomic<int> armed_kind_{-1};  // -1: disarmed
  std::atomic<int> owner_filter_{-1};  // -1: any owner
  std::atomic<bool> persistent_{false};
  std::atomic<uint64_t> fail_at_{0};
  std::atomic<uint64_t> seen_{0};  // armed-kind operations since Arm
  std::atomic<uint64_t> injected_{0};
  std::atomic<int64_t> now_micros_{-1};  // -1: the system clock
};

}  // namespace recdb::test
