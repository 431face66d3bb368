#include "app/config.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <toml++/toml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/config_checker.hpp"
#include "core/bounded_file.hpp"
#include "core/toml_nesting.hpp"
#include "sim/sim_stream.hpp"

namespace tracermon::app {

namespace {

using namespace config_detail;

void read_poll(const Checker& check, const toml::table& t, PollConfig& poll) {
  static constexpr std::string_view k_keys[] = {"fast", "slow", "settings", "max_skip_cycles"};
  check.allow_only(t, "poll", k_keys);
  if (auto v = check.duration(t, "poll", "fast", 1s, 1h)) poll.fast = *v;
  if (auto v = check.duration(t, "poll", "slow", 1s, 24h)) poll.slow = *v;
  if (auto v = check.duration(t, "poll", "settings", 1s, k_max_duration)) poll.settings = *v;
  if (poll.slow < poll.fast) {
    check.fail(line_or(t, "slow"), "poll.slow",
               fmt::format("{} is shorter than fast ({})", format_duration(poll.slow),
                           format_duration(poll.fast)),
               "fast or longer");
  }
  if (poll.settings < poll.slow) {
    check.fail(line_or(t, "settings"), "poll.settings",
               fmt::format("{} is shorter than slow ({})", format_duration(poll.settings),
                           format_duration(poll.slow)),
               "slow or longer");
  }
  if (auto v = check.integer(t, "poll", "max_skip_cycles", 1, 1024)) {
    poll.max_skip_cycles = static_cast<int>(*v);
  }
}

void read_store(const Checker& check, const toml::table& t, StoreConfig& store) {
  static constexpr std::string_view k_keys[] = {
      "enabled", "path", "commit_interval", "raw_days", "minute_days", "hour_days", "day_days"};
  check.allow_only(t, "store", k_keys);
  if (auto v = check.boolean(t, "store", "enabled")) store.enabled = *v;
  if (auto v = check.path(t, "store", "path", false)) store.path = *v;
  if (auto v = check.duration(t, "store", "commit_interval", 1s, 1h)) {
    if (v->count() % 1000 != 0) {
      check.fail(*t.get("commit_interval"), "store.commit_interval",
                 fmt::format("{} is not whole seconds", format_duration(*v)), "1s to 1h");
    }
    store.commit_interval = std::chrono::duration_cast<std::chrono::seconds>(*v);
  }
  auto days = [&](std::string_view key, int& out) {
    if (auto v = check.integer(t, "store", key, 0, k_max_days)) out = static_cast<int>(*v);
  };
  days("raw_days", store.raw_days);
  days("minute_days", store.minute_days);
  days("hour_days", store.hour_days);
  days("day_days", store.day_days);
}

// {id} and {name} are the only placeholders; one must be there, or every device would write
// the same file.
void check_filesnap(const Checker& check, const toml::node& node, std::string_view pattern) {
  constexpr std::string_view allowed = "a path with {id} or {name}, or \"\" for off";
  bool has_placeholder = false;
  for (std::size_t pos = pattern.find('{'); pos != std::string_view::npos;
       pos = pattern.find('{', pos + 1)) {
    auto rest = pattern.substr(pos);
    if (rest.starts_with("{id}") || rest.starts_with("{name}")) {
      has_placeholder = true;
    } else {
      check.fail(node, "files.filesnap",
                 fmt::format("unknown placeholder at '{}'", rest.substr(0, rest.find('}') + 1)),
                 allowed);
    }
  }
  if (!has_placeholder) {
    check.fail(node, "files.filesnap", fmt::format("'{}' has no {{id}} or {{name}}", pattern),
               allowed);
  }
}

void read_files(const Checker& check, const toml::table& t, FilesConfig& files) {
  static constexpr std::string_view k_keys[] = {"json_dir", "filesnap"};
  check.allow_only(t, "files", k_keys);
  if (auto v = check.path(t, "files", "json_dir", true)) files.json_dir = *v;
  if (auto v =
          check.string(t, "files", "filesnap", "a path with {id} or {name}, or \"\" for off")) {
    if (!v->empty()) {
      check_filesnap(check, *t.get("filesnap"), *v);
      files.filesnap = check.resolve(*v).string();
    } else {
      files.filesnap.clear();
    }
  }
}

void read_control(const Checker& check, const toml::table& t, ControlConfig& control) {
  static constexpr std::string_view k_keys[] = {"enabled",          "token_file",
                                                "trust_host_clock", "clock_sync",
                                                "clock_max_drift",  "max_error_percent"};
  check.allow_only(t, "control", k_keys);
  if (auto v = check.boolean(t, "control", "enabled")) control.enabled = *v;
  if (auto v = check.boolean(t, "control", "trust_host_clock")) control.trust_host_clock = *v;
  if (auto v = check.path(t, "control", "token_file", false)) control.token_file = *v;
  constexpr std::string_view sync_allowed = "\"off\", \"daily\" or \"drift\"";
  if (auto v = check.string(t, "control", "clock_sync", sync_allowed)) {
    if (*v != "off" && *v != "daily" && *v != "drift") {
      check.fail(*t.get("clock_sync"), "control.clock_sync", fmt::format("'{}'", *v), sync_allowed);
    }
    control.clock_sync = *v;
  }
  if (auto v = check.integer(t, "control", "clock_max_drift", 2, 86400)) {
    control.clock_max_drift = std::chrono::seconds(*v);
  }
  if (auto v = check.integer(t, "control", "max_error_percent", 0, 100)) {
    control.max_error_ratio = static_cast<double>(*v) / 100.0;
  }
  if (control.enabled && control.token_file.empty()) {
    check.fail(t.source().begin.line, "control.token_file",
               "control is enabled but has no token file",
               "a file holding the bearer token, readable by the daemon only (chmod 600)");
  }
}

void read_http(const Checker& check, const toml::table& t, HttpConfig& http) {
  static constexpr std::string_view k_keys[] = {"enabled", "listen"};
  check.allow_only(t, "http", k_keys);
  if (auto v = check.boolean(t, "http", "enabled")) http.enabled = *v;
  constexpr std::string_view allowed =
      "HOST:PORT with a port 0-65535 (0: any free port, see daemon.json), e.g. "
      "\"127.0.0.1:8080\", \"0.0.0.0:8080\", \"[::]:8080\"";
  auto listen = check.string(t, "http", "listen", allowed);
  if (!listen) return;
  const auto& node = *t.get("listen");
  std::string_view text = *listen;
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    check.fail(node, "http.listen", fmt::format("'{}' has no ':PORT'", text), allowed);
  }
  auto host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    check.fail(node, "http.listen", fmt::format("'{}': put an IPv6 address in [ ]", text), allowed);
  }
  if (host.empty()) check.fail(node, "http.listen", fmt::format("'{}' has no host", text), allowed);
  auto port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
    check.fail(node, "http.listen", fmt::format("'{}' is not a TCP port", port), allowed);
  }
  http.host = std::string(host);
  http.port = static_cast<std::uint16_t>(value);
}

void read_log(const Checker& check, const toml::table& t, LogConfig& log) {
  static constexpr std::string_view k_keys[] = {"level"};
  static constexpr std::string_view k_levels[] = {"trace", "debug", "info", "warn", "error"};
  check.allow_only(t, "log", k_keys);
  auto allowed = fmt::format("{}", fmt::join(k_levels, ", "));
  auto level = check.string(t, "log", "level", allowed);
  if (!level) return;
  if (std::find(std::begin(k_levels), std::end(k_levels), *level) == std::end(k_levels)) {
    check.fail(*t.get("level"), "log.level", fmt::format("'{}' is not a log level", *level),
               allowed);
  }
  log.level = *level;
}

// An array of tables ([[bus]], [[bus.device]]); nullptr when absent.
const toml::array* table_array(const Checker& check, const toml::table& parent,
                               std::string_view key, std::string_view path,
                               std::string_view allowed) {
  const auto* node = parent.get(key);
  if (node == nullptr) return nullptr;
  const auto* array = node->as_array();
  if (array == nullptr || (!array->empty() && !array->is_array_of_tables())) {
    auto got = type_name(*node);
    if (array != nullptr) got = "an array of other things";
    check.fail(*node, path, fmt::format("expected an array of tables, got {}", got), allowed);
  }
  return array;
}

struct Names {
  FirstSeen buses;
  FirstSeen ports;
  FirstSeen devices;
};

DeviceConfig read_device(const Checker& check, const toml::table& t, const std::string& path,
                         const BusConfig& bus, FirstSeen& ids, FirstSeen& names) {
  static constexpr std::string_view k_keys[] = {"id", "name", "model", "site"};
  check.allow_only(t, path, k_keys);
  DeviceConfig device;
  auto id = check.integer(t, path, "id", 1, 247);
  if (!id) check.fail(t, join(path, "id"), "missing", "the device's Modbus slave id, 1-247");
  device.id = static_cast<std::uint8_t>(*id);
  once(check, ids, std::to_string(device.id), line_of(*t.get("id")), join(path, "id"),
       fmt::format("id {} appears twice on bus '{}'", device.id, bus.name), "each id once per bus");

  auto given = check.name(t, path, "name", false);
  device.name = given.value_or(fmt::format("{}-{}", bus.name, device.id));
  if (!valid_name(device.name)) {  // only a derived name can get here: too long
    check.fail(
        t, join(path, "name"),
        fmt::format("the default name '{}' is too long; give the device a name", device.name),
        k_name_rule);
  }
  once(check, names, device.name, line_or(t, "name"), join(path, "name"),
       fmt::format("device name '{}' appears twice", device.name),
       "each device name once in the file (the default is \"<bus>-<id>\")");

  device.model = check.string(t, path, "model", "any text, e.g. \"Tracer3210AN\"").value_or("");
  device.site = check.name(t, path, "site", true).value_or(bus.site);
  return device;
}

transport::PortSpec read_port(const Checker& check, const toml::table& t, const std::string& path,
                              std::string& text) {
  auto port = check.string(t, path, "port", k_port_forms);
  if (!port) check.fail(t, join(path, "port"), "missing", k_port_forms);
  text = *port;
  const auto& node = *t.get("port");
  transport::PortSpec spec;
  try {
    spec = transport::parse_port(text);
  } catch (const std::invalid_argument& e) {
    check.fail(node, join(path, "port"), e.what(), k_port_forms);
  }
  if (spec.kind == transport::LinkKind::Simulated) {
    try {
      sim::parse_sim_options(spec.path);  // parses only: no bus, no thread
    } catch (const std::invalid_argument& e) {
      check.fail(node, join(path, "port"), e.what(),
                 "sim:KEY=VALUE&... with ids, profile, seed, speed, max-registers, "
                 "turnaround-ms, shared-battery, cloudiness, start, fault (docs/simulator.md)");
    }
  }
  return spec;
}

void read_serial(const Checker& check, const toml::table& t, const std::string& path,
                 transport::SerialSettings& serial) {
  // The range only keeps the value an int; check_baud decides.
  if (auto baud = check.integer(t, path, "baud", std::numeric_limits<int>::min(),
                                std::numeric_limits<int>::max())) {
    try {
      transport::check_baud(static_cast<int>(*baud));
    } catch (const std::invalid_argument&) {
      check.fail(*t.get("baud"), join(path, "baud"),
                 fmt::format("{} is not a supported rate", *baud),
                 "1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 "
                 "(Tracer controllers use 115200)");
    }
    serial.baud = static_cast<int>(*baud);
  }
  constexpr std::string_view parities = "none, even, odd";
  if (auto parity = check.string(t, path, "parity", parities)) {
    if (*parity != "none" && *parity != "even" && *parity != "odd") {
      check.fail(*t.get("parity"), join(path, "parity"),
                 fmt::format("'{}' is not a parity", *parity), parities);
    }
    serial.parity = transport::parse_parity(*parity);
  }
  if (auto stop_bits = check.integer(t, path, "stop_bits", 1, 2)) {
    serial.stop_bits = static_cast<int>(*stop_bits);
  }
  if (auto rs485 = check.boolean(t, path, "rs485")) serial.rs485 = *rs485;
}

BusConfig read_bus(const Checker& check, const toml::table& t, int index, Names& seen) {
  static constexpr std::string_view k_keys[] = {"name",      "port",          "baud",    "parity",
                                                "stop_bits", "rs485",         "timeout", "gap",
                                                "retries",   "max_registers", "site",    "device"};
  auto path = fmt::format("bus[{}]", index);
  check.allow_only(t, path, k_keys);
  BusConfig bus;
  bus.name = check.name(t, path, "name", false).value_or(fmt::format("bus{}", index));
  once(check, seen.buses, bus.name, line_or(t, "name"), join(path, "name"),
       fmt::format("bus name '{}' appears twice", bus.name),
       "each bus name once (the default is \"bus<N>\" in file order)");

  bus.port = read_port(check, t, path, bus.port_text);
  auto port_key = bus.port.to_string();
  if (bus.port.kind == transport::LinkKind::Serial) {
    port_key = std::filesystem::path(port_key).lexically_normal().string();
  }
  once(check, seen.ports, port_key, line_of(*t.get("port")), join(path, "port"),
       fmt::format("port '{}' is used by two buses", port_key),
       "one [[bus]] per port, with all the devices on that line");

  read_serial(check, t, path, bus.serial);
  if (auto v = check.duration(t, path, "timeout", 10ms, 60s)) bus.client.timeout = *v;
  if (auto v = check.duration(t, path, "gap", 0ms, 10s)) bus.client.gap = *v;
  if (auto v = check.integer(t, path, "retries", 0, 10)) bus.client.retries = static_cast<int>(*v);
  if (auto v = check.integer(t, path, "max_registers", 2, 125)) {
    bus.max_registers = static_cast<std::uint16_t>(*v);
  }
  bus.site = check.name(t, path, "site", true).value_or(bus.name);

  constexpr std::string_view device_allowed =
      "one or more [[bus.device]] tables, each with an id 1-247";
  const auto* devices = table_array(check, t, "device", join(path, "device"), device_allowed);
  if (devices == nullptr || devices->empty()) {
    check.fail(devices != nullptr ? static_cast<const toml::node&>(*devices) : t,
               join(path, "device"), "no device on this bus", device_allowed);
  }
  FirstSeen ids;
  int device_index = 0;
  for (const auto& node : *devices) {
    ++device_index;
    bus.devices.push_back(read_device(check, *node.as_table(),
                                      fmt::format("{}.device[{}]", path, device_index), bus, ids,
                                      seen.devices));
  }
  return bus;
}

}  // namespace

std::string HttpConfig::listen() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

milliseconds parse_duration(std::string_view text) {
  auto digits = text.find_first_not_of("0123456789");
  auto number = text.substr(0, digits);
  auto unit = digits == std::string_view::npos ? std::string_view{} : text.substr(digits);
  std::int64_t per_unit = 0;
  if (unit == "ms") per_unit = 1;
  if (unit == "s") per_unit = 1000;
  if (unit == "m") per_unit = 60'000;
  if (unit == "h") per_unit = 3'600'000;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || per_unit == 0 || ec != std::errc{} ||
      end != number.data() + number.size()) {
    throw std::invalid_argument(
        fmt::format("'{}' is not a duration (a whole number and ms, s, m or h)", text));
  }
  if (value > k_max_duration.count() / per_unit) {
    throw std::invalid_argument(fmt::format("'{}' is longer than a week", text));
  }
  return milliseconds(value * per_unit);
}

std::string format_duration(milliseconds duration) {
  auto ms = duration.count();
  if (ms != 0 && ms % 3600000 == 0) return fmt::format("{}h", ms / 3600000);
  if (ms != 0 && ms % 60000 == 0) return fmt::format("{}m", ms / 60000);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

DaemonConfig parse_config(std::string_view text, const std::filesystem::path& file) {
  Checker check(file.string(), std::filesystem::absolute(file).parent_path());
  if (text.size() > core::k_max_config_bytes) {
    throw ConfigError(fmt::format("{}:1: larger than {}", file.string(),
                                  core::size_text(core::k_max_config_bytes)));
  }
  // toml++ recurses once per level of nesting: 50 000 levels overflow the stack.
  if (auto line = core::toml_too_deep(text)) {
    throw ConfigError(
        fmt::format("{}:{}: nested deeper than {} levels of tables, dotted keys and "
                    "arrays; a tracermon file needs at most 4",
                    file.string(), *line, core::k_max_toml_depth));
  }
  toml::table doc;
  try {
    doc = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}: TOML syntax error: {}", file.string(),
                                  line_of(e.source()), e.description()));
  }

  static constexpr std::string_view k_keys[] = {
      "runtime_dir", "poll", "store",    "files",     "http",
      "log",         "mqtt", "influxdb", "influx_db", "influx_legacy_interval",
      "control",     "bus"};
  check.allow_only(doc, "", k_keys);
  DaemonConfig config;
  config.file = file;
  if (auto v = check.path(doc, "", "runtime_dir", false)) config.runtime_dir = *v;
  if (const auto* t = check.table(doc, "poll", "a [poll] table")) read_poll(check, *t, config.poll);
  if (const auto* t = check.table(doc, "store", "a [store] table")) {
    read_store(check, *t, config.store);
  }
  if (const auto* t = check.table(doc, "files", "a [files] table")) {
    read_files(check, *t, config.files);
  }
  if (const auto* t = check.table(doc, "http", "a [http] table")) read_http(check, *t, config.http);
  if (const auto* t = check.table(doc, "log", "a [log] table")) read_log(check, *t, config.log);
  if (const auto* t = check.table(doc, "mqtt", "a [mqtt] table")) read_mqtt(check, *t, config.mqtt);
  if (const auto* t = check.table(doc, "influxdb", "an [influxdb] table")) {
    read_influxdb(check, *t, config.influxdb);
  }
  read_influx_ini(check, doc, config.influxdb);
  if (const auto* t = check.table(doc, "control", "a [control] table")) {
    read_control(check, *t, config.control);
  }

  constexpr std::string_view bus_allowed =
      "one or more [[bus]] tables, each with a port and [[bus.device]] tables";
  const auto* buses = table_array(check, doc, "bus", "bus", bus_allowed);
  if (buses == nullptr || buses->empty()) check.fail(1, "bus", "no [[bus]] table", bus_allowed);
  Names seen;
  int index = 0;
  for (const auto& node : *buses) {
    config.buses.push_back(read_bus(check, *node.as_table(), ++index, seen));
  }
  // Sites and devices share the history, the API and the Home Assistant ids (a site's HA
  // device is "site_<name>"), so no device may take a site's name.
  for (const auto& bus : config.buses) {
    for (const auto& device : bus.devices) {
      if (device.site.empty()) continue;
      for (const auto& clash : {device.site, "site_" + device.site}) {
        if (auto it = seen.devices.find(clash); it != seen.devices.end()) {
          check.fail(it->second, "name",
                     fmt::format("device name '{}' clashes with site '{}' (of device '{}')", clash,
                                 device.site, device.name),
                     "a name that is not a site's name nor site_<site>; a site is named after "
                     "its bus unless `site` says otherwise");
        }
      }
    }
  }
  finish_outputs(check, doc, config);
  return config;
}

std::string read_config_file(const std::filesystem::path& file) {
  auto text = core::read_bounded_file(file, core::k_max_config_bytes);
  if (!text) throw ConfigError(fmt::format("{}:1: {}", file.string(), text.error().message));
  return std::move(text).value();
}

DaemonConfig load_config(const std::filesystem::path& file) {
  return parse_config(read_config_file(file), file);
}

}  // namespace tracermon::app
