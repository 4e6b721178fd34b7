// EvalJob: the one background evaluation of `recdb serve` (POST /v1/eval
// starts it, GET /v1/eval polls it). DB::Evaluate takes seconds at ml-100k
// and minutes on larger data; it runs on a thread of its own, so the
// server's request threads stay free and every other route keeps answering.
//
// One job at a time: Start while a job runs is FailedPrecondition (HTTP 409).
// A finished job's report (or error) stays until the next Start. Progress
// comes from EvaluateOptions::progress: the step running ("fit ials",
// "sweep diversity=0.5"), steps done and in all, and the seconds elapsed.
//
// Cancel (POST /v1/eval/cancel) asks a running job to stop: the evaluator
// stops at its next checkpoint (EvaluateOptions::cancelled, before each
// step) and the job's state becomes "cancelled"; until then it is
// "running" with "cancelling": true.
//
// Thread-safety: every method may be called from any thread. The destructor
// cancels a running evaluation and waits for it to stop (within one step),
// so destroy the job before closing the DB.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb::serve {

class EvalJob {
 public:
  // Runs one evaluation: DB::Evaluate, or a stand-in in tests.
  using Runner = std::function<StatusOr<EvaluationReport>(const EvaluateOptions&)>;

  explicit EvalJob(Runner runner);
  ~EvalJob();
  EvalJob(const EvalJob&) = delete;
  EvalJob& operator=(const EvalJob&) = delete;

  // Starts an evaluation with `options` (their progress callback is set
  // here) and returns the status document. `request` is the request's JSON,
  // echoed by Describe. Errors: FailedPrecondition when a job is running.
  StatusOr<nlohmann::ordered_json> Start(EvaluateOptions options, nlohmann::ordered_json request);

  // Asks the running job to stop at its next checkpoint and returns the
  // status document. `job`, when given, must be the running job's number
  // (so a late cancel cannot stop a newer job). Errors: FailedPrecondition
  // when no job runs or `job` is another one.
  StatusOr<nlohmann::ordered_json> Cancel(std::optional<uint64_t> job);

  // {"state": "idle" | "running" | "done" | "failed" | "cancelled", "job": N,
  //  "request": {...}, "started_unix": T, "seconds": S, "step": "fit ials",
  //  "steps_done": n, "steps_total": m, "report": {...} (done),
  //  "error": {"code", "message"} (failed), "cancelling": true (running,
  //  cancel asked)}; tools/serve/openapi.yaml.
  nlohmann::ordered_json Describe() const;

 private:
  void Run(EvaluateOptions options);
  nlohmann::ordered_json DescribeLocked() const;  // mu_ held

  const Runner runner_;
  mutable std::mutex mu_;
  // Guarded by mu_:
  std::string state_ = "idle";
  uint64_t job_ = 0;
  nlohmann::ordered_json request_;
  int64_t started_unix_ = 0;
  std::chrono::steady_clock::time_point started_;
  double seconds_ = 0;  // once finished
  std::string step_;
  int steps_done_ = 0;
  int steps_total_ = 0;
  nlohmann::ordered_json report_;  // done
  std::optional<Status> error_;  // failed
  bool cancel_requested_ = false;  // the running job was asked to stop
  std::thread thread_;  // the last job's; joined before the next starts
};

}  // namespace recdb::serve
