// Clock: where recdb reads the time. Retention, trending and the scheduler's
// manual mode use it, so tests substitute a FakeClock and move time by hand.
// A database reads its wall time from its Env (recdb/env.h) through EnvClock.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "recdb/env.h"

namespace recdb {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock seconds since the Unix epoch.
  virtual int64_t NowSeconds() const = 0;
  // Monotonic milliseconds (arbitrary origin), for timing and timers.
  virtual int64_t NowMonotonicMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowSeconds() const override {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  }
  int64_t NowMonotonicMillis() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
  // A process-wide instance.
  static SystemClock* Default() {
    static SystemClock clock;
    return &clock;
  }
};

// The wall clock of an Env (Options::env): an application's Env moves the
// time a database's retention and privacy deadlines see. Monotonic time
// stays the process's (the scheduler's timers). REQUIRES: env outlives it.
class EnvClock final : public Clock {
 public:
  explicit EnvClock(Env* env) : env_(env) {}
  int64_t NowSeconds() const override { return env_->NowSeconds(); }
  int64_t NowMonotonicMillis() const override {
    return SystemClock::Default()->NowMonotonicMillis();
  }

 private:
  Env* const env_;
};

// A clock that moves only when told to. Both readings advance together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_seconds = 1700000000) : seconds_(now_seconds) {}
  int64_t NowSeconds() const override { return seconds_.load(); }
  int64_t NowMonotonicMillis() const override { return millis_.load(); }
  void AdvanceSeconds(int64_t s) {
    seconds_ += s;
    millis_ += s * 1000;
  }
  // Moves monotonic time by `ms`; wall seconds follow in whole seconds.
  void AdvanceMillis(int64_t ms) {
    int64_t before = millis_.fetch_add(ms);
    seconds_ += (before + ms) / 1000 - before / 1000;
  }
  void SetSeconds(int64_t s) { seconds_ = s; }

 private:
  std::atomic<int64_t> seconds_;
  std::atomic<int64_t> millis_{0};
};

}  // namespace recdb
