#include "app/influx_ini.hpp"

#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "app/config.hpp"

namespace tracermon::app {
namespace {

constexpr std::string_view k_section = "influxdb";
constexpr std::string_view k_keys_allowed = "Host, Port, DB, User, Pass, Measurement";

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0)
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0)
    text.remove_suffix(1);
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void fail(const std::filesystem::path& file, int line, std::string_view what,
                       std::string_view allowed) {
  throw ConfigError(fmt::format("{}:{}: {}; allowed: {}", file.string(), line, what, allowed));
}

std::string* key_target(InfluxIni& ini, std::string_view key) {
  const std::array<std::pair<std::string_view, std::string*>, 6> k_targets = {{
      {"host", &ini.host},
      {"port", &ini.port},
      {"db", &ini.database},
      {"user", &ini.user},
      {"pass", &ini.password},
      {"measurement", &ini.measurement},
  }};
  for (const auto& [name, target] : k_targets) {
    if (equals_ignoring_case(key, name)) return target;
  }
  return nullptr;
}

bool valid_port(std::string_view text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc{} && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

}  // namespace

InfluxIni parse_influx_ini(std::string_view text, const std::filesystem::path& file) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a BOM from a Windows editor
  InfluxIni ini;
  bool found_section = false;
  bool in_section = false;
  bool in_any_section = false;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    auto end = text.find('\n');
    auto line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;

    if (line.front() == '[') {
      if (line.back() != ']') {
        fail(file, line_number, fmt::format("'{}' is not a section header", line), "[INFLUXDB]");
      }
      in_section = equals_ignoring_case(trim(line.substr(1, line.size() - 2)), k_section);
      found_section = found_section || in_section;
      in_any_section = true;
      continue;
    }

    auto separator = line.find_first_of("=:");
    if (separator == std::string_view::npos || trim(line.substr(0, separator)).empty()) {
      fail(file, line_number, fmt::format("'{}' is neither a key nor a section", line),
           "[INFLUXDB], 'key = value', 'key: value', # or ; comments");
    }
    auto key = trim(line.substr(0, separator));
    auto value = trim(line.substr(separator + 1));
    if (!in_any_section) {
      fail(file, line_number, fmt::format("key '{}' before any section", key), "[INFLUXDB] first");
    }
    if (!in_section) continue;  // another section: the old tool did not read it either
    auto* target = key_target(ini, key);
    if (target == nullptr) {
      fail(file, line_number, fmt::format("unknown key '{}' in [INFLUXDB]", key), k_keys_allowed);
    }
    if (target == &ini.port && !valid_port(value)) {
      fail(file, line_number, fmt::format("Port '{}' is not a port number", value), "1-65535");
    }
    *target = std::string(value);
  }
  if (!found_section) {
    fail(file, 1, "no [INFLUXDB] section",
         fmt::format("an [INFLUXDB] section with {}", k_keys_allowed));
  }
  return ini;
}

InfluxIni load_influx_ini(const std::filesystem::path& file) {
  return parse_influx_ini(read_config_file(file), file);
}

}  // namespace tracermon::app
