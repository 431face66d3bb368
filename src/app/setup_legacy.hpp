#pragma once
// `setup --from-legacy DIR`: what the old tool's files say (DIR/influx.db and its cron lines).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/influx_ini.hpp"
#include "app/legacy_cron.hpp"

namespace tracermon::app {

// The old tool's fixed port.
inline constexpr std::string_view k_legacy_port = "/dev/ttyXRUSB0";

struct LegacyPlan {
  std::filesystem::path crontab;  // where the cron lines were read
  std::vector<LegacyJob> jobs;    // every logtracer.py line
  std::vector<std::uint8_t> ids;  // of dbsnap and filesnap, in order of first appearance
  bool filesnap = false;
  std::optional<LegacyJob> dbsnap;  // the first dbsnap line, if any
  std::optional<InfluxIni> influx;  // read when a dbsnap line is there
  std::filesystem::path influx_file;
};

// Reads `crontab` (or DIR/crontab when empty) and, for dbsnap, DIR/influx.db. Throws
// LegacyInputError or ConfigError naming the file and line; nothing is written after either.
LegacyPlan read_legacy(const std::filesystem::path& dir, const std::filesystem::path& crontab);

}  // namespace tracermon::app
