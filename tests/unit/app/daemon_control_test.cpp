// The daemon's side of control: writes through the bus worker's queue while it polls, the
// clock sync it runs by itself, and the audit beside the history.

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "app/daemon.hpp"
#include "sim/sim_stream.hpp"
#include "temp_dir.hpp"

namespace tracermon::app {
namespace {

using namespace std::chrono_literals;

// Two simulated controllers whose clocks start on 2026-01-01 (far from the host's time). Each
// test has a bus of its own (a sim: port is one bus per option text in the process).
DaemonConfig config_in(const std::filesystem::path& dir, const std::string& control, int seed) {
  sim::register_sim_ports();
  auto text = fmt::format(R"(runtime_dir = "{0}/run"
[store]
path = "{0}/history.db"
[files]
json_dir = ""
[http]
enabled = false
{1}
[[bus]]
name = "shed"
port = "sim:ids=1,2&seed={2}&turnaround-ms=1&start=2026-01-01T00:00:00"
  [[bus.device]]
  id = 1
  name = "north"
  [[bus.device]]
  id = 2
  name = "south"
)",
                          dir.string(), control, seed);
  auto config = parse_config(text, dir / "tracermon.toml");
  config.poll.fast = 200ms;
  return config;
}

TEST(DaemonControl, WritesGoThroughTheBusWorkerWhileItPolls) {
  tracermon::test::TempDir dir;
  Daemon daemon(config_in(dir.path(), "", 91));
  daemon.start();
  control::Request r;
  r.action = "set";
  r.device = "south";
  r.settings = {{"battery_capacity", "321"}};
  auto result = daemon.control().handle(r, control::Source::Cli);
  ASSERT_TRUE(result.ok()) << result.error;
  r.action = "export";
  auto exported = daemon.control().handle(r, control::Source::Cli);
  ASSERT_TRUE(exported.ok()) << exported.error;
  auto it = std::find_if(exported.values.begin(), exported.values.end(),
                         [](const auto& v) { return v.first == "battery_capacity"; });
  ASSERT_NE(it, exported.values.end());
  EXPECT_EQ(it->second, "321");
  daemon.stop();
  // The audit outlives the daemon, beside the history.
  store::AuditLog audit(dir.path() / "audit.db");
  auto rows = audit.recent(5);
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows.value().empty());
  EXPECT_EQ(rows.value().front().device, "south");
  EXPECT_EQ(rows.value().front().new_value, "321");
}

TEST(DaemonControl, ClockSyncOnDriftSetsTheClocks) {
  tracermon::test::TempDir dir;
  Daemon daemon(config_in(dir.path(), R"([control]
clock_sync = "drift"
clock_max_drift = 30
trust_host_clock = true)",
                          92));
  daemon.start();
  daemon.tick();  // the first look is due at once
  auto audit = daemon.control().audit(10);
  int synced = 0;
  for (const auto& a : audit) {
    if (a.action == "clock" && a.result == "written" && a.source == "auto") ++synced;
  }
  EXPECT_EQ(synced, 2);
  control::Request r;
  r.action = "clock";
  r.device = "north";
  auto look = daemon.control().handle(r, control::Source::Cli);
  ASSERT_TRUE(look.ok()) << look.error;
  EXPECT_LT(std::abs(look.clock->drift_s), 3.0);
  daemon.stop();
}

TEST(DaemonControl, ClockSyncOffLeavesTheClocksAlone) {
  tracermon::test::TempDir dir;
  Daemon daemon(config_in(dir.path(), "", 93));
  daemon.start();
  daemon.tick();
  EXPECT_TRUE(daemon.control().audit(10).empty());
  control::Request r;
  r.action = "clock";
  r.device = "north";
  auto look = daemon.control().handle(r, control::Source::Cli);
  ASSERT_TRUE(look.ok()) << look.error;
  EXPECT_LT(look.clock->drift_s, -86400.0);  // still in January
  daemon.stop();
}

}  // namespace
}  // namespace tracermon::app

namespace tracermon::app {
namespace {

std::string config_error(const std::string& control) {
  tracermon::test::TempDir dir;
  try {
    (void)config_in(dir.path(), control, 94);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(DaemonControl, BadControlSettingsAreNamed) {
  EXPECT_NE(config_error("[control]\nenabled = true").find("control.token_file"),
            std::string::npos);
  EXPECT_NE(config_error("[control]\nclock_sync = \"hourly\"").find("control.clock_sync"),
            std::string::npos);
  EXPECT_NE(config_error("[control]\nmax_error_percent = 150").find("control.max_error_percent"),
            std::string::npos);
  EXPECT_NE(config_error("[control]\ntoken = \"x\"").find("unknown key"), std::string::npos);
}

TEST(DaemonControl, AWorldReadableTokenFileIsRefused) {
  tracermon::test::TempDir dir;
  auto token = dir.path() / "token";
  {
    std::ofstream out(token);
    out << "0123456789abcdef0123\n";
  }
  std::filesystem::permissions(token, std::filesystem::perms::owner_read |
                                          std::filesystem::perms::owner_write |
                                          std::filesystem::perms::others_read);
  auto control = fmt::format("[control]\nenabled = true\ntoken_file = \"{}\"", token.string());
  try {
    Daemon daemon(config_in(dir.path(), control, 95));
    FAIL() << "a token others can read was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
  }
  std::filesystem::permissions(
      token, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  Daemon daemon(config_in(dir.path(), control, 95));  // 0600 is fine
}

}  // namespace
}  // namespace tracermon::app
