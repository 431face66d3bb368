// Every outward shape against its golden file (tests/golden/), from the fixed inputs of
// golden_inputs.hpp: a change to what tracermon sends is a visible diff. To accept a change:
//   TRACERMON_UPDATE_GOLDEN=1 build/tests/format_tests --gtest_filter='Golden.*'
// then review `git diff tests/golden` (see golden.hpp).

#include "golden.hpp"

#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "format/ha_discovery.hpp"
#include "format/influx_lines.hpp"
#include "format/mqtt_messages.hpp"
#include "format/prometheus.hpp"
#include "format/snapshot_json.hpp"
#include "format/status_json.hpp"
#include "golden_inputs.hpp"

namespace tracermon::format {
namespace {

using namespace test::golden;
using test::expect_golden;
using test::map;

// Times in the JSON shapes are local (RFC 3339 with offset): the files are written in UTC.
class Golden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (const char* tz = std::getenv("TZ")) s_tz = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  static void TearDownTestSuite() {
    if (s_tz) {
      ::setenv("TZ", s_tz->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  static inline std::optional<std::string> s_tz;
};

// The daemon's version is data, not shape: the files say @VERSION@.
std::string without_version(std::string text) {
  const std::string version = R"("sw_version":")" TRACERMON_PROJECT_VERSION R"(")";
  for (auto at = text.find(version); at != std::string::npos; at = text.find(version, at))
    text.replace(at, version.size(), R"("sw_version":"@VERSION@")");
  return text;
}

TEST_F(Golden, SnapshotJson) {
  // As the state file holds it; /api/v1/latest and the live events send the same object.
  expect_golden("snapshot.json", snapshot_json(map(), east(), k_intervals).dump(1) + "\n");
}

TEST_F(Golden, SiteTotalsJson) {
  expect_golden("site_totals.json", site_totals_json(shed()).dump(1) + "\n");
}

TEST_F(Golden, MqttStateMessages) {
  DiscoveryOptions options;
  auto text = device_state_topic(options, "east") + "\n" +
              device_state_message(map(), east(), k_intervals, k_now) + "\n" +
              site_state_topic(options, "shed") + "\n" + site_state_message(shed()) + "\n";
  expect_golden("mqtt_state.txt", text);
}

TEST_F(Golden, HomeAssistantDiscovery) {
  // One entity of each kind: numeric sensors (with and without a device class), a status
  // state as text, a status fault flag and a discrete input as problems, the night sensor, a
  // site sensor; and what removing a device sends.
  const std::set<std::string> keys = {"pv_voltage",
                                      "battery_soc",
                                      "battery_temperature",
                                      "generated_energy_total",
                                      "co2_reduction",
                                      "charging_phase",
                                      "charging_equipment_fault",
                                      "over_temperature_inside_device",
                                      "day_night"};
  DiscoveryOptions options;
  options.expire_after_s = 60;
  auto messages = device_discovery(map(), east_status(), entity_fields(map(), east()), options);
  std::string text;
  std::set<std::string> found;
  for (const auto& message : messages) {
    auto end = message.topic.rfind("/config");
    auto start = message.topic.rfind('/', end - 1) + 1;
    auto key = message.topic.substr(start, end - start);
    if (!keys.contains(key) || !found.insert(key).second) continue;
    text += message.topic + "\n" + without_version(message.payload) + "\n";
  }
  EXPECT_EQ(found, keys) << "an entity the golden file shows is no longer made";
  auto site = site_discovery("shed", {"east", "west"}, options).front();
  text += site.topic + "\n" + without_version(site.payload) + "\n";
  auto removal = device_removal(map(), "east", options).front();
  text += removal.topic + "\n" + removal.payload + "\n";
  expect_golden("ha_discovery.txt", text);
}

TEST_F(Golden, HomeAssistantControlEntities) {
  // Control on: one entity of each kind (the load switch, the clock button, a voltage, a
  // duration and the capacity as numbers, the battery type and the load mode as selects),
  // the settings message they read, and what removing them sends. The sensors above are the
  // same with control on or off (device_discovery does not change).
  const std::set<std::string> keys = {"load",
                                      "clock_sync",
                                      "boost_charging_voltage",
                                      "boost_duration",
                                      "battery_capacity",
                                      "battery_type",
                                      "load_control_mode"};
  DiscoveryOptions options;
  options.expire_after_s = 60;
  const auto& catalog = protocol::SettingsCatalog::builtin();
  std::string text;
  std::set<std::string> found;
  for (const auto& message : device_control_discovery(catalog, east_status(), options)) {
    auto end = message.topic.rfind("/config");
    auto start = message.topic.rfind('/', end - 1) + 1;
    auto key = message.topic.substr(start, end - start);
    if (!keys.contains(key) || !found.insert(key).second) continue;
    text += message.topic + "\n" + without_version(message.payload) + "\n";
  }
  EXPECT_EQ(found, keys) << "an entity the golden file shows is no longer made";
  text += device_settings_topic(options, "east") + "\n" + device_settings_message(catalog, east()) +
          "\n";
  for (const auto& message : device_control_removal(catalog, "east", options))
    text += message.topic + "\n";
  expect_golden("ha_discovery_control.txt", text);
}

TEST_F(Golden, InfluxLineProtocol) {
  // The schema's lines (device groups, comm, site) and the old tool's `solar` point.
  auto east_snapshot = east();
  std::vector<model::SnapshotPtr> members = {std::make_shared<model::DeviceSnapshot>(east()),
                                             std::make_shared<model::DeviceSnapshot>(west())};
  auto text = device_lines(map(), east_snapshot, "tracer", InfluxPrecision::Nanoseconds) +
              comm_lines(east_status(), east_snapshot, "tracer", InfluxPrecision::Nanoseconds) +
              site_lines(shed(), "tracer", InfluxPrecision::Nanoseconds) +
              legacy_line(map(), members, k_now, std::chrono::seconds(30), "solar",
                          InfluxPrecision::Seconds);
  expect_golden("influx_lines.txt", text);
}

TEST_F(Golden, PrometheusMetrics) {
  std::vector<model::SnapshotPtr> devices = {std::make_shared<model::DeviceSnapshot>(east()),
                                             std::make_shared<model::DeviceSnapshot>(west())};
  expect_golden("metrics.txt", prometheus_text(map(), buses(), outputs(), devices));
}

TEST_F(Golden, StatusBusesAndCounters) {
  // /api/v1/status "buses"
  nlohmann::ordered_json body;
  auto list = nlohmann::ordered_json::array();
  for (const auto& bus : buses())
    list.push_back(bus_status_json(bus));
  body["buses"] = std::move(list);
  expect_golden("status_buses.json", body.dump(1) + "\n");
}

TEST_F(Golden, StatusOutputs) {
  // /api/v1/status "outputs"
  auto list = nlohmann::ordered_json::array();
  for (const auto& output : outputs())
    list.push_back(output_status_json(output));
  expect_golden("status_outputs.json", list.dump(1) + "\n");
}

}  // namespace
}  // namespace tracermon::format
