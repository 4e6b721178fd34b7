#include "engine/scheduler.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

namespace recdb {

namespace asio = boost::asio;

struct Scheduler::Job {
  JobId id = 0;
  std::string name;
  Fn fn;
  Duration period{0};  // 0: one-shot
  std::atomic<bool> cancelled{false};
  // Threaded mode only.
  std::unique_ptr<asio::steady_timer> timer;
  // Manual mode only: virtual due time.
  int64_t due_ms = 0;
};

struct Scheduler::Impl {
  // Threaded mode.
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::vector<std::thread> workers;

  mutable std::mutex mu;
  std::condition_variable idle_cv;
  bool shut_down = false;                        // GUARDED_BY(mu)
  JobId next_id = 1;                             // GUARDED_BY(mu)
  size_t in_flight = 0;                          // GUARDED_BY(mu): queued or running
  std::map<JobId, std::shared_ptr<Job>> jobs;    // GUARDED_BY(mu): live jobs
  std::map<std::string, JobStats> stats_by_name;  // GUARDED_BY(mu)
  // Manual mode: virtual clock and the queue ordered by (due, id).
  int64_t now_ms = 0;                                           // GUARDED_BY(mu)
  std::map<std::pair<int64_t, JobId>, std::shared_ptr<Job>> due;  // GUARDED_BY(mu)
};

Scheduler::Scheduler(int threads) : threads_(std::max(0, threads)), impl_(new Impl) {
  if (threads_ > 0) {
    impl_->guard.emplace(asio::make_work_guard(impl_->io));
    for (int i = 0; i < threads_; ++i) {
      impl_->workers.emplace_back([this] { impl_->io.run(); });
    }
  }
}

Scheduler::~Scheduler() { Shutdown(); }

void Scheduler::RunJob(const std::shared_ptr<Job>& job) {
  if (!job->cancelled.load()) {
    const Status s = job->fn();
    std::lock_guard<std::mutex> lock(impl_->mu);
    JobStats& st = impl_->stats_by_name[job->name];
    st.runs++;
    st.last_run_failed = !s.ok();
    if (!s.ok()) {
      st.failures++;
      st.last_error = s.ToString();
    }
  }
  bool rearm = false;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    rearm = job->period.count() > 0 && !job->cancelled.load() && !impl_->shut_down;
    if (!rearm) impl_->jobs.erase(job->id);
    if (manual() && rearm) {
      job->due_ms = impl_->now_ms + job->period.count();
      impl_->due[{job->due_ms, job->id}] = job;
    }
  }
  if (rearm && !manual()) ArmTimer(job);
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!manual()) {
    impl_->in_flight--;
    impl_->idle_cv.notify_all();
  }
}

void Scheduler::ArmTimer(const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->shut_down || job->cancelled.load()) return;
  impl_->in_flight++;
  job->timer->expires_after(job->period);
  job->timer->async_wait([this, job](const boost::system::error_code& ec) {
    if (ec) {  // cancelled or shut down
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->jobs.erase(job->id);
      impl_->in_flight--;
      impl_->idle_cv.notify_all();
      return;
    }
    RunJob(job);
  });
}

Scheduler::JobId Scheduler::Post(std::string name, Fn fn) {
  auto job = std::make_shared<Job>();
  job->name = std::move(name);
  job->fn = std::move(fn);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->shut_down) return 0;
    job->id = impl_->next_id++;
    impl_->jobs[job->id] = job;
    if (manual()) {
      job->due_ms = impl_->now_ms;
      impl_->due[{job->due_ms, job->id}] = job;
      return job->id;
    }
    impl_->in_flight++;
  }
  asio::post(impl_->io, [this, job] { RunJob(job); });
  return job->id;
}

Scheduler::JobId Scheduler::Every(std::string name, Duration period, Fn fn) {
  auto job = std::make_shared<Job>();
  job->name = std::move(name);
  job->fn = std::move(fn);
  job->period = std::max(period, Duration(1));
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->shut_down) return 0;
    job->id = impl_->next_id++;
    impl_->jobs[job->id] = job;
    if (manual()) {
      job->due_ms = impl_->now_ms + job->period.count();
      impl_->due[{job->due_ms, job->id}] = job;
      return job->id;
    }
  }
  job->timer = std::make_unique<asio::steady_timer>(impl_->io);
  ArmTimer(job);
  return job->id;
}

void Scheduler::Cancel(JobId id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->jobs.find(id);
  if (it == impl_->jobs.end()) return;
  auto job = it->second;
  job->cancelled = true;
  if (manual()) {
    impl_->due.erase({job->due_ms, job->id});
    impl_->jobs.erase(it);
  } else if (job->timer) {
    asio::post(impl_->io, [job] { job->timer->cancel(); });
  }
}

size_t Scheduler::RunPending() { return AdvanceBy(Duration(0)); }

size_t Scheduler::AdvanceBy(Duration d) {
  if (!manual()) return 0;
  size_t runs = 0;
  int64_t target;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    target = impl_->now_ms + d.count();
  }
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      if (impl_->shut_down || impl_->due.empty()) break;
      auto it = impl_->due.begin();
      if (it->first.first > target) break;
      job = it->second;
      impl_->now_ms = std::max(impl_->now_ms, it->first.first);
      impl_->due.erase(it);
    }
    RunJob(job);
    ++runs;
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->now_ms = std::max(impl_->now_ms, target);
  return runs;
}

void Scheduler::Drain() {
  if (manual()) return;
  std::unique_lock<std::mutex> lock(impl_->mu);
  // Periodic jobs keep a timer armed, which counts as in flight; Drain waits
  // for one-shot work only, so it subtracts armed periodic timers.
  impl_->idle_cv.wait(lock, [this] {
    size_t periodic = 0;
    for (const auto& [id, job] : impl_->jobs) {
      if (job->period.count() > 0 && !job->cancelled.load()) ++periodic;
    }
    return impl_->in_flight <= periodic;
  });
}

void Scheduler::Shutdown() {
  std::vector<std::shared_ptr<Job>> live;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
    for (auto& [id, job] : impl_->jobs) {
      job->cancelled = true;
      live.push_back(job);
    }
    impl_->due.clear();
  }
  if (!manual()) {
    for (auto& job : live) {
      if (job->timer) asio::post(impl_->io, [job] { job->timer->cancel(); });
    }
    impl_->guard.reset();
    for (auto& t : impl_->workers) {
      if (t.joinable()) t.join();
    }
    impl_->workers.clear();
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->jobs.clear();
}

std::vector<Scheduler::JobStats> Scheduler::Stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<JobStats> out;
  for (const auto& [name, st] : impl_->stats_by_name) {
    out.push_back(st);
    out.back().name = name;
  }
  return out;
}

}  // namespace recdb
