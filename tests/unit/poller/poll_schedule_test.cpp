#include "poller/poll_schedule.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace tracermon::poller {
namespace {

using protocol::PollClass;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool has(const std::vector<PollClass>& v, PollClass c) {
  return std::find(v.begin(), v.end(), c) != v.end();
}

const model::PollIntervals k_intervals{seconds(5), seconds(60), seconds(3600), 8};

TEST(PollSchedule, EverythingIsDueAtStartThenEachClassByItsInterval) {
  core::SteadyTime t0{seconds(1000)};
  PollSchedule s(k_intervals, t0);
  auto due = s.due(t0);
  EXPECT_TRUE(has(due, PollClass::Fast) && has(due, PollClass::Slow) && has(due, PollClass::Once) &&
              has(due, PollClass::Settings));
  for (auto c : due)
    s.polled(c, t0, true);
  EXPECT_TRUE(s.due(t0 + seconds(4)).empty());
  EXPECT_EQ(s.next_due(), t0 + seconds(5));
  auto at5 = s.due(t0 + seconds(5));
  EXPECT_EQ(at5, std::vector<PollClass>{PollClass::Fast});
  s.polled(PollClass::Fast, t0 + seconds(5), true);
  EXPECT_TRUE(has(s.due(t0 + seconds(60)), PollClass::Slow));
  EXPECT_FALSE(has(s.due(t0 + seconds(60)), PollClass::Once)) << "once is read once";
}

TEST(PollSchedule, SlotsDoNotDriftWhenAPollRunsLate) {
  core::SteadyTime t0{seconds(0)};
  PollSchedule s(k_intervals, t0);
  s.polled(PollClass::Fast, t0 + milliseconds(300), true);  // the cycle took 300 ms
  EXPECT_FALSE(has(s.due(t0 + milliseconds(4999)), PollClass::Fast));
  EXPECT_TRUE(has(s.due(t0 + seconds(5)), PollClass::Fast));
}

TEST(PollSchedule, MissedSlotsAreNotMadeUpInABurst) {
  core::SteadyTime t0{seconds(0)};
  PollSchedule s(k_intervals, t0);
  s.polled(PollClass::Fast, t0 + seconds(23), true);  // the bus was stuck for 23 s
  EXPECT_FALSE(has(s.due(t0 + seconds(24)), PollClass::Fast));
  EXPECT_TRUE(has(s.due(t0 + seconds(28)), PollClass::Fast));
}

TEST(PollSchedule, IncompleteOnceIsAskedAgain) {
  core::SteadyTime t0{seconds(0)};
  PollSchedule s(k_intervals, t0);
  s.polled(PollClass::Once, t0, false);
  EXPECT_FALSE(has(s.due(t0 + seconds(1)), PollClass::Once));
  EXPECT_TRUE(has(s.due(t0 + seconds(60)), PollClass::Once));
}

TEST(PollSchedule, SilentDeviceIsSkippedForGrowingCyclesUpToTheCap) {
  core::SteadyTime t{seconds(0)};
  PollSchedule s(k_intervals, t);
  std::vector<long> skipped;
  for (int i = 0; i < 6; ++i) {
    s.no_answer(t);
    auto until = s.next_due();
    skipped.push_back(std::chrono::duration_cast<seconds>(until - t).count() / 5);
    EXPECT_TRUE(s.due(until - milliseconds(1)).empty());
    t = until;
  }
  EXPECT_EQ(skipped, (std::vector<long>{1, 2, 4, 8, 8, 8}));
  EXPECT_EQ(s.silent_cycles(), 6);
}

TEST(PollSchedule, ADeviceThatAnswersAgainHasItsRatedDataAndSettingsReadAgain) {
  core::SteadyTime t0{seconds(0)};
  PollSchedule s(k_intervals, t0);
  for (auto c : s.due(t0))
    s.polled(c, t0, true);
  s.no_answer(t0 + seconds(5));
  s.answered(t0 + seconds(10));
  auto due = s.due(t0 + seconds(10));
  EXPECT_TRUE(has(due, PollClass::Once));
  EXPECT_TRUE(has(due, PollClass::Settings));
  EXPECT_EQ(s.silent_cycles(), 0);
}

}  // namespace
}  // namespace tracermon::poller
