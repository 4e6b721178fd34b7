// RetireOnThisThread (engine/recommend/retire.h): a replaced serving model is
// freed on the thread that replaced it (the background Train), after the
// requests still holding it let go, never on a request thread.
#include "engine/recommend/retire.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace recdb {
namespace {

using namespace std::chrono_literals;

// Records the thread that destroyed it.
struct Tracked {
  explicit Tracked(std::atomic<std::thread::id>* freed_by) : freed_by_(freed_by) {}
  ~Tracked() { freed_by_->store(std::this_thread::get_id()); }
  std::atomic<std::thread::id>* freed_by_;
};

TEST(RetireTest, FreesOnTheCallingThreadAfterTheLastRequestLetsGo) {
  std::atomic<std::thread::id> freed_by{};
  auto model = std::make_shared<const Tracked>(&freed_by);
  std::atomic<bool> holding{false};
  // An in-flight request holds a copy for 50 ms and then drops it.
  std::thread request([copy = model, &holding]() mutable {
    holding = true;
    std::this_thread::sleep_for(50ms);
    copy.reset();
  });
  while (!holding.load()) std::this_thread::yield();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(RetireOnThisThread(std::move(model)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms) << "it waited for the request";
  EXPECT_EQ(freed_by.load(), std::this_thread::get_id()) << "freed by the retiring thread";
  request.join();
}

TEST(RetireTest, GivesUpAfterMaxWaitAndTheLastHolderFreesIt) {
  std::atomic<std::thread::id> freed_by{};
  auto model = std::make_shared<const Tracked>(&freed_by);
  std::shared_ptr<const Tracked> stuck = model;  // a holder that does not let go
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(RetireOnThisThread(std::move(model), 20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  EXPECT_EQ(freed_by.load(), std::thread::id()) << "still alive: the holder has it";
  std::thread holder([s = std::move(stuck)]() mutable { s.reset(); });
  const std::thread::id holder_id = holder.get_id();
  holder.join();
  EXPECT_EQ(freed_by.load(), holder_id);
}

TEST(RetireTest, AnUnsharedModelIsFreedAtOnce) {
  std::atomic<std::thread::id> freed_by{};
  EXPECT_TRUE(RetireOnThisThread(std::make_shared<const Tracked>(&freed_by)));
  EXPECT_EQ(freed_by.load(), std::this_thread::get_id());
  EXPECT_FALSE(RetireOnThisThread(std::shared_ptr<const Tracked>()));
}

}  // namespace
}  // namespace recdb
