// Scheduler: the one place background work runs (docs/DESIGN.md decision 7):
// retention sweeps, retraining, index checkpoints, snapshots.
//
// Two modes:
//  - threaded (threads > 0): a Boost.Asio io_context run by `threads` worker
//    threads; periodic jobs are steady_timers re-armed after each run, so a job
//    never overlaps itself.
//  - manual (threads == 0): nothing runs by itself. A test calls RunPending()
//    to run the jobs that are due, or AdvanceBy() to move the scheduler's
//    virtual time and run what comes due, in due-time order, on the calling
//    thread. Manual mode is fully deterministic.
//
// A job returns a Status: a failed run is counted and its message kept as the
// job's last error (Stats(); DB::GetStats().background_jobs), never dropped.
//
// Thread-safety: every method may be called from any thread, including from a
// job. Shutdown() waits for running jobs; jobs posted after it are dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "recdb/status.h"

namespace recdb {

class Scheduler {
 public:
  using JobId = uint64_t;
  using Duration = std::chrono::milliseconds;
  using Fn = std::function<Status()>;

  // threads == 0 selects manual mode.
  explicit Scheduler(int threads);
  ~Scheduler();  // calls Shutdown()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  bool manual() const { return threads_ == 0; }

  // Runs `fn` once, as soon as a worker is free (manual: at the next RunPending).
  // `name` appears in Stats(). Returns 0 if the scheduler is shut down.
  JobId Post(std::string name, Fn fn);

  // Runs `fn` every `period`, the first time `period` from now. Returns 0 if
  // the scheduler is shut down. REQUIRES: period > 0.
  JobId Every(std::string name, Duration period, Fn fn);

  // Stops future runs of a job; a run in progress completes. Unknown ids are ignored.
  void Cancel(JobId id);

  // Manual mode: runs every job due at the current virtual time (including
  // jobs those jobs post). Returns the number of runs. Threaded mode: 0.
  size_t RunPending();

  // Manual mode: moves virtual time forward by `d`, running each job as its
  // due time is reached, in (due time, id) order. Returns the number of runs.
  size_t AdvanceBy(Duration d);

  // Waits until no job is queued or running (threaded mode) -- for tests and Close.
  void Drain();

  // Stops accepting jobs, cancels timers, waits for running jobs and joins
  // the workers. Idempotent.
  void Shutdown();

  struct JobStats {
    std::string name;
    uint64_t runs = 0;
    uint64_t failures = 0;      // runs that returned an error
    bool last_run_failed = false;
    std::string last_error;     // the latest failed run's status; "" = none yet
  };
  // Per job name, in name order.
  std::vector<JobStats> Stats() const;

 private:
  struct Job;
  struct Impl;

  void RunJob(const std::shared_ptr<Job>& job);
  void ArmTimer(const std::shared_ptr<Job>& job);

  const int threads_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recdb
