#pragma once
// The configuration text `tracermon setup` writes: the example configuration's comments and
// defaults (examples/tracermon.toml, embedded), then one [[bus]] per adapter with controllers.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/influx_ini.hpp"

namespace tracermon::app {

struct SetupDevice {
  std::uint8_t id = 1;
  std::string name;     // empty: set by name_devices
  std::string model;    // product code, may be empty
  std::string comment;  // "24V 30A, firmware V02.13+V07.24"
};

struct SetupBus {
  std::string name;  // "bus1"
  std::string port;  // the by-id path when there is one
  int baud = 115200;
  std::string comment;  // what the adapter is
  std::vector<SetupDevice> devices;
  bool answered = true;  // false: the old tool's port and rate, nobody answered during setup
  bool rs485 = false;    // the adapter answered in RS-485 mode (the Exar cable, xr_serial)
};

// The old tool's InfluxDB point, moved over by `setup --from-legacy`.
struct LegacyInflux {
  InfluxIni ini;
  std::string source;                       // "influx.db and the cron line ..." for a comment
  std::vector<std::string> legacy_devices;  // device names, the first one's values first
  std::chrono::minutes interval{1};
};

struct SetupConfig {
  std::string written_on;  // "2026-12-07 22:42 UTC"
  std::vector<SetupBus> buses;
  std::string filesnap;  // empty: off
  std::optional<LegacyInflux> influx;
};

// Names every device without one: "tracer<id>", or "<bus>-tracer<id>" where an id is on more
// than one bus, so names stay unique over the file.
void name_devices(std::vector<SetupBus>& buses);

// A TOML basic string with quotes, escapes and \uXXXX for control characters.
std::string toml_string(std::string_view text);

// The configuration: `example` (the text of examples/tracermon.toml) up to its first [[bus]]
// and the comment before it, with filesnap set, then [influxdb] and the buses.
std::string setup_config_text(const SetupConfig& config, std::string_view example);
// The same with the embedded example.
std::string setup_config_text(const SetupConfig& config);

}  // namespace tracermon::app
