#include "web/metrics.hpp"

#include <map>
#include <vector>

#include <fmt/format.h>

#include "protocol/decode.hpp"

namespace tracermon::web {

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
  void family(const std::string& name, const char* type, std::string_view help) {
    if (families.contains(name)) return;
    order.push_back(name);
    families[name] = Family{type, escape_help(help), {}};
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

std::string render_metrics(const DaemonView& view) {
  Writer w;
  w.family("tracermon_up", "gauge", "1 while the daemon runs");
  w.sample("tracermon_up", "", 1);
  for (const auto& bus : view.buses()) {
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
      auto counter = [&](const char* name, const char* help, std::uint64_t value) {
        w.family(name, "counter", help);
        w.sample(name, labels, static_cast<double>(value));
      };
      counter("tracermon_poll_cycles_total", "Poll cycles tried", c.cycles);
      counter("tracermon_poll_silent_cycles_total", "Poll cycles without any answer",
              c.silent_cycles);
      counter("tracermon_modbus_requests_total", "Modbus requests sent, retries included",
              c.requests);
      counter("tracermon_modbus_replies_total", "Valid replies, exceptions included", c.replies);
      counter("tracermon_modbus_timeouts_total", "Requests without a reply in time", c.timeouts);
      counter("tracermon_modbus_crc_errors_total", "Frames for us with a bad CRC", c.crc_errors);
      counter("tracermon_modbus_bad_replies_total", "Replies that did not fit the request",
              c.bad_replies);
      counter("tracermon_modbus_wrong_unit_total", "Frames from another slave id", c.wrong_unit);
      counter("tracermon_modbus_echoes_total", "Our own request echoed back by the adapter",
              c.echoes);
      counter("tracermon_modbus_noise_bytes_total", "Bytes on the line that belonged to no frame",
              c.noise_bytes);
      counter("tracermon_modbus_late_replies_total",
              "Replies that came after their request gave up (discarded)", c.late_replies);
      counter("tracermon_modbus_other_master_frames_total",
              "Another master's requests and the replies to them", c.other_master);
      counter("tracermon_modbus_retries_total", "Requests sent again", c.retries);
      counter("tracermon_modbus_link_errors_total", "Port open or I/O failures", c.link_errors);
      counter("tracermon_rejected_values_total", "Values read but physically impossible",
              c.rejected_values);
      counter("tracermon_energy_counter_resets_total", "Energy totals that restarted",
              c.counter_resets);
      w.family("tracermon_modbus_exceptions_total", "counter", "Modbus exception replies by code");
      for (const auto& [code, count] : c.exceptions) {
        w.sample("tracermon_modbus_exceptions_total", fmt::format("{},code=\"{}\"", labels, code),
                 static_cast<double>(count));
      }
      w.family("tracermon_modbus_latency_seconds", "gauge", "Mean reply latency");
      w.sample("tracermon_modbus_latency_seconds", labels, c.latency_ms_mean / 1000.0);
    }
  }
  if (view.outputs) {
    for (const auto& output : view.outputs()) {
      auto labels = fmt::format("output=\"{}\"", escape_label(output.name));
      const auto& c = output.counters;
      auto sample = [&](const char* name, const char* type, const char* help, double value) {
        w.family(name, type, help);
        w.sample(name, labels, value);
      };
      sample("tracermon_output_up", "gauge", "1 when the output's far end accepts deliveries",
             output.connected ? 1 : 0);
      sample("tracermon_output_sent_total", "counter", "Items delivered",
             static_cast<double>(c.sent));
      sample("tracermon_output_queued", "gauge", "Items waiting in memory",
             static_cast<double>(c.queued));
      sample("tracermon_output_outbox_items", "gauge", "Items waiting in the outbox on disk",
             static_cast<double>(c.in_outbox));
      sample("tracermon_output_dropped_total", "counter",
             "Items lost to the queue or outbox bounds", static_cast<double>(c.dropped));
      sample("tracermon_output_rejected_total", "counter", "Items the far end refused",
             static_cast<double>(c.rejected));
      sample("tracermon_output_errors_total", "counter", "Failed deliveries",
             static_cast<double>(c.errors));
    }
  }
  for (const auto& snapshot : view.live->devices()) {
    auto labels =
        fmt::format("device=\"{}\",id=\"{}\"", escape_label(snapshot->device), snapshot->unit);
    for (const auto& sample : snapshot->fields) {
      const auto& field = view.map->field(sample.id);
      if (field.poll != protocol::PollClass::Fast && field.poll != protocol::PollClass::Slow) {
        continue;  // rated data and settings are in /api/v1/latest
      }
      auto name = metric_name(field.name, field.unit);
      w.family(name, "gauge", field.description.empty() ? field.name : field.description);
      w.sample(name, labels, sample.value);
    }
  }
  return w.text();
}

std::string render_listener_metrics(const ListenerCounters& counters) {
  return fmt::format(
      "# HELP tracermon_http_connections HTTP connections open now.\n"
      "# TYPE tracermon_http_connections gauge\n"
      "tracermon_http_connections {}\n"
      "# HELP tracermon_http_connections_accepted_total HTTP connections accepted.\n"
      "# TYPE tracermon_http_connections_accepted_total counter\n"
      "tracermon_http_connections_accepted_total {}\n"
      "# HELP tracermon_http_refused_total Connections and requests the HTTP listener refused: "
      "at the connection limit (503), oversized or with a body (400, 413, 414, 431), head not "
      "complete in time (408).\n"
      "# TYPE tracermon_http_refused_total counter\n"
      "tracermon_http_refused_total{{reason=\"connections\"}} {}\n"
      "tracermon_http_refused_total{{reason=\"request\"}} {}\n"
      "tracermon_http_refused_total{{reason=\"timeout\"}} {}\n",
      counters.open, counters.accepted, counters.refused_busy, counters.refused_requests,
      counters.timed_out);
}

}  // namespace tracermon::web
