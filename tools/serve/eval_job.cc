#include "tools/serve/eval_job.h"

#include <ctime>
#include <exception>
#include <utility>

#include "tools/cli/recommend_json.h"

namespace recdb::serve {

EvalJob::EvalJob(Runner runner) : runner_(std::move(runner)) {}

EvalJob::~EvalJob() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_requested_ = true;  // a server shutting down need not finish the eval
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

StatusOr<nlohmann::ordered_json> EvalJob::Start(EvaluateOptions options,
                                                nlohmann::ordered_json request) {
  std::thread previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == "running") {
      return Status::FailedPrecondition("an evaluation is running (job " + std::to_string(job_) +
                                        "): poll GET /v1/eval and start the next when it is done");
    }
    // The previous job's thread has finished its work (state is not
    // running); join it outside the lock below.
    previous = std::move(thread_);
    state_ = "running";
    ++job_;
    request_ = std::move(request);
    started_unix_ = static_cast<int64_t>(std::time(nullptr));
    started_ = std::chrono::steady_clock::now();
    seconds_ = 0;
    step_ = "load events";
    steps_done_ = 0;
    steps_total_ = 0;
    report_ = nullptr;
    error_.reset();
    cancel_requested_ = false;
  }
  if (previous.joinable()) previous.join();
  options.progress = [this](const std::string& step, int done, int total) {
    std::lock_guard<std::mutex> lock(mu_);
    step_ = step;
    steps_done_ = done;
    steps_total_ = total;
  };
  options.cancelled = [this]() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancel_requested_;
  };
  std::thread t([this, options = std::move(options)]() mutable { Run(std::move(options)); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    thread_ = std::move(t);
  }
  return Describe();
}

void EvalJob::Run(EvaluateOptions options) {
  StatusOr<EvaluationReport> report = Status::Internal("eval: no result");
  try {
    report = runner_(options);
  } catch (const std::exception& e) {
    report = Status::Internal(std::string("eval: unexpected error: ") + e.what());
  }
  nlohmann::ordered_json doc;
  if (report.ok()) doc = cli::EvaluationToJson(*report);
  std::lock_guard<std::mutex> lock(mu_);
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (report.ok()) {
    state_ = "done";
    steps_done_ = steps_total_;
    step_.clear();
    report_ = std::move(doc);
  } else if (cancel_requested_ && report.status().code() == StatusCode::kAborted) {
    state_ = "cancelled";
    error_ = report.status();
  } else {
    state_ = "failed";
    error_ = report.status();
  }
}

StatusOr<nlohmann::ordered_json> EvalJob::Cancel(std::optional<uint64_t> job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != "running") {
    return Status::FailedPrecondition("no evaluation is running (state " + state_ +
                                      "): nothing to cancel");
  }
  if (job && *job != job_) {
    return Status::FailedPrecondition("job " + std::to_string(*job) + " is not running (job " +
                                      std::to_string(job_) + " is)");
  }
  cancel_requested_ = true;
  return DescribeLocked();
}

nlohmann::ordered_json EvalJob::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  return DescribeLocked();
}

nlohmann::ordered_json EvalJob::DescribeLocked() const {
  nlohmann::ordered_json j;
  j["state"] = state_;
  if (state_ == "idle") return j;
  j["job"] = job_;
  j["request"] = request_;
  j["started_unix"] = started_unix_;
  j["seconds"] = state_ == "running" ? std::chrono::duration<double>(
                                           std::chrono::steady_clock::now() - started_)
                                           .count()
                                     : seconds_;
  j["step"] = step_;
  j["steps_done"] = steps_done_;
  j["steps_total"] = steps_total_;
  if (state_ == "done") j["report"] = report_;
  if (state_ == "running" && cancel_requested_) j["cancelling"] = true;
  if ((state_ == "failed" || state_ == "cancelled") && error_) {
    j["error"] = {{"code", StatusCodeName(error_->code())}, {"message", error_->message()}};
  }
  return j;
}

}  // namespace recdb::serve
