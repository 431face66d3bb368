// Commands to a bus worker: one queue, answered within one poll block, deadlines, stop. The
// worker runs on a manual clock, so it polls only when a test says so; the wire is the
// in-process simulator behind a tap that logs every request.

#include "poller/bus_command.hpp"

#include <future>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "poller/bus_worker.hpp"
#include "protocol/pdu.hpp"
#include "worker_rig.hpp"

namespace tracermon::poller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Collector;
using test::Tap;

constexpr auto k_hang = seconds(60);  // real time: only a hang takes this long

const protocol::RegisterMap& map() {
  return protocol::RegisterMap::builtin();
}

protocol::FieldId field(const char* name) {
  return map().find(name)->id;
}

struct Rig {
  core::ManualClock time;
  ClockWatch watch{time};
  Collector got;
  std::shared_ptr<Tap> tap = std::make_shared<Tap>();
  std::unique_ptr<BusWorker> worker;

  Rig(const std::string& sim_options, const std::vector<std::uint8_t>& polled) {
    auto setup = test::setup_for(sim_options, polled);
    auto client = test::tapped_client(setup, tap);
    worker = std::make_unique<BusWorker>(std::move(setup), map(), watch, got.callback(), time,
                                         std::move(client));
  }
};

bool ready(ReadFuture& future, std::chrono::milliseconds limit) {
  return future.wait_for(limit) == std::future_status::ready;
}

TEST(BusCommand, AReadWhilePollingWaitsForAtMostOnePollBlock) {
  // Unit 1 is polled; the commands read unit 2, so every frame to unit 2 is a command's.
  Rig rig("ids=1,2&seed=21&turnaround-ms=2", {1});
  constexpr std::size_t k_submit_at = 5;  // in the middle of the first full read of unit 1
  std::promise<std::vector<ReadFuture>> submitted;
  rig.tap->on_request = [&](const transport::Bytes& frame, std::size_t index) {
    if (index != k_submit_at) return;
    EXPECT_EQ(frame[0], 1) << "a poll block is on the wire";
    std::vector<ReadFuture> futures;
    for (int i = 0; i < 3; ++i) {
      futures.push_back(rig.worker->submit({2, {field("battery_rated_voltage")}}));
    }
    submitted.set_value(std::move(futures));
  };
  rig.worker->start();
  auto waiting = submitted.get_future();
  ASSERT_EQ(waiting.wait_for(k_hang), std::future_status::ready);
  auto futures = waiting.get();
  for (auto& future : futures) {
    ASSERT_TRUE(ready(future, k_hang));
    auto result = future.get();
    ASSERT_TRUE(result) << result.error().describe();
    ASSERT_EQ(result.value().values.size(), 1U);
    EXPECT_EQ(result.value().values[0].raw, 2400) << "a Tracer AN is a 24 V unit";
  }
  ASSERT_TRUE(rig.time.await_idle());
  rig.worker->stop();

  // After the block that was on the wire (and its retries, if any) comes the first command;
  // then polls and commands take turns, one block each.
  auto frames = rig.tap->frames();
  std::size_t next = k_submit_at + 1;
  while (next < frames.size() && frames[next] == frames[k_submit_at])
    ++next;
  std::vector<int> units;
  for (std::size_t i = next; i < frames.size() && units.size() < 5; ++i) {
    if (i > next && frames[i] == frames[i - 1]) continue;  // a retry of the same request
    units.push_back(frames[i][0]);
  }
  EXPECT_EQ(units, (std::vector<int>{2, 1, 2, 1, 2}));
}

TEST(BusCommand, ACommandsTrafficIsCountedForItsDeviceNotForThePollItInterrupts) {
  Rig rig("ids=1&seed=26&turnaround-ms=2", {1});
  std::promise<std::vector<ReadFuture>> submitted;
  rig.tap->on_request = [&](const transport::Bytes&, std::size_t index) {
    if (index != 5) return;
    std::vector<ReadFuture> futures;
    futures.push_back(rig.worker->submit({9, {field("battery_rated_voltage")}}));  // absent
    futures.push_back(rig.worker->submit({1, {field("battery_rated_voltage")}}));
    submitted.set_value(std::move(futures));
  };
  rig.worker->start();
  auto waiting = submitted.get_future();
  ASSERT_EQ(waiting.wait_for(k_hang), std::future_status::ready);
  auto futures = waiting.get();
  for (auto& future : futures)
    ASSERT_TRUE(ready(future, k_hang));
  ASSERT_TRUE(rig.time.await_idle());
  rig.worker->stop();
  EXPECT_FALSE(futures[0].get());
  EXPECT_TRUE(futures[1].get());
  auto frames = rig.tap->frames();
  auto reads_of_1 = std::count_if(frames.begin(), frames.end(), [](const transport::Bytes& f) {
    return f[0] == 1 && f[1] != protocol::fc::k_encapsulated_interface;  // not identification
  });
  auto counters = rig.worker->status().devices[0].counters;
  EXPECT_EQ(counters.timeouts, 0U) << "the silence of id 9 is not dev1's";
  EXPECT_EQ(counters.requests, static_cast<std::uint64_t>(reads_of_1))
      << "the poll's requests and the command's to dev1";
  EXPECT_EQ(counters.replies, counters.requests);
}

TEST(BusCommand, AReadOfADeadDeviceIsAnsweredWithItsTimeout) {
  Rig rig("ids=1&seed=22&turnaround-ms=2", {1});
  rig.worker->start();
  ASSERT_TRUE(rig.time.await_idle()) << "the first poll is done";
  auto future = rig.worker->submit({9, {field("battery_rated_voltage")}});
  ASSERT_TRUE(ready(future, k_hang));
  auto result = future.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, core::ErrorKind::Timeout) << result.error().describe();
  EXPECT_NE(result.error().message.find("id 9"), std::string::npos) << result.error().message;
  EXPECT_EQ(rig.tap->requests_to(9), 2U) << "one request and its one retry";
  // The worker goes on as before.
  auto alive = rig.worker->read(1, {field("battery_rated_voltage")});
  ASSERT_TRUE(ready(alive, k_hang));
  EXPECT_TRUE(alive.get());
}

TEST(BusCommand, CommandsFailAtOnceWhenTheWorkerStops) {
  Rig rig("ids=1&seed=23&turnaround-ms=2", {1});
  // Queued before start() and never run: stop() answers them.
  auto queued = rig.worker->submit({1, {field("battery_rated_voltage")}});
  EXPECT_EQ(queued.wait_for(milliseconds(0)), std::future_status::timeout);
  rig.worker->stop();
  ASSERT_EQ(queued.wait_for(milliseconds(0)), std::future_status::ready);
  auto dropped = queued.get();
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().kind, core::ErrorKind::Cancelled);
  EXPECT_EQ(dropped.error().describe(), "cancelled: bus test stopped");

  auto late = rig.worker->read(1, {field("battery_rated_voltage")});
  ASSERT_EQ(late.wait_for(milliseconds(0)), std::future_status::ready);
  auto refused = late.get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, core::ErrorKind::Cancelled);
  EXPECT_TRUE(rig.tap->frames().empty()) << "nothing went on the wire";
}

TEST(BusCommand, StopAnswersWhatIsQueuedWhileTheBusIsBusy) {
  Rig rig("ids=1&seed=24&turnaround-ms=2", {1});
  std::promise<ReadFuture> submitted;
  std::promise<void> stopping;
  rig.tap->on_request = [&](const transport::Bytes&, std::size_t index) {
    if (index != 3) return;
    submitted.set_value(rig.worker->submit({1, {field("battery_rated_voltage")}}));
    // Hold the bus until stop() has begun, so the command is still queued then.
    stopping.get_future().wait();
  };
  rig.worker->start();
  auto waiting = submitted.get_future();
  ASSERT_EQ(waiting.wait_for(k_hang), std::future_status::ready);
  auto future = waiting.get();
  std::thread stopper([&] { rig.worker->stop(); });
  // stop() answers the queue before it waits for the worker to finish its request.
  bool answered = ready(future, k_hang);
  stopping.set_value();
  stopper.join();
  ASSERT_TRUE(answered);
  auto result = future.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, core::ErrorKind::Cancelled);
}

TEST(BusCommand, ADeadlineThatPassedInTheQueueIsATimeoutWithoutTheBus) {
  Rig rig("ids=1,2&seed=25&turnaround-ms=2", {1});
  auto expired = rig.worker->submit({2, {field("battery_rated_voltage")}, milliseconds(100)});
  auto in_time = rig.worker->submit({2, {field("battery_rated_voltage")}, seconds(10)});
  rig.time.advance(milliseconds(150));
  rig.worker->start();
  ASSERT_TRUE(ready(expired, k_hang));
  auto result = expired.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, core::ErrorKind::Timeout);
  EXPECT_NE(result.error().message.find("not sent"), std::string::npos) << result.error().message;
  ASSERT_TRUE(ready(in_time, k_hang));
  EXPECT_TRUE(in_time.get()) << "the next one in the queue is run";
  rig.worker->stop();
  EXPECT_EQ(rig.tap->requests_to(2), 1U) << "only the command in time was sent";
}

TEST(BusCommand, APartialReadingListsItsFailures) {
  device::Reading reading;
  reading.unit = 4;
  reading.values.push_back({field("battery_rated_voltage"), {2400}, 2400, {}, {}});
  reading.failures.push_back(
      {field("pv_voltage"), core::Error{core::ErrorKind::Crc, "bad"}, "FC 0x04 0x3100 x1"});
  auto partial = read_result(reading);
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial.value().failures.size(), 1U);

  reading.values.clear();
  auto failed = read_result(reading);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, core::ErrorKind::Crc);
  EXPECT_EQ(failed.error().describe(), "CRC error: id 4, FC 0x04 0x3100 x1: bad");

  reading.failures.clear();
  EXPECT_TRUE(read_result(reading)) << "nothing asked, nothing failed";
}

}  // namespace
}  // namespace tracermon::poller
