#include "sinks/influx_sink.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/live_state.hpp"
#include "sinks/fake_influx.hpp"
#include "snapshot_builder.hpp"
#include "temp_dir.hpp"

namespace tracermon::sinks {
namespace {

using namespace std::chrono_literals;
using sinks::test::Answer;
using sinks::test::FakeInflux;
using sinks::test::k_give_up;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using tracermon::test::map;
using tracermon::test::sample;

constexpr core::WallTime k_base{std::chrono::seconds(1'700'000'000)};

// One realtime line per snapshot, told apart by its time (seconds after k_base).
model::DeviceSnapshot cycle(const std::string& device, int second) {
  auto s = tracermon::test::snapshot(device, 1, {sample("pv_voltage", 1380 + second)});
  s.time = k_base + std::chrono::seconds(second);
  return s;
}

std::string time_of(const std::string& line) {
  return line.substr(line.rfind(' ') + 1);
}

std::vector<std::string> times(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (const auto& line : lines)
    out.push_back(time_of(line));
  return out;
}

std::string seconds(int second) {
  return std::to_string(1'700'000'000 + second);
}

InfluxSinkOptions options_for(const std::string& url) {
  InfluxSinkOptions options;
  options.writer.url = url;
  options.writer.precision = format::InfluxPrecision::Seconds;
  return options;
}

// A wait_for condition: at least `count` lines accepted.
auto lines_arrived(std::size_t count) {
  return [count](const std::vector<test::Received>& received) {
    return FakeInflux::lines_of(received).size() >= count;
  };
}

TEST(InfluxSink, LinesOfEveryKindArrive) {
  FakeInflux server;
  auto options = options_for(server.url());
  options.legacy = true;
  InfluxSink sink(map(), options, nullptr);
  EXPECT_EQ(sink.endpoint(), server.url() + "/write?db=tracermon&precision=s");

  auto snapshot = cycle("east", 1);
  snapshot.site = "roof";
  sink.write(snapshot);
  model::DeviceStatus status;
  status.health = model::Health::Online;
  status.counters.requests = 5;
  sink.write_comm(status, snapshot);
  model::SiteTotals totals;
  totals.site = "roof";
  totals.time = snapshot.time;
  totals.values = {{"pv_power", 120.0}};
  sink.write_site(totals);
  auto member = std::make_shared<model::DeviceSnapshot>(snapshot);
  std::vector<model::SnapshotPtr> members = {member};
  sink.write_legacy(members, core::SteadyTime{}, 60s);

  ASSERT_TRUE(server.wait_for(lines_arrived(4)));
  auto lines = server.accepted_lines();
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(
      lines[0],
      "tracer_realtime,bus=bus1,device=east,device_id=1,site=roof pv_voltage=13.81 " + seconds(1));
  EXPECT_THAT(lines[1], HasSubstr("tracer_comm,bus=bus1,device=east,device_id=1,site=roof "));
  EXPECT_THAT(lines[1], HasSubstr("requests=5i"));
  EXPECT_EQ(lines[2], "tracer_site,site=roof pv_power=120 " + seconds(1));
  EXPECT_THAT(lines[3], ::testing::StartsWith("solar PVvolt=13.81 "));

  sink.stop();
  auto counters = sink.counters();
  EXPECT_EQ(counters.sent, 4U);
  EXPECT_EQ(counters.rejected, 0U);
  EXPECT_EQ(counters.dropped, 0U);
}

TEST(InfluxSink, LegacyIsOffUnlessAskedFor) {
  FakeInflux server;
  InfluxSink sink(map(), options_for(server.url()), nullptr);
  auto snapshot = cycle("east", 1);
  std::vector<model::SnapshotPtr> members = {std::make_shared<model::DeviceSnapshot>(snapshot)};
  sink.write_legacy(members, core::SteadyTime{}, 60s);
  sink.write(snapshot);  // queued after the legacy point would have been
  ASSERT_TRUE(server.wait_for(lines_arrived(1)));
  sink.stop();
  auto lines = server.accepted_lines();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_THAT(lines[0], HasSubstr("tracer_realtime,"));
}

// The old tool ran from cron once a minute: its point comes once per legacy_interval on the
// cycles' monotonic time, at the cycle nearest the due time (a little early or late), and a
// gap does not burst.
TEST(InfluxSink, LegacyPointOncePerIntervalOnTheCyclesClock) {
  FakeInflux server;
  auto options = options_for(server.url());
  options.legacy = true;
  options.legacy_devices = {"east"};
  options.legacy_interval = 60s;
  options.legacy_slack = 2500ms;  // half of poll.fast
  InfluxSink sink(map(), options, nullptr);
  model::LiveState live;
  std::vector<int> legacy_cycles;
  int offered = 0;
  auto feed = [&](int index, core::SteadyTime steady) {
    auto value = sample("pv_voltage", 1380, steady);
    value.wall_time = k_base + std::chrono::seconds(index);
    auto snapshot = tracermon::test::snapshot("east", 1, {value});
    snapshot.time = value.wall_time;
    snapshot.steady = steady;
    snapshot.clock_trusted = true;
    auto cycle = std::make_shared<model::DeviceSnapshot>(snapshot);
    sink.on_cycle({cycle, live.merge(snapshot), std::nullopt, &live});
    ++offered;
  };
  // Every 5 s for 5 minutes; the cycles due at 60 s, 180 s, 300 s come 200 ms late, those at
  // 120 s and 240 s 200 ms early.
  for (int k = 0; k <= 60; ++k) {
    auto jitter = k % 24 == 12 ? 200ms : (k > 0 && k % 24 == 0 ? -200ms : 0ms);
    feed(k, core::SteadyTime{k * 5s + jitter});
  }
  // 20 minutes without a cycle, then 70 s of cycles: one point at once, the next a minute
  // later, no catching up.
  for (int k = 0; k <= 14; ++k)
    feed(1000 + k, core::SteadyTime{1500s + k * 5s});
  sink.stop();
  std::vector<std::string> legacy;
  for (const auto& line : server.accepted_lines()) {
    if (line.starts_with("solar ")) legacy.push_back(time_of(line));
  }
  EXPECT_THAT(legacy, ElementsAre(seconds(0), seconds(12), seconds(24), seconds(36), seconds(48),
                                  seconds(60), seconds(1000), seconds(1012)));
  EXPECT_EQ(sink.counters().sent, static_cast<std::uint64_t>(offered) + legacy.size());
}

TEST(InfluxSink, RefusedDataIsDroppedAndCounted) {
  FakeInflux server([](const httplib::Request& request) {
    if (request.body.find("device=bad") != std::string::npos) {
      return Answer{400, R"({"error":"partial write: field type conflict"})"};
    }
    return Answer{};
  });
  InfluxSink sink(map(), options_for(server.url()), nullptr);

  sink.write(cycle("bad", 1));
  ASSERT_TRUE(server.wait_for([](const auto& received) { return received.size() == 1; }));
  // Offered after the refused batch was taken, so in a batch of its own.
  sink.write(cycle("good", 2));
  ASSERT_TRUE(server.wait_for(lines_arrived(1)));
  sink.stop();

  auto counters = sink.counters();
  EXPECT_EQ(counters.rejected, 1U);
  EXPECT_EQ(counters.sent, 1U);
  EXPECT_EQ(counters.dropped, 0U);
  EXPECT_THAT(counters.last_error, HasSubstr("field type conflict"));
  EXPECT_THAT(server.accepted_lines(), ElementsAre(HasSubstr("device=good")));
}

// Holds the runner in its backoff until the test opens it: the test decides when the server
// is back, without waiting out a real delay.
struct BackoffGate {
  std::mutex mutex;
  std::condition_variable cv;
  int waits = 0;
  bool open = false;

  void wait() {
    std::unique_lock lock(mutex);
    ++waits;
    cv.notify_all();
    cv.wait_for(lock, k_give_up, [&] { return open; });
  }
  bool wait_for_backoff() {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, k_give_up, [&] { return waits > 0; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
};

TEST(InfluxSink, ServerDownThenUpLosesNothingAndKeepsOrder) {
  tracermon::test::TempDir dir;
  auto outbox = Outbox::open(dir.path() / "outbox");
  ASSERT_TRUE(outbox.ok()) << outbox.error().describe();
  auto first = std::make_unique<FakeInflux>();
  auto port = first->port();
  auto gate = std::make_shared<BackoffGate>();
  auto options = options_for(first->url());
  options.runner.backoff_wait = [gate](std::chrono::milliseconds) { gate->wait(); };
  InfluxSink sink(map(), options, std::move(outbox).value());

  sink.write(cycle("east", 1));
  ASSERT_TRUE(first->wait_for(lines_arrived(1)));
  first->stop();

  sink.write(cycle("east", 2));
  sink.write(cycle("east", 3));
  ASSERT_TRUE(gate->wait_for_backoff());
  sink.write(cycle("east", 4));  // while waiting to retry
  auto waiting = sink.counters();
  EXPECT_EQ(waiting.state, OutputState::Retrying);
  EXPECT_THAT(waiting.last_error, HasSubstr(std::to_string(port)));

  FakeInflux second({}, port);
  gate->release();
  ASSERT_TRUE(second.wait_for(lines_arrived(3)));
  sink.stop();

  EXPECT_THAT(times(first->accepted_lines()), ElementsAre(seconds(1)));
  EXPECT_THAT(times(second.accepted_lines()), ElementsAre(seconds(2), seconds(3), seconds(4)));
  auto counters = sink.counters();
  EXPECT_EQ(counters.sent, 4U);
  EXPECT_EQ(counters.dropped, 0U);
  EXPECT_EQ(counters.rejected, 0U);
  EXPECT_EQ(counters.in_outbox, 0U);
  EXPECT_GE(counters.errors, 1U);
}

}  // namespace
}  // namespace tracermon::sinks
