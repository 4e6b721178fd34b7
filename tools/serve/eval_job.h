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
// Thread-safety: every method may be called from any thread. The destructor
// waits for a running evaluation to finish (DB::Evaluate cannot be
// cancelled), so destroy the job before closing the DB.
#pragma once

#include <chrono>
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

  // {"state": "idle" | "running" | "done" | "failed", "job": N,
  //  "request": {...}, "started_unix": T, "seconds": S, "step": "fit ials",
  //  "steps_done": n, "steps_total": m, "report": {...} (done),
  //  "error": {"code", "message"} (failed)}; tools/serve/openapi.yaml.
  nlohmann::ordered_json Describe() const;

 private:
  void Run(EvaluateOptions options);

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
  std::thread thread_;  // the last job's; joined before the next starts
};

}  // namespace recdb::serve
