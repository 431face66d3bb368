#include "app/setup_config.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/config.hpp"

namespace tracermon::app {

extern const std::string_view k_example_config_toml;  // examples/tracermon.toml, embedded

namespace {

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// "key = value   # comment" padded so the comments line up as in the example.
std::string key_line(std::string_view indent, std::string_view key, std::string_view value,
                     std::string_view comment = {}) {
  auto text = fmt::format("{}{} = {}", indent, key, value);
  if (comment.empty()) return text + "\n";
  return fmt::format("{:<30}# {}\n", text + " ", comment);
}

// The example up to the comment paragraph before its first [[bus]]: every setting but the
// buses, with the example's comments.
std::vector<std::string> example_head(std::string_view example) {
  auto lines = lines_of(example);
  auto bus = std::find(lines.begin(), lines.end(), "[[bus]]");
  while (bus != lines.begin() && (bus - 1)->starts_with("#"))
    --bus;
  lines.erase(bus, lines.end());
  while (!lines.empty() && lines.back().empty())
    lines.pop_back();
  return lines;
}

std::string influx_url(const InfluxIni& ini) {
  bool v6 = ini.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", ini.host, v6 ? "]" : "", ini.port);
}

std::string influx_section(const LegacyInflux& influx) {
  std::string out = fmt::format(
      "\n# The old tool's InfluxDB point, from {}.\n"
      "[influxdb]\n",
      influx.source);
  out += key_line("", "url", toml_string(influx_url(influx.ini)));
  out += key_line("", "database", toml_string(influx.ini.database));
  if (!influx.ini.user.empty()) {
    out += key_line("", "username", toml_string(influx.ini.user));
    out += key_line("", "password", toml_string(influx.ini.password));
  }
  out += key_line("", "legacy", "true", "also the old tool's point, as dbsnap wrote it");
  out += key_line("", "legacy_measurement", toml_string(influx.ini.measurement));
  std::vector<std::string> names;
  for (const auto& name : influx.legacy_devices)
    names.push_back(toml_string(name));
  out += key_line("", "legacy_devices", fmt::format("[{}]", fmt::join(names, ", ")),
                  "the first one's values first");
  auto interval = toml_string(format_duration(influx.interval));
  out += key_line("", "legacy_interval", interval, "the old cron job's interval");
  return out;
}

std::string bus_section(const SetupBus& bus) {
  std::string out = "\n";
  if (!bus.comment.empty()) out += fmt::format("# {}\n", bus.comment);
  out += "[[bus]]\n";
  out += key_line("", "name", toml_string(bus.name), "A-Z a-z 0-9 _ -");
  out += key_line("", "port", toml_string(bus.port));
  out += key_line("", "baud", std::to_string(bus.baud),
                  bus.answered ? "the rate the controllers answered at" : "the old tool's rate");
  if (bus.rs485) {
    out +=
        key_line("", "rs485", "true", "the Exar cable under xr_serial sends only in RS-485 mode");
  }
  out += key_line("# ", "site", toml_string(bus.name),
                  "its controllers share a battery (PAL-ADP); \"\" = they do not");
  out += "# timeout, gap, retries, max_registers, parity, rs485: see docs/configuration.md\n";
  for (const auto& device : bus.devices) {
    out += "\n  [[bus.device]]\n";
    out += key_line("  ", "id", std::to_string(device.id), "Modbus slave id");
    out += key_line("  ", "name", toml_string(device.name), "unique over the file");
    if (!device.model.empty()) {
      out += key_line("  ", "model", toml_string(device.model), device.comment);
    } else if (!device.comment.empty()) {
      out += fmt::format("  # {}\n", device.comment);
    }
  }
  return out;
}

}  // namespace

void name_devices(std::vector<SetupBus>& buses) {
  std::map<int, int> buses_with_id;
  for (const auto& bus : buses) {
    for (const auto& device : bus.devices)
      ++buses_with_id[device.id];
  }
  for (auto& bus : buses) {
    for (auto& device : bus.devices) {
      if (!device.name.empty()) continue;
      device.name = buses_with_id[device.id] > 1 ? fmt::format("{}-tracer{}", bus.name, device.id)
                                                 : fmt::format("tracer{}", device.id);
    }
  }
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\u{:04X}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string setup_config_text(const SetupConfig& config, std::string_view example) {
  auto head = example_head(example);
  std::string out;
  for (std::size_t i = 0; i < head.size(); ++i) {
    const auto& line = head[i];
    if (i == 0) {
      out += fmt::format("# tracermon daemon configuration, written by `tracermon setup` on {}.\n",
                         config.written_on);
    } else if (line.starts_with("filesnap = ") && !config.filesnap.empty()) {
      out += key_line("", "filesnap", toml_string(config.filesnap),
                      "the old tool's key:value files (logtracer.py filesnap)");
    } else {
      out += line + "\n";
    }
  }
  if (config.influx) out += influx_section(*config.influx);
  for (const auto& bus : config.buses)
    out += bus_section(bus);
  return out;
}

std::string setup_config_text(const SetupConfig& config) {
  return setup_config_text(config, k_example_config_toml);
}

}  // namespace tracermon::app
