#include "format/prometheus.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "format/counters.hpp"
#include "prometheus_exposition.hpp"
#include "snapshot_builder.hpp"

namespace tracermon::format {
namespace {

using test::Exposition;
using test::sample;
using test::snapshot;

model::DeviceStatus device_status(std::string name, std::uint8_t unit, model::Health health) {
  model::DeviceStatus d;
  d.name = std::move(name);
  d.unit = unit;
  d.health = health;
  return d;
}

class Metrics : public ::testing::Test {
 protected:
  Metrics() {
    // 18.52 V, 13.80 V, -5.00 degC: the raw words a Tracer sends, scale 100.
    add(snapshot("roof", 1,
                 {sample("pv_voltage", 1852), sample("pv_current", 250), sample("pv_power", 4630),
                  sample("battery_voltage", 1380), sample("battery_temperature", -500),
                  sample("battery_soc", 85), sample("generated_energy_total", 123456),
                  sample("pv_rated_voltage", 10000), sample("battery_capacity", 200),
                  sample("battery_type", 1)}));
    add(snapshot("garage", 2, {sample("battery_voltage", 1275)}));

    model::BusStatus bus;
    bus.name = "bus1";
    bus.link_up = true;
    auto roof = device_status("roof", 1, model::Health::Online);
    roof.counters.cycles = 42;
    roof.counters.requests = 1400;
    roof.counters.timeouts = 7;
    roof.counters.crc_errors = 3;
    roof.counters.exceptions = {{2, 5}, {4, 1}};
    roof.counters.latency_ms_mean = 12.5;
    bus.devices.push_back(roof);
    auto garage = device_status("garage", 2, model::Health::Offline);
    garage.counters.cycles = 40;
    garage.counters.timeouts = 80;
    bus.devices.push_back(garage);
    buses.push_back(bus);
  }

  void add(model::DeviceSnapshot snapshot) {
    devices.push_back(std::make_shared<model::DeviceSnapshot>(std::move(snapshot)));
  }

  [[nodiscard]] std::string text() const {
    return prometheus_text(test::map(), buses, outputs, devices);
  }

  Exposition render() {
    auto rendered = text();
    auto exposition = test::parse_exposition(rendered);
    EXPECT_THAT(exposition.problems, ::testing::IsEmpty()) << rendered;
    return exposition;
  }

  std::vector<model::SnapshotPtr> devices;
  std::vector<model::BusStatus> buses;
  std::vector<model::OutputStatus> outputs;
};

TEST(MetricName, BaseUnitSuffixes) {
  EXPECT_EQ(metric_name("pv_voltage", "V"), "tracermon_pv_voltage_volts");
  EXPECT_EQ(metric_name("pv_current", "A"), "tracermon_pv_current_amperes");
  EXPECT_EQ(metric_name("pv_power", "W"), "tracermon_pv_power_watts");
  EXPECT_EQ(metric_name("generated_energy_total", "kWh"),
            "tracermon_generated_energy_total_kilowatt_hours");
  EXPECT_EQ(metric_name("battery_status", ""), "tracermon_battery_status");
}

TEST(MetricName, TemperaturesAreCelsiusWhateverTheCsvSpelling) {
  EXPECT_EQ(metric_name("battery_temperature", test::field("battery_temperature").unit),
            "tracermon_battery_temperature_celsius");
  EXPECT_EQ(metric_name("battery_temperature", "degC"), "tracermon_battery_temperature_celsius");
  EXPECT_EQ(metric_name("battery_temperature", "\u00b0C"), "tracermon_battery_temperature_celsius");
}

TEST_F(Metrics, FollowsTheTextFormat) {
  auto rendered = text();
  auto exposition = test::parse_exposition(rendered);
  EXPECT_THAT(exposition.problems, ::testing::IsEmpty()) << rendered;
  EXPECT_FALSE(exposition.samples.empty());
}

TEST_F(Metrics, CountersEndInTotalAndGaugesDoNot) {
  auto exposition = render();
  for (const auto& [name, type] : exposition.types) {
    bool total = name.ends_with("_total");
    EXPECT_EQ(total, type == "counter") << name << " is a " << type;
  }
  EXPECT_EQ(exposition.types["tracermon_modbus_timeouts_total"], "counter");
}

TEST_F(Metrics, FieldsCarryTheirValuesUnderUnitSuffixedNames) {
  auto e = render();
  EXPECT_EQ(e.value("tracermon_pv_voltage_volts", {{"device", "roof"}}), 18.52);
  EXPECT_EQ(e.value("tracermon_pv_current_amperes", {{"device", "roof"}}), 2.5);
  EXPECT_EQ(e.value("tracermon_pv_power_watts", {{"device", "roof"}}), 46.3);
  EXPECT_EQ(e.value("tracermon_battery_voltage_volts", {{"device", "roof"}, {"id", "1"}}), 13.8);
  EXPECT_EQ(e.value("tracermon_battery_voltage_volts", {{"device", "garage"}, {"id", "2"}}), 12.75);
  EXPECT_EQ(e.value("tracermon_battery_temperature_celsius", {{"device", "roof"}}), -5);
  EXPECT_EQ(e.value("tracermon_battery_soc_percent", {{"device", "roof"}}), 85);
  EXPECT_EQ(e.value("tracermon_generated_energy_total_kilowatt_hours", {{"device", "roof"}}),
            1234.56);
  EXPECT_EQ(e.types["tracermon_battery_voltage_volts"], "gauge");
}

TEST_F(Metrics, DevicesShareOneFamilyPerField) {
  auto e = render();
  auto samples = e.of("tracermon_battery_voltage_volts");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].labels.at("device"), "roof");  // first seen first
  EXPECT_EQ(samples[1].labels.at("device"), "garage");
}

TEST_F(Metrics, RatedDataAndSettingsAreNotExported) {
  auto e = render();
  for (const auto& [name, type] : e.types) {
    EXPECT_THAT(name, ::testing::Not(::testing::HasSubstr("pv_rated_voltage"))) << name;
    EXPECT_THAT(name, ::testing::Not(::testing::HasSubstr("battery_capacity"))) << name;
    EXPECT_THAT(name, ::testing::Not(::testing::HasSubstr("battery_type"))) << name;
  }
  // The fast and slow fields of the same snapshot are there.
  EXPECT_TRUE(e.types.contains("tracermon_pv_voltage_volts"));
  EXPECT_TRUE(e.types.contains("tracermon_generated_energy_total_kilowatt_hours"));
}

TEST_F(Metrics, BusCountersPerDevice) {
  auto e = render();
  auto roof = std::map<std::string, std::string>{{"device", "roof"}, {"bus", "bus1"}, {"id", "1"}};
  auto garage = std::map<std::string, std::string>{{"device", "garage"}, {"bus", "bus1"}};
  EXPECT_EQ(e.value("tracermon_up", {}), 1);
  EXPECT_EQ(e.value("tracermon_bus_link_up", {{"bus", "bus1"}}), 1);
  EXPECT_EQ(e.value("tracermon_device_up", roof), 1);
  EXPECT_EQ(e.value("tracermon_device_up", garage), 0);
  EXPECT_EQ(e.value("tracermon_poll_cycles_total", roof), 42);
  EXPECT_EQ(e.value("tracermon_poll_cycles_total", garage), 40);
  EXPECT_EQ(e.value("tracermon_modbus_requests_total", roof), 1400);
  EXPECT_EQ(e.value("tracermon_modbus_timeouts_total", roof), 7);
  EXPECT_EQ(e.value("tracermon_modbus_timeouts_total", garage), 80);
  EXPECT_EQ(e.value("tracermon_modbus_crc_errors_total", roof), 3);
  auto code2 = roof;
  code2["code"] = "2";
  auto code4 = roof;
  code4["code"] = "4";
  EXPECT_EQ(e.value("tracermon_modbus_exceptions_total", code2), 5);
  EXPECT_EQ(e.value("tracermon_modbus_exceptions_total", code4), 1);
  EXPECT_EQ(e.value("tracermon_modbus_latency_seconds", roof), 0.0125);
}

TEST_F(Metrics, EveryDeviceCounterOfTheTableIsAFamily) {
  auto e = render();
  auto roof = std::map<std::string, std::string>{{"device", "roof"}, {"bus", "bus1"}, {"id", "1"}};
  for (const auto& counter : device_counters()) {
    std::string name(counter.metric);
    EXPECT_EQ(e.types[name], "counter") << name;
    EXPECT_EQ(e.helps[name], counter.help) << name;
    EXPECT_TRUE(e.value(name, roof).has_value()) << name;
  }
}

TEST_F(Metrics, OutputsShowTheirStateAndCounters) {
  model::OutputStatus influx;
  influx.name = "influxdb";
  influx.counters.sent = 12;
  influx.counters.queued = 3;
  influx.counters.in_outbox = 40;
  influx.counters.dropped = 5;
  influx.counters.rejected = 6;
  influx.counters.errors = 7;
  outputs.push_back(influx);
  auto e = render();
  std::map<std::string, std::string> labels{{"output", "influxdb"}};
  EXPECT_EQ(e.value("tracermon_output_up", labels), 0);
  EXPECT_EQ(e.value("tracermon_output_sent_total", labels), 12);
  EXPECT_EQ(e.value("tracermon_output_queued", labels), 3);
  EXPECT_EQ(e.value("tracermon_output_outbox_items", labels), 40);
  EXPECT_EQ(e.value("tracermon_output_dropped_total", labels), 5);
  EXPECT_EQ(e.value("tracermon_output_rejected_total", labels), 6);
  EXPECT_EQ(e.value("tracermon_output_errors_total", labels), 7);
  EXPECT_EQ(e.types["tracermon_output_queued"], "gauge");
  EXPECT_EQ(e.types["tracermon_output_sent_total"], "counter");
}

TEST_F(Metrics, LabelValuesAreEscaped) {
  const std::string odd = "west \"A\"\\1\nnew";
  add(snapshot(odd, 3, {sample("battery_voltage", 1300)}));
  buses[0].devices.push_back(device_status(odd, 3, model::Health::Online));
  buses[0].name = "bus \"x\"";
  auto e = render();
  EXPECT_EQ(e.value("tracermon_battery_voltage_volts", {{"device", odd}, {"id", "3"}}), 13);
  EXPECT_EQ(e.value("tracermon_device_up", {{"device", odd}, {"bus", "bus \"x\""}}), 1);
}

TEST_F(Metrics, NoBusesAndNoDevicesStillAnswer) {
  devices.clear();
  buses.clear();
  auto e = render();
  EXPECT_EQ(e.value("tracermon_up", {}), 1);
  EXPECT_EQ(e.samples.size(), 1u);
}

}  // namespace
}  // namespace tracermon::format
