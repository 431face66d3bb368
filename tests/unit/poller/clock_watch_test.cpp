#include "poller/clock_watch.hpp"

#include <gtest/gtest.h>

namespace tracermon::poller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct FakeClocks {
  core::WallTime wall = ClockWatch::trust_floor() + std::chrono::hours(24 * 300);
  core::SteadyTime steady{seconds(100)};
  void advance(milliseconds d) {
    wall += d;
    steady += d;
  }
};

TEST(ClockWatch, SteadyClocksGiveNoJump) {
  FakeClocks c;
  ClockWatch watch([&] { return c.wall; }, [&] { return c.steady; });
  for (int i = 0; i < 5; ++i) {
    c.advance(seconds(5));
    auto r = watch.now();
    EXPECT_FALSE(r.jump);
    EXPECT_TRUE(r.trusted);
  }
  EXPECT_EQ(watch.jumps(), 0U);
}

TEST(ClockWatch, AJumpForwardAndBackIsReportedOnceEach) {
  FakeClocks c;
  ClockWatch watch([&] { return c.wall; }, [&] { return c.steady; });
  watch.now();
  c.wall += std::chrono::hours(3);  // NTP arrives
  c.advance(seconds(5));
  auto forward = watch.now();
  ASSERT_TRUE(forward.jump);
  EXPECT_EQ(*forward.jump, std::chrono::hours(3));
  c.advance(seconds(5));
  EXPECT_FALSE(watch.now().jump);
  c.wall -= seconds(90);
  auto back = watch.now();
  ASSERT_TRUE(back.jump);
  EXPECT_EQ(*back.jump, -seconds(90));
  EXPECT_EQ(watch.jumps(), 2U);
}

TEST(ClockWatch, ATimeBeforeTheReleaseIsNotTrusted) {
  FakeClocks c;
  c.wall = core::WallTime{seconds(0)};  // a Pi without RTC booting at 1970
  ClockWatch watch([&] { return c.wall; }, [&] { return c.steady; });
  EXPECT_FALSE(watch.now().trusted);
}

}  // namespace
}  // namespace tracermon::poller
