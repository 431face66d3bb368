// The daemon's fan-out on the in-process simulator: every configured sink and an added one get
// every cycle and the site totals after the site's last member, in order; a sink that blocks
// or throws holds up neither the bus worker nor the other sinks.

#include "app/daemon.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fake_sinks.hpp"
#include "sim/sim_stream.hpp"
#include "temp_dir.hpp"

namespace tracermon::app {
namespace {

using sinks::test::BlockingSink;
using sinks::test::RecordingSink;
using sinks::test::ThrowingSink;
using namespace std::chrono_literals;

DaemonConfig config_in(const std::filesystem::path& dir) {
  sim::register_sim_ports();
  auto text = fmt::format(R"(runtime_dir = "{0}/run"
[store]
path = "{0}/history.db"
[files]
json_dir = "{0}/json"
[http]
enabled = false
[[bus]]
name = "cabin"
port = "sim:ids=1,2&profile=tracer-an+tracer-bn&seed=5&turnaround-ms=1"
site = "cabin"
  [[bus.device]]
  id = 1
  name = "east"
  [[bus.device]]
  id = 2
  name = "west"
)",
                          dir.string());
  auto config = parse_config(text, dir / "tracermon.toml");
  config.poll.fast = 200ms;  // below the 1 s a user may set: the test need not wait for it
  return config;
}

std::uint64_t cycle_number(const std::string& entry) {
  return std::stoull(entry.substr(entry.find('#') + 1));
}

TEST(Daemon, EverySinkGetsEveryCycleAndTheSiteTotalsInOrder) {
  tracermon::test::TempDir dir;
  Daemon daemon(config_in(dir.path()));
  auto blocking = std::make_unique<BlockingSink>();
  auto* blocked = blocking.get();
  auto recording = std::make_unique<RecordingSink>();
  auto* recorder = recording.get();
  daemon.add_sink(std::move(blocking));
  daemon.add_sink(std::make_unique<ThrowingSink>());
  daemon.add_sink(std::move(recording));
  // Released however the test ends: stopping the daemon waits for every sink.
  auto release = std::unique_ptr<BlockingSink, void (*)(BlockingSink*)>(
      blocked, [](BlockingSink* sink) { sink->release(); });
  daemon.start();
  ASSERT_TRUE(blocked->wait_entered());
  // While one sink holds its first event, the bus worker goes on polling and the recorder gets
  // six rounds of both devices and the site.
  ASSERT_TRUE(recorder->wait_for(1 + 6 * 3)) << recorder->seen().size();
  release.reset();
  daemon.stop();

  auto seen = recorder->seen();
  ASSERT_EQ(seen.front(), "start");
  ASSERT_EQ(seen.back(), "stop");
  std::map<std::string, std::uint64_t> last_cycle;
  std::string previous;
  for (std::size_t i = 1; i + 1 < seen.size(); ++i) {
    const auto& entry = seen[i];
    if (entry == "site:cabin") {
      // The site follows its last member's cycle, once.
      EXPECT_EQ(previous.substr(0, 5), "west#") << "entry " << i;
    } else {
      auto device = entry.substr(0, entry.find('#'));
      auto number = cycle_number(entry);
      EXPECT_EQ(number, last_cycle[device] + 1) << entry << ": every cycle, in order";
      last_cycle[device] = number;
    }
    previous = entry;
  }
  EXPECT_GE(last_cycle["east"], 6U);
  EXPECT_GE(last_cycle["west"], 6U);

  std::map<std::string, sinks::SinkCounters> counters;
  for (const auto& c : daemon.sink_counters())
    counters[c.name] = c;
  // The configured sinks come from the configuration's table, before the added ones.
  for (const auto* name : {"store", "energy", "state_files"})
    EXPECT_EQ(counters.count(name), 1U) << name;
  EXPECT_EQ(counters.count("events"), 0U) << "http is off";
  EXPECT_EQ(counters.count("mqtt"), 0U);
  const auto cycles_and_sites = counters.at("recording").delivered;
  EXPECT_EQ(cycles_and_sites, seen.size() - 2);
  EXPECT_EQ(counters.at("store").delivered, cycles_and_sites);
  EXPECT_EQ(counters.at("throwing").failed, cycles_and_sites);
  EXPECT_EQ(counters.at("throwing").delivered, 0U);
  EXPECT_EQ(counters.at("blocking").delivered + counters.at("blocking").dropped, cycles_and_sites);
  // The state files were written by their sink beside the blocked and the throwing one.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "json" / "east.json"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "json" / "west.json"));
}

}  // namespace
}  // namespace tracermon::app
