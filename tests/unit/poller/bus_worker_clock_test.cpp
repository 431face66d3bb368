// The bus worker on a manual clock: the poll schedule, a silent device's backoff and the link
// retry run in steps a test takes, not in real waiting. Only the wire (the in-process
// simulator, a few ms a request) takes real time. After each step the test waits until the
// worker sleeps again having seen the new time, so it counts exactly what that step caused.

#include <set>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "poller/bus_worker.hpp"
#include "worker_rig.hpp"

namespace tracermon::poller {
namespace {

using protocol::PollClass;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Collector;
using test::Tap;

const protocol::RegisterMap& map() {
  return protocol::RegisterMap::builtin();
}

struct Rig {
  core::ManualClock time;
  ClockWatch watch{time};
  Collector got;
  std::shared_ptr<Tap> tap = std::make_shared<Tap>();
  std::unique_ptr<BusWorker> worker;

  Rig(const std::string& sim_options, const std::vector<std::uint8_t>& polled,
      model::PollIntervals intervals, bool unplugged = false) {
    auto setup = test::setup_for(sim_options, polled);
    setup.intervals = intervals;
    tap->unplugged = unplugged;
    auto client = test::tapped_client(setup, tap);
    worker = std::make_unique<BusWorker>(std::move(setup), map(), watch, got.callback(), time,
                                         std::move(client));
  }
  // One step of the manual clock; returns once the worker has done what fell due.
  void step(std::chrono::milliseconds d) {
    time.advance(d);
    ASSERT_TRUE(time.await_idle()) << "the worker did not go back to sleep";
  }
};

// The poll classes whose fields a snapshot carries.
std::set<PollClass> classes_of(const model::DeviceSnapshot& s) {
  std::set<PollClass> classes;
  for (const auto& f : s.fields)
    classes.insert(map().field(f.id).poll);
  return classes;
}

TEST(BusWorkerClock, TheFastClassIsPolledOncePerFastInterval) {
  Rig rig("ids=1&seed=31&turnaround-ms=2", {1},
          {milliseconds(200), milliseconds(1000), seconds(3600), 8});
  rig.worker->start();
  ASSERT_TRUE(rig.time.await_idle());
  ASSERT_EQ(rig.got.count("dev1"), 1U) << "everything is read once at start";
  auto first = rig.got.all().back();
  EXPECT_TRUE(classes_of(*first).contains(PollClass::Settings));
  EXPECT_EQ(first->time, rig.time.wall_now()) << "snapshots carry the manual clock's time";

  for (std::size_t i = 1; i <= 5; ++i) {
    rig.step(milliseconds(100));
    EXPECT_EQ(rig.got.count("dev1"), i) << "half an interval: nothing is due";
    rig.step(milliseconds(100));
    ASSERT_EQ(rig.got.count("dev1"), i + 1) << "step " << i;
    auto s = rig.got.all().back();
    EXPECT_EQ(s->time, rig.time.wall_now());
    EXPECT_EQ(s->steady, rig.time.steady_now());
    std::set<PollClass> expected{PollClass::Fast};
    if (i == 5) expected.insert(PollClass::Slow);  // 1000 ms after the start
    EXPECT_EQ(classes_of(*s), expected) << "step " << i;
  }
  rig.worker->stop();
}

TEST(BusWorkerClock, EachFieldIsDatedByItsOwnRequestNotByTheEndOfTheCycle) {
  // A slow bus: every request takes a second of the manual clock. The controller clock's drift
  // compares its RTC words with the host time they were read at, so dating them at the end of a
  // long cycle would show seconds of drift that are not there.
  Rig rig("ids=1&seed=5&turnaround-ms=2", {1},
          {milliseconds(200), milliseconds(1000), seconds(3600), 8});
  rig.tap->on_request = [&](const transport::Bytes&, std::size_t) { rig.time.advance(seconds(1)); };
  rig.worker->start();
  ASSERT_TRUE(rig.got.wait([](const auto& all) { return !all.empty(); }));
  rig.worker->stop();
  auto first = rig.got.all().front();
  std::set<core::WallTime> times;
  for (const auto& f : first->fields) {
    EXPECT_EQ(f.wall_time - first->time, f.read_at - first->steady) << map().field(f.id).name;
    times.insert(f.wall_time);
  }
  EXPECT_GT(times.size(), 5U) << "fields of different requests carry different times";
  EXPECT_LE(*times.rbegin(), first->time);
  EXPECT_LE(*times.begin(), first->time - seconds(5));
}

TEST(BusWorkerClock, ASilentDeviceIsTriedAfterOneTwoFourAndEightFastCycles) {
  Rig rig("ids=1&seed=32&turnaround-ms=2", {1, 3},
          {milliseconds(200), seconds(60), seconds(3600), 8});
  rig.worker->start();
  ASSERT_TRUE(rig.time.await_idle());
  std::vector<int> tried{0};
  for (int step = 1; step <= 24; ++step) {
    auto before = rig.got.count("dev3");
    rig.step(milliseconds(200));
    ASSERT_EQ(rig.got.count("dev1"), static_cast<std::size_t>(step) + 1) << "dev1 every cycle";
    if (rig.got.count("dev3") > before) tried.push_back(step);
  }
  rig.worker->stop();
  EXPECT_EQ(tried, (std::vector<int>{0, 1, 3, 7, 15, 23}));
  auto dead = rig.worker->status().devices[1];
  EXPECT_EQ(dead.health, model::Health::Offline);
  EXPECT_EQ(dead.counters.cycles, tried.size());
}

TEST(BusWorkerClock, APortThatIsGoneIsRetriedAfterOneTwoFourAndEightSeconds) {
  // One-cycle device backoff, so what spaces the tries is the link's own backoff.
  Rig rig("ids=1&seed=33&turnaround-ms=2", {1}, {seconds(1), seconds(60), seconds(3600), 1},
          /*unplugged=*/true);
  rig.worker->start();
  ASSERT_TRUE(rig.time.await_idle());
  std::vector<int> tried{0};
  for (int step = 1; step <= 16; ++step) {
    auto before = rig.got.count("dev1");
    rig.step(seconds(1));
    if (rig.got.count("dev1") > before) tried.push_back(step);
  }
  EXPECT_EQ(tried, (std::vector<int>{0, 1, 3, 7, 15}));
  auto status = rig.worker->status();
  EXPECT_FALSE(status.link_up);
  EXPECT_NE(status.link_error.find("unplugged"), std::string::npos) << status.link_error;
  EXPECT_TRUE(rig.tap->frames().empty());

  // Plugged in again: the next retry (16 s after the last) reads, then every second.
  rig.tap->unplugged = false;
  for (int step = 17; step <= 30; ++step)
    rig.step(seconds(1));
  EXPECT_EQ(rig.got.count("dev1"), tried.size()) << "still waiting for the retry";
  rig.step(seconds(1));
  ASSERT_EQ(rig.got.count("dev1"), tried.size() + 1);
  EXPECT_EQ(rig.got.all().back()->health, model::Health::Online);
  EXPECT_TRUE(rig.worker->status().link_up);
  rig.step(seconds(1));
  EXPECT_EQ(rig.got.count("dev1"), tried.size() + 2);
  rig.worker->stop();
}

}  // namespace
}  // namespace tracermon::poller
