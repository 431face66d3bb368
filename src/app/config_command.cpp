// `tracermon config check FILE`: reads the daemon's configuration as the daemon would and says
// what it would set up, so a mistake shows before the service is restarted.

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"

namespace tracermon::app {

namespace {

std::string days_text(int days) {
  return days == 0 ? "forever" : fmt::format("{} days", days);
}

std::string serial_text(const transport::SerialSettings& s) {
  char parity = s.parity == transport::Parity::None   ? 'N'
                : s.parity == transport::Parity::Even ? 'E'
                                                      : 'O';
  return fmt::format("{} 8{}{}{}", s.baud, parity, s.stop_bits, s.rs485 ? ", RS-485 mode" : "");
}

void print_summary(const DaemonConfig& c) {
  std::cout << fmt::format("{}: OK\n", c.file.string());
  for (const auto& bus : c.buses) {
    std::cout << fmt::format("bus {}: {}", bus.name, bus.port.to_string());
    if (bus.port.kind == transport::LinkKind::Serial) {
      std::cout << fmt::format(", {}", serial_text(bus.serial));
    }
    std::cout << fmt::format(", timeout {}, gap {}, {} retries, {} registers per request\n",
                             format_duration(bus.client.timeout), format_duration(bus.client.gap),
                             bus.client.retries, bus.max_registers);
    for (const auto& d : bus.devices) {
      std::cout << fmt::format("  device {:>3} {}{}, {}\n", d.id, d.name,
                               d.model.empty() ? "" : fmt::format(" ({})", d.model),
                               d.site.empty() ? "no site" : "site " + d.site);
    }
  }
  const auto& p = c.poll;
  std::cout << fmt::format("poll: fast {}, slow {}, settings {}, skip at most {} cycles\n",
                           format_duration(p.fast), format_duration(p.slow),
                           format_duration(p.settings), p.max_skip_cycles);
  const auto& s = c.store;
  if (s.enabled) {
    std::cout << fmt::format(
        "store: {}, commit every {}s; keep raw {}, minutes {}, hours {}, days {}\n",
        s.path.string(), s.commit_interval.count(), days_text(s.raw_days), days_text(s.minute_days),
        days_text(s.hour_days), days_text(s.day_days));
  } else {
    std::cout << "store: off\n";
  }
  std::cout << fmt::format("files: JSON {}; old tool's files {}\n",
                           c.files.json_dir.empty() ? "off" : c.files.json_dir.string(),
                           c.files.filesnap.empty() ? "off" : c.files.filesnap);
  if (c.http.enabled) {
    bool local = c.http.host == "127.0.0.1" || c.http.host == "::1" || c.http.host == "localhost";
    std::cout << fmt::format("http: {} ({})\n", c.http.listen(),
                             local ? "this machine only" : "open to the network");
  } else {
    std::cout << "http: off\n";
  }
  if (c.mqtt.enabled) {
    const auto& m = c.mqtt;
    std::cout << fmt::format(
        "mqtt: {}://{}:{}{}, topics {}/..., QoS {}, discovery {}\n",
        m.connection.tls ? "mqtts" : "mqtt", m.connection.host, m.connection.port,
        m.connection.username.empty() ? "" : " as " + m.connection.username, m.topics.topic_root,
        m.qos, m.discovery ? m.topics.discovery_prefix + "/..." : "off");
  } else {
    std::cout << "mqtt: off\n";
  }
  if (c.influxdb.enabled) {
    const auto& w = c.influxdb.options.writer;
    bool v2 = w.api == sinks::InfluxApi::V2;
    std::cout << fmt::format(
        "influxdb: {} API {}, {}{}{}\n", w.url, v2 ? "v2" : "v1",
        v2 ? "bucket " + w.bucket : "database " + w.database,
        c.influxdb.options.legacy ? ", legacy measurement " + c.influxdb.options.legacy_measurement
                                  : "",
        c.influxdb.ini_file.empty() ? "" : " (from " + c.influxdb.ini_file.string() + ")");
  } else {
    std::cout << "influxdb: off\n";
  }
  std::cout << fmt::format("runtime dir: {}\nlog level: {}\n", c.runtime_dir.string(), c.log.level);
}

}  // namespace

Command add_config_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("config", "Work with the daemon's configuration file");
  cmd->require_subcommand(1);
  auto* check = cmd->add_subcommand(
      "check", "Check a configuration file and print what it sets up (exit 2 when it is wrong)");
  check->add_option("file", *file, "The TOML file, e.g. /etc/tracermon/tracermon.toml")->required();
  return [file] {
    print_summary(load_config(*file));  // a ConfigError leaves through main: exit 2
    return k_exit_ok;
  };
}

}  // namespace tracermon::app
