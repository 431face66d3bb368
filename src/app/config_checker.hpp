#pragma once
// Internal to the configuration parser (config.cpp, config_outputs.cpp): the checker that turns
// every mistake into "FILE:LINE: KEY: what; allowed: ...", and the limits shared by the tables.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <toml++/toml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/config.hpp"

namespace tracermon::app::config_detail {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds k_max_duration = std::chrono::hours(24 * 7);
constexpr std::size_t k_max_name = 64;
constexpr std::int64_t k_max_days = 36500;

constexpr std::string_view k_port_forms =
    "a serial device (/dev/ttyUSB0), tcp://HOST[:PORT], rtu+tcp://HOST:PORT or sim:OPTIONS";
constexpr std::string_view k_name_rule = "1-64 characters A-Z a-z 0-9 _ -";

inline std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

inline std::uint32_t line_of(const toml::source_region& source) {
  return source.begin.line == 0 ? 1 : source.begin.line;
}
inline std::uint32_t line_of(const toml::node& node) {
  return line_of(node.source());
}

inline std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

inline bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > k_max_name) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Walks the document and turns every mistake into "FILE:LINE: KEY: what; allowed: ...".
class Checker {
 public:
  Checker(std::string file, std::filesystem::path folder)
      : m_file(std::move(file)), m_folder(std::move(folder)) {}

  [[noreturn]] void fail(std::uint32_t line, std::string_view key, std::string_view what,
                         std::string_view allowed) const {
    if (allowed.empty()) throw ConfigError(fmt::format("{}:{}: {}: {}", m_file, line, key, what));
    throw ConfigError(fmt::format("{}:{}: {}: {}; allowed: {}", m_file, line, key, what, allowed));
  }
  [[noreturn]] void fail(const toml::node& node, std::string_view key, std::string_view what,
                         std::string_view allowed) const {
    fail(line_of(node), key, what, allowed);
  }

  // Unknown keys are mistakes (a typo would otherwise silently keep a default). The first one in
  // the file is reported, whatever the order of the table.
  void allow_only(const toml::table& table, std::string_view path,
                  std::span<const std::string_view> allowed) const {
    const toml::key* first = nullptr;
    const toml::node* first_node = nullptr;
    for (const auto& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      if (first == nullptr || line_of(key.source()) < line_of(first->source())) {
        first = &key;
        first_node = &node;
      }
    }
    if (first == nullptr) return;
    fail(line_of(first->source()), join(path, first->str()),
         first_node->is_table() ? "unknown table" : "unknown key",
         fmt::format("{}", fmt::join(allowed, ", ")));
  }

  const toml::table* table(const toml::table& parent, std::string_view key,
                           std::string_view allowed) const {
    const auto* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      fail(*node, key, fmt::format("expected a table, got {}", type_name(*node)), allowed);
    }
    return node->as_table();
  }

  std::optional<std::string> string(const toml::table& t, std::string_view path,
                                    std::string_view key, std::string_view allowed) const {
    const auto* node = t.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      fail(*node, join(path, key), fmt::format("expected a string, got {}", type_name(*node)),
           allowed);
    }
    return node->as_string()->get();
  }

  std::optional<bool> boolean(const toml::table& t, std::string_view path,
                              std::string_view key) const {
    const auto* node = t.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_boolean()) {
      fail(*node, join(path, key), fmt::format("expected a boolean, got {}", type_name(*node)),
           "true, false");
    }
    return node->as_boolean()->get();
  }

  std::optional<std::int64_t> integer(const toml::table& t, std::string_view path,
                                      std::string_view key, std::int64_t min,
                                      std::int64_t max) const {
    const auto* node = t.get(key);
    if (node == nullptr) return std::nullopt;
    auto allowed = fmt::format("{}-{}", min, max);
    if (!node->is_integer()) {
      fail(*node, join(path, key), fmt::format("expected an integer, got {}", type_name(*node)),
           allowed);
    }
    auto value = node->as_integer()->get();
    if (value < min || value > max) {
      fail(*node, join(path, key), fmt::format("{} is out of range", value), allowed);
    }
    return value;
  }

  // "5s" or whole seconds, within [min, max].
  std::optional<milliseconds> duration(const toml::table& t, std::string_view path,
                                       std::string_view key, milliseconds min,
                                       milliseconds max) const {
    const auto* node = t.get(key);
    if (node == nullptr) return std::nullopt;
    auto allowed = fmt::format("{} to {}, as \"500ms\", \"5s\", \"1m\", \"1h\" or whole seconds",
                               format_duration(min), format_duration(max));
    milliseconds value{};
    if (node->is_integer()) {
      auto seconds = node->as_integer()->get();
      if (seconds < 0 || seconds > std::chrono::duration_cast<std::chrono::seconds>(max).count()) {
        fail(*node, join(path, key), fmt::format("{} seconds is out of range", seconds), allowed);
      }
      value = std::chrono::seconds(seconds);
    } else if (node->is_string()) {
      try {
        value = parse_duration(node->as_string()->get());
      } catch (const std::invalid_argument& e) {
        fail(*node, join(path, key), e.what(), allowed);
      }
    } else {
      fail(*node, join(path, key),
           fmt::format("expected a duration string or an integer, got {}", type_name(*node)),
           allowed);
    }
    if (value < min || value > max) {
      fail(*node, join(path, key), fmt::format("{} is out of range", format_duration(value)),
           allowed);
    }
    return value;
  }

  // A name that can be an MQTT topic level and a file name; "" only where `empty_ok`.
  std::optional<std::string> name(const toml::table& t, std::string_view path, std::string_view key,
                                  bool empty_ok) const {
    auto allowed =
        empty_ok ? fmt::format("{}, or \"\" for none", k_name_rule) : std::string(k_name_rule);
    auto value = string(t, path, key, allowed);
    if (!value || (empty_ok && value->empty())) return value;
    if (!valid_name(*value)) {
      fail(*t.get(key), join(path, key), fmt::format("'{}' is not a usable name", *value), allowed);
    }
    return value;
  }

  // Relative paths are relative to the config file's folder, so the file can move with its data.
  std::filesystem::path resolve(const std::filesystem::path& path) const {
    if (path.empty() || path.is_absolute()) return path;
    return (m_folder / path).lexically_normal();
  }

  std::optional<std::filesystem::path> path(const toml::table& t, std::string_view path_key,
                                            std::string_view key, bool empty_ok) const {
    auto allowed = empty_ok ? "a path (relative: to the config file's folder), or \"\" for off"
                            : "a path (relative: to the config file's folder)";
    auto value = string(t, path_key, key, allowed);
    if (!value) return std::nullopt;
    if (value->empty() && !empty_ok) fail(*t.get(key), join(path_key, key), "is empty", allowed);
    return resolve(*value);
  }

 private:
  std::string m_file;
  std::filesystem::path m_folder;
};

// Where a name, id or port was first seen, to name both places of a duplicate.
using FirstSeen = std::map<std::string, std::uint32_t, std::less<>>;

// Registers `value` and fails naming both lines when it was seen before.
inline void once(const Checker& check, FirstSeen& seen, const std::string& value,
                 std::uint32_t line, std::string_view key, std::string_view what,
                 std::string_view allowed) {
  auto [it, inserted] = seen.emplace(value, line);
  if (inserted) return;
  check.fail(line, key, fmt::format("{} (line {} and line {})", what, it->second, line), allowed);
}

inline std::uint32_t line_or(const toml::table& t, std::string_view key) {
  const auto* node = t.get(key);
  return node != nullptr ? line_of(*node) : line_of(t);
}

// The network outputs (config_outputs.cpp).
void read_mqtt(const Checker& check, const toml::table& t, MqttConfig& mqtt);
void read_influxdb(const Checker& check, const toml::table& t, InfluxConfig& influx);
// The top-level `influx_db` key: the old tool's INI file in place of [influxdb].
void read_influx_ini(const Checker& check, const toml::table& doc, InfluxConfig& influx);
// What depends on other tables: default data folders (beside the store), legacy device names.
void finish_outputs(const Checker& check, const toml::table& doc, DaemonConfig& config);

}  // namespace tracermon::app::config_detail
