#include "web/metrics.hpp"

#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sinks/live_state.hpp"
#include "snapshot_builder.hpp"

namespace tracermon::web {
namespace {

using test::sample;
using test::snapshot;

// One line of the exposition, parsed by the text format's rules.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter/gauge
  std::map<std::string, std::string> helps;
  std::vector<Sample> samples;
  std::vector<std::string> problems;  // rule violations, with the line

  [[nodiscard]] std::vector<Sample> of(const std::string& name) const {
    std::vector<Sample> out;
    for (const auto& s : samples) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }
  [[nodiscard]] std::optional<double> value(
      const std::string& name, const std::map<std::string, std::string>& labels) const {
    std::optional<double> found;
    for (const auto& s : samples) {
      bool match = s.name == name;
      for (const auto& [key, value] : labels) {
        auto it = s.labels.find(key);
        match = match && it != s.labels.end() && it->second == value;
      }
      if (match) {
        if (found) ADD_FAILURE() << "two samples of " << name << " match";
        found = s.value;
      }
    }
    return found;
  }
};

// Label set "{a=\"x\",b=\"y\"}" from `at` (just after the name); unescapes \\, \" and \n.
bool parse_labels(const std::string& line, std::size_t& at,
                  std::map<std::string, std::string>& labels) {
  static const std::regex k_label_name("[a-zA-Z_][a-zA-Z0-9_]*");
  ++at;  // '{'
  while (at < line.size() && line[at] != '}') {
    auto eq = line.find('=', at);
    if (eq == std::string::npos) return false;
    auto key = line.substr(at, eq - at);
    if (!std::regex_match(key, k_label_name)) return false;
    at = eq + 1;
    if (at >= line.size() || line[at] != '"') return false;
    ++at;
    std::string value;
    for (;;) {
      if (at >= line.size()) return false;
      char c = line[at++];
      if (c == '"') break;
      if (c == '\\') {
        if (at >= line.size()) return false;
        char e = line[at++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          return false;
        }
      } else {
        value += c;
      }
    }
    if (!labels.emplace(key, value).second) return false;  // label twice
    if (at < line.size() && line[at] == ',') ++at;
  }
  if (at >= line.size()) return false;
  ++at;  // '}'
  return true;
}

Exposition parse(const std::string& text) {
  static const std::regex k_metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  Exposition out;
  std::set<std::string> finished;  // families whose samples have ended
  std::string current;             // family of the last TYPE line
  std::istringstream in(text);
  std::string line;
  auto problem = [&](const std::string& what) { out.problems.push_back(what + ": " + line); };
  if (!text.empty() && text.back() != '\n') out.problems.push_back("no final newline");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      bool help = line[2] == 'H';
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      auto name = rest.substr(0, space);
      auto what = space == std::string::npos ? "" : rest.substr(space + 1);
      if (!std::regex_match(name, k_metric_name)) problem("bad family name");
      auto& seen = help ? out.helps : out.types;
      if (!seen.emplace(name, what).second) problem(help ? "second HELP" : "second TYPE");
      if (!help) {
        if (what != "counter" && what != "gauge") problem("unknown type");
        if (!current.empty()) finished.insert(current);
        current = name;
        if (!out.helps.contains(name)) problem("TYPE before HELP");
      }
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    auto end = line.find_first_of("{ ");
    if (end == std::string::npos) {
      problem("no value");
      continue;
    }
    s.name = line.substr(0, end);
    std::size_t at = end;
    if (line[at] == '{' && !parse_labels(line, at, s.labels)) {
      problem("bad labels");
      continue;
    }
    if (at >= line.size() || line[at] != ' ') {
      problem("no space before value");
      continue;
    }
    auto value_text = line.substr(at + 1);
    char* value_end = nullptr;
    s.value = std::strtod(value_text.c_str(), &value_end);
    if (value_text.empty() || *value_end != '\0') problem("bad value");
    if (s.name != current) problem("sample outside its family (" + current + ")");
    if (finished.contains(s.name)) problem("family continued after another");
    out.samples.push_back(std::move(s));
  }
  for (const auto& [name, type] : out.types) {
    if (!out.helps.contains(name)) out.problems.push_back("no HELP for " + name);
  }
  for (const auto& [name, help] : out.helps) {
    if (!out.types.contains(name)) out.problems.push_back("no TYPE for " + name);
  }
  return out;
}

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
    live.merge(
        snapshot("roof", 1,
                 {sample("pv_voltage", 1852), sample("pv_current", 250), sample("pv_power", 4630),
                  sample("battery_voltage", 1380), sample("battery_temperature", -500),
                  sample("battery_soc", 85), sample("generated_energy_total", 123456),
                  sample("pv_rated_voltage", 10000), sample("battery_capacity", 200),
                  sample("battery_type", 1)}));
    live.merge(snapshot("garage", 2, {sample("battery_voltage", 1275)}));

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

    view.map = &test::map();
    view.live = &live;
    view.buses = [this] { return buses; };
  }

  Exposition render() {
    auto text = render_metrics(view);
    auto exposition = parse(text);
    EXPECT_THAT(exposition.problems, ::testing::IsEmpty()) << text;
    return exposition;
  }

  sinks::LiveState live;
  std::vector<model::BusStatus> buses;
  DaemonView view;
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
  auto text = render_metrics(view);
  auto exposition = parse(text);
  EXPECT_THAT(exposition.problems, ::testing::IsEmpty()) << text;
  EXPECT_FALSE(exposition.samples.empty());
}

TEST_F(Metrics, ListenerConnectionsAndRefusalsFollowTheTextFormat) {
  ListenerCounters counters;
  counters.open = 3;
  counters.accepted = 40;
  counters.refused_busy = 5;
  counters.refused_requests = 2;
  counters.timed_out = 1;
  auto text = render_metrics(view) + render_listener_metrics(counters);
  auto e = parse(text);
  EXPECT_THAT(e.problems, ::testing::IsEmpty()) << text;
  EXPECT_EQ(e.types["tracermon_http_connections"], "gauge");
  EXPECT_EQ(e.value("tracermon_http_connections", {}), 3);
  EXPECT_EQ(e.value("tracermon_http_connections_accepted_total", {}), 40);
  EXPECT_EQ(e.value("tracermon_http_refused_total", {{"reason", "connections"}}), 5);
  EXPECT_EQ(e.value("tracermon_http_refused_total", {{"reason", "request"}}), 2);
  EXPECT_EQ(e.value("tracermon_http_refused_total", {{"reason", "timeout"}}), 1);
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

TEST_F(Metrics, LabelValuesAreEscaped) {
  const std::string odd = "west \"A\"\\1\nnew";
  live.merge(snapshot(odd, 3, {sample("battery_voltage", 1300)}));
  buses[0].devices.push_back(device_status(odd, 3, model::Health::Online));
  buses[0].name = "bus \"x\"";
  auto e = render();
  EXPECT_EQ(e.value("tracermon_battery_voltage_volts", {{"device", odd}, {"id", "3"}}), 13);
  EXPECT_EQ(e.value("tracermon_device_up", {{"device", odd}, {"bus", "bus \"x\""}}), 1);
}

TEST_F(Metrics, NoBusesAndNoDevicesStillAnswer) {
  sinks::LiveState empty;
  view.live = &empty;
  buses.clear();
  auto e = render();
  EXPECT_EQ(e.value("tracermon_up", {}), 1);
  EXPECT_EQ(e.samples.size(), 1u);
}

}  // namespace
}  // namespace tracermon::web
