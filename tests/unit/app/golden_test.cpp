// Every outward shape against its golden file (tests/golden/), from the fixed inputs of
// golden_inputs.hpp. TRACERMON_UPDATE_GOLDEN=1 rewrites the files (see golden.hpp).

#include "golden.hpp"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "format/snapshot_json.hpp"
#include "golden_inputs.hpp"
#include "sinks/ha_discovery.hpp"
#include "sinks/influx_lines.hpp"
#include "sinks/live_state.hpp"
#include "sinks/mqtt_messages.hpp"
#include "sinks/output_queue.hpp"
#include "web/api.hpp"
#include "web/metrics.hpp"

namespace tracermon {
namespace {

using namespace test::golden;
using test::expect_golden;
using test::map;

std::vector<sinks::OutputStatus> outputs() {
  sinks::OutputStatus mqtt;
  mqtt.name = "mqtt";
  mqtt.endpoint = "mqtt://broker.lan:1883";
  mqtt.connected = true;
  mqtt.counters.sent = 5000;
  mqtt.counters.queued = 2;
  mqtt.counters.errors = 1;
  mqtt.counters.last_error = "connection lost";
  mqtt.counters.last_error_time = k_wall - std::chrono::hours(3);
  sinks::OutputStatus influx;
  influx.name = "influxdb";
  influx.endpoint = "http://influx.lan:8086 db=solar";
  influx.connected = false;
  influx.counters.sent = 1200;
  influx.counters.in_outbox = 340;
  influx.counters.dropped = 7;
  influx.counters.rejected = 3;
  influx.counters.errors = 25;
  influx.counters.last_error = "connect: Connection refused";
  influx.counters.last_error_time = k_wall - std::chrono::minutes(1);
  influx.counters.state = sinks::OutputState::Retrying;
  influx.counters.retry_delay = std::chrono::seconds(8);
  return {mqtt, influx};
}

// The daemon's version is data, not shape: the files say @VERSION@.
std::string without_version(std::string text) {
  const std::string version = R"("sw_version":")" TRACERMON_PROJECT_VERSION R"(")";
  for (auto at = text.find(version); at != std::string::npos; at = text.find(version, at))
    text.replace(at, version.size(), R"("sw_version":"@VERSION@")");
  return text;
}

TEST(Golden, SnapshotJson) {
  expect_golden("snapshot.json", format::snapshot_json(map(), east(), k_intervals).dump(1) + "\n");
}

TEST(Golden, MqttStateMessages) {
  sinks::DiscoveryOptions options;
  auto text = sinks::device_state_topic(options, "east") + "\n" +
              sinks::device_state_message(map(), east(), k_intervals, k_now) + "\n" +
              sinks::site_state_topic(options, "shed") + "\n" + sinks::site_state_message(shed()) +
              "\n";
  expect_golden("mqtt_state.txt", text);
}

TEST(Golden, HomeAssistantDiscovery) {
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
  sinks::DiscoveryOptions options;
  options.expire_after_s = 60;
  auto messages =
      sinks::device_discovery(map(), east_status(), sinks::entity_fields(map(), east()), options);
  std::string text;
  std::set<std::string> found;
  for (const auto& message : messages) {
    auto end = message.topic.rfind("/config");
    auto start = message.topic.rfind('/', end - 1) + 1;
    auto key = message.topic.substr(start, end - start);
    if (!keys.contains(key) || !found.insert(key).second) continue;
    text += message.topic + "\n" + without_version(message.payload) + "\n";
  }
  auto site = sinks::site_discovery("shed", {"east", "west"}, options).front();
  text += site.topic + "\n" + without_version(site.payload) + "\n";
  auto removal = sinks::device_removal(map(), "east", options).front();
  text += removal.topic + "\n" + removal.payload + "\n";
  EXPECT_EQ(found, keys) << "an entity the golden file shows is no longer made";
  expect_golden("ha_discovery.txt", text);
}

TEST(Golden, InfluxLineProtocol) {
  using sinks::InfluxPrecision;
  auto east_snapshot = east();
  std::vector<model::SnapshotPtr> members = {std::make_shared<model::DeviceSnapshot>(east()),
                                             std::make_shared<model::DeviceSnapshot>(west())};
  auto text =
      sinks::device_lines(map(), east_snapshot, "tracer", InfluxPrecision::Nanoseconds) +
      sinks::comm_lines(east_status(), east_snapshot, "tracer", InfluxPrecision::Nanoseconds) +
      sinks::site_lines(shed(), "tracer", InfluxPrecision::Nanoseconds) +
      sinks::legacy_line(map(), members, k_now, std::chrono::seconds(30), "solar",
                         InfluxPrecision::Seconds);
  expect_golden("influx_lines.txt", text);
}

TEST(Golden, PrometheusMetrics) {
  sinks::LiveState live;
  live.merge(east());
  live.merge(west());
  web::DaemonView view;
  view.map = &map();
  view.live = &live;
  view.buses = [] { return buses(); };
  view.outputs = [] { return outputs(); };
  expect_golden("metrics.txt", web::render_metrics(view));
}

TEST(Golden, StatusBusesAndCounters) {
  sinks::LiveState live;
  web::DaemonView view;
  view.map = &map();
  view.live = &live;
  view.buses = [] { return buses(); };
  auto body = nlohmann::ordered_json::parse(web::api_status(view).body);
  expect_golden("status_buses.json", body.dump(1) + "\n");
}

}  // namespace
}  // namespace tracermon
