#include "core/clock.hpp"

#include <atomic>
#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>

namespace tracermon::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto k_hang = seconds(60);  // real time: only a hang takes this long

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock;
  auto steady = clock.steady_now();
  auto wall = clock.wall_now();
  EXPECT_EQ(clock.steady_now(), steady);
  clock.advance(milliseconds(1500));
  EXPECT_EQ(clock.steady_now() - steady, milliseconds(1500));
  EXPECT_EQ(clock.wall_now() - wall, milliseconds(1500));
  clock.set_wall(wall - std::chrono::hours(1));
  EXPECT_EQ(clock.wall_now(), wall - std::chrono::hours(1));
  EXPECT_EQ(clock.steady_now() - steady, milliseconds(1500)) << "the steady clock never jumps";
}

TEST(ManualClock, AWaitEndsWhenTheClockReachesItsDeadline) {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  auto deadline = clock.steady_now() + seconds(1);
  auto waiter = std::async(std::launch::async, [&] {
    std::unique_lock lock(mutex);
    return clock.wait_until(lock, cv, deadline, [] { return false; });
  });
  ASSERT_TRUE(clock.await_idle());
  clock.advance(milliseconds(999));
  ASSERT_TRUE(clock.await_idle()) << "asleep again: not yet due";
  EXPECT_EQ(waiter.wait_for(milliseconds(0)), std::future_status::timeout);
  clock.advance(milliseconds(1));
  ASSERT_EQ(waiter.wait_for(k_hang), std::future_status::ready);
  EXPECT_FALSE(waiter.get());
}

TEST(ManualClock, AWaitEndsWhenItsConditionHolds) {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  auto waiter = std::async(std::launch::async, [&] {
    std::unique_lock lock(mutex);
    return clock.wait_until(lock, cv, SteadyTime::max(), [&] { return done; });
  });
  ASSERT_TRUE(clock.await_idle());
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  cv.notify_all();
  ASSERT_EQ(waiter.wait_for(k_hang), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
}

TEST(ManualClock, NoAdvanceIsMissedByAWaiter) {
  // One advance per round, made while the waiter is anywhere between reading its deadline and
  // sleeping: a lost wake-up leaves the round unfinished.
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  constexpr int k_rounds = 500;
  std::atomic<int> armed{0};
  std::atomic<int> finished{0};
  bool quit = false;  // guarded by `mutex`: ends the waiter when the test fails
  auto waiter = std::async(std::launch::async, [&] {
    for (int i = 1; i <= k_rounds; ++i) {
      std::unique_lock lock(mutex);
      if (quit) return;
      auto deadline = clock.steady_now() + milliseconds(1);
      armed = i;
      clock.wait_until(lock, cv, deadline, [&] { return quit; });
      finished = i;
    }
  });
  struct Release {
    std::function<void()> run;
    ~Release() { run(); }
  } release{[&] {
    {
      std::lock_guard lock(mutex);
      quit = true;
    }
    cv.notify_all();
  }};
  auto limit = std::chrono::steady_clock::now() + k_hang;
  auto until = [&](const std::atomic<int>& counter, int value) {
    while (counter < value && std::chrono::steady_clock::now() < limit)
      std::this_thread::yield();
    return counter >= value;
  };
  for (int i = 1; i <= k_rounds; ++i) {
    ASSERT_TRUE(until(armed, i));
    clock.advance(milliseconds(1));
    ASSERT_TRUE(until(finished, i)) << "round " << i << " missed its wake-up";
  }
  ASSERT_EQ(waiter.wait_for(k_hang), std::future_status::ready);
}

}  // namespace
}  // namespace tracermon::core
