#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace recdb {
namespace {

using std::chrono::milliseconds;

TEST(SchedulerTest, ManualModeRunsNothingUntilStepped) {
  Scheduler s(0);
  int runs = 0;
  s.Post("once", [&] { ++runs; return Status::OK(); });
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(s.RunPending(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(s.RunPending(), 0u);
}

TEST(SchedulerTest, ManualModeRunsPeriodicJobsInDueOrder) {
  Scheduler s(0);
  std::vector<std::string> order;
  s.Every("a", milliseconds(100), [&] { order.push_back("a"); return Status::OK(); });
  s.Every("b", milliseconds(250), [&] { order.push_back("b"); return Status::OK(); });
  EXPECT_EQ(s.AdvanceBy(milliseconds(99)), 0u);
  EXPECT_EQ(s.AdvanceBy(milliseconds(401)), 7u);  // a@100,200,300,400,500 b@250,500
  // At t=500 both are due; ties run in job-id order, so a (id 1) before b (id 2).
  EXPECT_EQ(order, (std::vector<std::string>{"a", "a", "b", "a", "a", "a", "b"}));
}

TEST(SchedulerTest, ManualModeJobsMayPostJobs) {
  Scheduler s(0);
  int runs = 0;
  s.Post("parent", [&] {
    s.Post("child", [&] { ++runs; return Status::OK(); });
    return Status::OK();
  });
  EXPECT_EQ(s.RunPending(), 2u);
  EXPECT_EQ(runs, 1);
}

TEST(SchedulerTest, CancelStopsPeriodicJob) {
  Scheduler s(0);
  int runs = 0;
  auto id = s.Every("p", milliseconds(10), [&] { ++runs; return Status::OK(); });
  s.AdvanceBy(milliseconds(30));
  EXPECT_EQ(runs, 3);
  s.Cancel(id);
  s.AdvanceBy(milliseconds(100));
  EXPECT_EQ(runs, 3);
}

TEST(SchedulerTest, ThreadedModeRunsPostedJobs) {
  Scheduler s(2);
  std::atomic<int> runs{0};
  for (int i = 0; i < 100; ++i) s.Post("n", [&] { runs++; return Status::OK(); });
  s.Drain();
  EXPECT_EQ(runs.load(), 100);
  auto stats = s.Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].runs, 100u);
}

TEST(SchedulerTest, ThreadedPeriodicJobNeverOverlapsItself) {
  Scheduler s(2);
  std::atomic<int> running{0}, max_running{0}, runs{0};
  s.Every("slow", milliseconds(1), [&] {
    int now = ++running;
    max_running = std::max(max_running.load(), now);
    std::this_thread::sleep_for(milliseconds(3));
    --running;
    ++runs;
    return Status::OK();
  });
  while (runs.load() < 5) std::this_thread::sleep_for(milliseconds(1));
  s.Shutdown();
  EXPECT_EQ(max_running.load(), 1);
}

TEST(SchedulerTest, FailedRunsAreCountedAndTheLastErrorKept) {
  Scheduler s(0);
  int run = 0;
  s.Every("flaky", milliseconds(10), [&] {
    ++run;
    if (run == 2) return Status::IOError("disk full on run 2");
    if (run == 3) return Status::Corruption("bad block on run 3");
    return Status::OK();
  });
  s.AdvanceBy(milliseconds(10));
  auto stats = s.Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].name, "flaky");
  EXPECT_EQ(stats[0].failures, 0u);
  EXPECT_FALSE(stats[0].last_run_failed);
  EXPECT_EQ(stats[0].last_error, "");
  s.AdvanceBy(milliseconds(20));  // runs 2 and 3 fail
  stats = s.Stats();
  EXPECT_EQ(stats[0].runs, 3u);
  EXPECT_EQ(stats[0].failures, 2u);
  EXPECT_TRUE(stats[0].last_run_failed);
  EXPECT_NE(stats[0].last_error.find("bad block on run 3"), std::string::npos) << stats[0].last_error;
  s.AdvanceBy(milliseconds(10));  // run 4 succeeds: the last error stays, flagged as past
  stats = s.Stats();
  EXPECT_EQ(stats[0].runs, 4u);
  EXPECT_EQ(stats[0].failures, 2u);
  EXPECT_FALSE(stats[0].last_run_failed);
  EXPECT_NE(stats[0].last_error.find("bad block on run 3"), std::string::npos);
}

TEST(SchedulerTest, ShutdownDropsLaterJobs) {
  Scheduler s(1);
  s.Shutdown();
  EXPECT_EQ(s.Post("late", [] { return Status::OK(); }), 0u);
  s.Shutdown();  // idempotent
}

}  // namespace
}  // namespace recdb
