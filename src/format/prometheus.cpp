#include "format/prometheus.hpp"

#include <map>
#include <vector>

#include <fmt/format.h>

#include "format/counters.hpp"
#include "model/clock_drift.hpp"

namespace tracermon::format {

namespace {

std::string unit_suffix(std::string_view unit) {
  // registers.csv spells Celsius "degC"; the degree-sign spelling is accepted too.
  static const std::map<std::string_view, std::string_view> suffixes = {
      {"V", "volts"},      {"A", "amperes"},      {"W", "watts"},     {"kWh", "kilowatt_hours"},
      {"%", "percent"},    {"s", "seconds"},      {"min", "minutes"}, {"h", "hours"},
      {"degC", "celsius"}, {"\u00b0C", "celsius"}};
  auto it = suffixes.find(unit);
  return it == suffixes.end() ? "" : std::string(it->second);
}

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The text format wants every sample of a family together, so samples are collected per family
// and written at the end, families in the order first seen.
struct Writer {
  struct Family {
    std::string type;
    std::string help;
    std::string samples;
  };
  std::vector<std::string> order;
  std::map<std::string, Family> families;
  void family(const std::string& name, std::string_view type, std::string_view help) {
    if (families.contains(name)) return;
    order.push_back(name);
    families[name] = Family{std::string(type), escape_help(help), {}};
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    auto& samples = families[name].samples;
    if (labels.empty()) {
      samples += fmt::format("{} {}\n", name, value);
    } else {
      samples += fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
  }
  [[nodiscard]] std::string text() const {
    std::string out;
    for (const auto& name : order) {
      const auto& f = families.at(name);
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}", name, f.help, name, f.type, f.samples);
    }
    return out;
  }
};

}  // namespace

std::string metric_name(std::string_view field, std::string_view unit) {
  auto suffix = unit_suffix(unit);
  return suffix.empty() ? fmt::format("tracermon_{}", field)
                        : fmt::format("tracermon_{}_{}", field, suffix);
}

std::string prometheus_text(const protocol::RegisterMap& map,
                            std::span<const model::BusStatus> buses,
                            std::span<const model::OutputStatus> outputs,
                            std::span<const model::SnapshotPtr> devices) {
  Writer w;
  w.family("tracermon_up", "gauge", "1 while the daemon runs");
  w.sample("tracermon_up", "", 1);
  for (const auto& bus : buses) {
    auto bus_labels = fmt::format("bus=\"{}\"", escape_label(bus.name));
    w.family("tracermon_bus_link_up", "gauge", "1 when the bus port is open and answering");
    w.sample("tracermon_bus_link_up", bus_labels, bus.link_up ? 1 : 0);
    for (const auto& d : bus.devices) {
      auto labels = fmt::format("device=\"{}\",bus=\"{}\",id=\"{}\"", escape_label(d.name),
                                escape_label(bus.name), d.unit);
      const auto& c = d.counters;
      w.family("tracermon_device_up", "gauge", "1 when the device answered its last poll");
      w.sample("tracermon_device_up", labels,
               d.health == model::Health::Online || d.health == model::Health::Degraded ? 1 : 0);
      for (const auto& counter : device_counters()) {
        std::string name(counter.metric);
        w.family(name, "counter", counter.help);
        w.sample(name, labels, static_cast<double>(c.*counter.member));
      }
      std::string exceptions(k_exception_counts.metric);
      w.family(exceptions, "counter", k_exception_counts.help);
      for (const auto& [code, count] : c.exceptions) {
        w.sample(exceptions, fmt::format("{},code=\"{}\"", labels, code),
                 static_cast<double>(count));
      }
      for (const auto& latency : device_latencies()) {
        if (latency.metric.empty()) continue;
        std::string name(latency.metric);
        w.family(name, "gauge", latency.help);
        w.sample(name, labels, c.*latency.member / 1000.0);  // milliseconds -> seconds
      }
    }
  }
  for (const auto& output : outputs) {
    auto labels = fmt::format("output=\"{}\"", escape_label(output.name));
    w.family("tracermon_output_up", "gauge", "1 when the output's far end accepts deliveries");
    w.sample("tracermon_output_up", labels, output.connected ? 1 : 0);
    for (const auto& counter : output_counters()) {
      std::string name(counter.metric);
      w.family(name, to_string(counter.type), counter.help);
      w.sample(name, labels, static_cast<double>(output.counters.*counter.member));
    }
  }
  for (const auto& snapshot : devices) {
    auto labels =
        fmt::format("device=\"{}\",id=\"{}\"", escape_label(snapshot->device), snapshot->unit);
    for (const auto& sample : snapshot->fields) {
      const auto& field = map.field(sample.id);
      if (field.poll != protocol::PollClass::Fast && field.poll != protocol::PollClass::Slow) {
        continue;  // rated data and settings are in /api/v1/latest
      }
      auto name = metric_name(field.name, field.unit);
      w.family(name, "gauge", field.description.empty() ? field.name : field.description);
      w.sample(name, labels, sample.value);
    }
    // Absent while it cannot be told (clock words not read yet, never set): no made-up 0.
    if (auto drift = model::clock_drift_s(map, *snapshot)) {
      w.family("tracermon_clock_drift_seconds", "gauge",
               "Controller clock minus the host's local time when the clock was read (s)");
      w.sample("tracermon_clock_drift_seconds", labels, *drift);
    }
  }
  return w.text();
}

}  // namespace tracermon::format
