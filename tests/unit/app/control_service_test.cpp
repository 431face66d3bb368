// The control service against three simulated controllers on one bus: settings groups, load
// modes, clock sync, clone, and every refusal, each audited.

#include "control/control_service.hpp"

#include <gtest/gtest.h>

#include "sim_devices.hpp"
#include "temp_dir.hpp"

namespace tracermon::control {
namespace {

using SimAccess = test::SimDevices;

struct Rig {
  SimAccess access;
  ControlService service{protocol::SettingsCatalog::builtin(), access, nullptr, options()};
  static ControlOptions options() {
    ControlOptions o;
    o.host_synchronised = [] { return false; };
    return o;
  }
  Result set(const std::string& device, std::vector<Assignment> settings, bool dry_run = false) {
    Request r;
    r.action = "set";
    r.device = device;
    r.settings = std::move(settings);
    r.dry_run = dry_run;
    return service.handle(r, Source::Cli);
  }
  std::string value(const std::string& device, const std::string& name) {
    Request r;
    r.action = "export";
    r.device = device;
    auto result = service.handle(r, Source::Cli);
    EXPECT_TRUE(result.ok()) << result.error;
    for (const auto& [n, v] : result.values) {
      if (n == name) return v;
    }
    return "?";
  }
  std::uint16_t coil(std::uint8_t unit, std::uint16_t address) {
    auto reply =
        access.bus().request(unit, protocol::make_read_request(protocol::Table::Coil, address, 1));
    return (*reply)[2] & 1;
  }
};

const std::vector<Assignment> k_user_battery = {{"battery_type", "user"},
                                                {"battery_rated_voltage_code", "24V"},
                                                {"battery_capacity", "400Ah"},
                                                {"boost_charging_voltage", "14.2V"},
                                                {"float_charging_voltage", "13.6"}};

TEST(ControlService, BatterySettingsAreWrittenAndReadBack) {
  Rig rig;
  auto result = rig.set("c1", k_user_battery);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_TRUE(result.write);
  EXPECT_EQ(result.write->outcome, device::WriteOutcome::Written);
  EXPECT_EQ(rig.value("c1", "boost_charging_voltage"), "14.2");
  EXPECT_EQ(rig.value("c1", "battery_capacity"), "400");
  EXPECT_EQ(rig.value("c1", "battery_type"), "0");
  // The same again changes nothing and sends nothing.
  auto again = rig.set("c1", k_user_battery);
  EXPECT_EQ(again.write->outcome, device::WriteOutcome::Unchanged);
  EXPECT_TRUE(again.write->sent.empty());
}

TEST(ControlService, OtherSettingGroups) {
  Rig rig;
  auto result = rig.set("c2", {{"boost_duration", "90"},
                               {"battery_temp_warning_upper_limit", "55degC"},
                               {"night_time_threshold_voltage", "4.5V"},
                               {"load_timer1_working_length", "3:15"}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(rig.value("c2", "boost_duration"), "90");
  EXPECT_EQ(rig.value("c2", "battery_temp_warning_upper_limit"), "55");
  EXPECT_EQ(rig.value("c2", "night_time_threshold_voltage"), "4.5");
  EXPECT_EQ(rig.value("c2", "load_timer1_working_length"), "03:15");
  EXPECT_EQ(rig.value("c1", "boost_duration"), rig.value("c3", "boost_duration"));  // others kept
}

TEST(ControlService, LoadModes) {
  Rig rig;
  Request r;
  r.action = "load";
  r.device = "c3";
  for (const char* state : {"off", "on", "off"}) {
    r.state = state;
    auto result = rig.service.handle(r, Source::Mqtt);
    ASSERT_TRUE(result.ok()) << state << ": " << result.error;
    EXPECT_EQ(rig.coil(3, 2), std::string(state) == "on" ? 1 : 0) << state;
    EXPECT_EQ(rig.value("c3", "load_control_mode"), "0");
  }
  r.state = "auto";
  ASSERT_TRUE(rig.service.handle(r, Source::Mqtt).ok());
  EXPECT_EQ(rig.value("c3", "load_control_mode"), "1");
  r.state = "dim";
  auto bad = rig.service.handle(r, Source::Mqtt);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.error.find("on, off or auto"), std::string::npos);
}

TEST(ControlService, CloneOneControllerToTheOthers) {
  Rig rig;
  ASSERT_TRUE(rig.set("c1", k_user_battery).ok());
  ASSERT_TRUE(rig.set("c1", {{"equalize_duration", "100"}, {"boost_duration", "100"}}).ok());
  Request r;
  r.action = "export";
  r.device = "c1";
  auto exported = rig.service.handle(r, Source::Cli);
  ASSERT_TRUE(exported.ok()) << exported.error;
  std::vector<Assignment> file;
  for (const auto& [name, value] : exported.values) {
    const auto* f = rig.service.catalog().map().find(name);
    if (!f->is_bit()) file.push_back({name, value});
  }
  for (const char* target : {"c2", "c3"}) {
    auto applied = rig.set(target, file);
    ASSERT_TRUE(applied.ok()) << target << ": " << applied.error;
  }
  for (const auto& [name, value] : exported.values) {
    if (rig.service.catalog().map().find(name)->is_bit()) continue;
    EXPECT_EQ(rig.value("c2", name), value) << name;
    EXPECT_EQ(rig.value("c3", name), value) << name;
  }
}

TEST(ControlService, RefusalsAreClearAndAudited) {
  Rig rig;
  auto unknown = rig.set("c9", {{"battery_capacity", "100"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.error.find("c1, c2, c3"), std::string::npos);

  auto bad = rig.set("c1", {{"boost_charging_voltage", "28.8V"}, {"no_such", "1"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.error.find("per 12 V block"), std::string::npos);
  EXPECT_NE(bad.error.find("unknown setting 'no_such'"), std::string::npos);

  // The simulated AN holds a sealed battery: voltages need type User first.
  auto rule = rig.set("c1", {{"boost_charging_voltage", "14.2"}});
  EXPECT_EQ(rule.status, 409);
  EXPECT_NE(rule.error.find("battery_type=user"), std::string::npos);

  rig.access.refs[1].online = false;
  rig.access.refs[1].health = "Offline: timeout";
  int runs = rig.access.runs;
  auto offline = rig.set("c2", {{"battery_capacity", "100"}});
  EXPECT_EQ(offline.status, 409);
  EXPECT_NE(offline.error.find("offline"), std::string::npos);
  EXPECT_EQ(rig.access.runs, runs);  // the bus was not touched
  Request forced;
  forced.action = "set";
  forced.device = "c2";
  forced.settings = {{"battery_capacity", "100"}};
  forced.force = true;
  EXPECT_TRUE(rig.service.handle(forced, Source::Cli).ok());

  rig.access.refs[2].error_ratio = 0.5;
  rig.access.refs[2].recent_requests = 100;
  auto noisy = rig.set("c3", {{"battery_capacity", "100"}});
  EXPECT_EQ(noisy.status, 409);
  EXPECT_NE(noisy.error.find("50%"), std::string::npos);

  Request clock;
  clock.action = "clock";
  clock.device = "c1";
  clock.sync = true;
  auto untrusted = rig.service.handle(clock, Source::Http);
  EXPECT_EQ(untrusted.status, 409);
  EXPECT_NE(untrusted.error.find("not synchronised"), std::string::npos);

  auto audit = rig.service.audit(50);
  auto count = [&](const char* result) {
    return std::count_if(audit.begin(), audit.end(),
                         [&](const model::AuditRecord& a) { return a.result == result; });
  };
  EXPECT_EQ(count("refused"),
            1 + 2 + 1 + 1 + 1 + 1);  // unknown, 2 bad, rule, offline, noisy, clock
  EXPECT_EQ(count("written"), 1);    // the forced one
  EXPECT_EQ(audit.front().source, "http");
  EXPECT_EQ(audit.front().setting, "clock");
}

TEST(ControlService, ClockSyncWhenTrusted) {
  Rig rig;
  Request r;
  r.action = "clock";
  r.device = "c1";
  auto look = rig.service.handle(r, Source::Cli);
  ASSERT_TRUE(look.ok()) << look.error;
  ASSERT_TRUE(look.clock);
  EXPECT_LT(std::abs(look.clock->drift_s), 5.0);  // the simulator starts on the host's time
  r.sync = true;
  r.trust_host_clock = true;
  auto synced = rig.service.handle(r, Source::Cli);
  ASSERT_TRUE(synced.ok()) << synced.error;
  EXPECT_LE(std::abs(synced.clock->drift_after_s), 2.0);
  auto json = to_json(rig.service.catalog(), synced);
  EXPECT_TRUE(json["clock"].contains("drift_s"));
}

TEST(ControlService, JsonRequestsAreChecked) {
  Rig rig;
  EXPECT_EQ(rig.service.handle_json(nlohmann::json::array(), Source::Http).status, 400);
  EXPECT_EQ(rig.service.handle_json({{"action", "set"}}, Source::Http).status, 400);
  auto wrong = rig.service.handle_json({{"action", "erase"}, {"device", "c1"}}, Source::Http);
  EXPECT_NE(wrong.error.find("unknown action"), std::string::npos);
  auto nested = rig.service.handle_json(
      {{"action", "set"}, {"device", "c1"}, {"settings", {{"battery_capacity", {1, 2}}}}},
      Source::Http);
  EXPECT_EQ(nested.status, 400);
  auto ok = rig.service.handle_json(
      {{"action", "set"}, {"device", "1"}, {"settings", {{"battery_capacity", 300}}}},
      Source::Http);
  EXPECT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.device, "c1");  // a slave id names the device
}

TEST(ControlService, TheAuditIsKeptInTheStore) {
  test::TempDir dir;
  SimAccess access;
  store::AuditLog log(dir.path() / "audit.db");
  {
    ControlService service(protocol::SettingsCatalog::builtin(), access, &log);
    Request r;
    r.action = "set";
    r.device = "c1";
    r.settings = {{"battery_capacity", "250"}};
    ASSERT_TRUE(service.handle(r, Source::Cli).ok());
  }
  store::AuditLog reopened(dir.path() / "audit.db");
  auto rows = reopened.recent(10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows.value().size(), 1U);
  const auto& row = rows.value().front();
  EXPECT_EQ(row.device, "c1");
  EXPECT_EQ(row.setting, "battery_capacity");
  EXPECT_EQ(row.new_value, "250");
  EXPECT_EQ(row.result, "written");
  EXPECT_EQ(row.source, "cli");
}

}  // namespace
}  // namespace tracermon::control
