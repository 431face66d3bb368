#pragma once
// The old tool's InfluxDB settings file (`influx.db`), so an installation can move over without
// retyping them:
//
//   [INFLUXDB]
//   Host = 127.0.0.1
//   Port = 8086
//   DB = solar
//   User = grafana
//   Pass = solar
//   Measurement = solar
//
// Section and key names are case-insensitive; `key = value` or `key: value`; whole-line `#` and
// `;` comments. Other sections are ignored (the old tool read only this one). A key left out
// keeps the old tool's default (the values above).

#include <filesystem>
#include <string>
#include <string_view>

namespace tracermon::app {

struct InfluxIni {
  std::string host = "127.0.0.1";
  std::string port = "8086";  // checked: 1-65535
  std::string database = "solar";
  std::string user = "grafana";
  std::string password = "solar";
  std::string measurement = "solar";
};

// Throws ConfigError (app/config.hpp) "FILE:LINE: what; allowed: ..." for a line that is
// neither a section, a key nor a comment, an unknown key, a port that is not 1-65535, or a file
// without an [INFLUXDB] section.
InfluxIni parse_influx_ini(std::string_view text, const std::filesystem::path& file);
// Reads and parses the file; a file that cannot be read is a ConfigError too.
InfluxIni load_influx_ini(const std::filesystem::path& file);

}  // namespace tracermon::app
