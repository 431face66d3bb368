// [mqtt], [influxdb] and influx_db: the network outputs' settings.
#include <charconv>
#include <unistd.h>

#include "app/config_checker.hpp"
#include "app/influx_ini.hpp"

namespace tracermon::app::config_detail {
namespace {

// The old point is written after a cycle: shorter than a second would mean every cycle. The
// longest is the longest regular cron schedule `setup --from-legacy` carries over (@weekly).
constexpr std::chrono::milliseconds k_min_legacy_interval{1000};
constexpr std::chrono::hours k_max_legacy_interval{7 * 24};

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// "host", "host:port", "[v6]:port"; nullopt when malformed.
std::optional<HostPort> split_host_port(std::string_view text, std::uint16_t default_port) {
  HostPort out{"", default_port};
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty() || port.find(':') != std::string_view::npos) return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.host = std::string(host);
  return out;
}

// A topic prefix: levels without wildcards, no empty level.
bool valid_topic_prefix(std::string_view topic) {
  if (topic.empty() || topic.size() > 200) return false;
  if (topic.front() == '/' || topic.back() == '/') return false;
  if (topic.find("//") != std::string_view::npos) return false;
  return topic.find_first_of("+#\n\r") == std::string_view::npos &&
         topic.find('\0') == std::string_view::npos;
}

void read_spool(const Checker& check, const toml::table& t, std::string_view path,
                SpoolConfig& spool) {
  if (auto v = check.path(t, path, "data_dir", false)) spool.data_dir = *v;
  if (auto v = check.integer(t, path, "outbox_max_mb", 1, 100000)) {
    spool.outbox_max_bytes = static_cast<std::uint64_t>(*v) << 20;
  }
  if (auto v = check.duration(t, path, "outbox_max_age", 1min, k_max_duration)) {
    spool.outbox_max_age = *v;
  }
  if (auto v = check.duration(t, path, "retry_max", 1s, 1h)) spool.retry_max = *v;
}

std::string default_client_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "tracermon";
  return fmt::format("tracermon-{}", host);
}

}  // namespace

void read_mqtt(const Checker& check, const toml::table& t, MqttConfig& mqtt) {
  static constexpr std::string_view k_keys[] = {
      "enabled",  "url",           "username",       "password",         "client_id",
      "ca_file",  "cert_file",     "key_file",       "keepalive",        "qos",
      "retain",   "topic_root",    "discovery",      "discovery_prefix", "expire_after",
      "data_dir", "outbox_max_mb", "outbox_max_age", "retry_max"};
  check.allow_only(t, "mqtt", k_keys);
  mqtt.enabled = check.boolean(t, "mqtt", "enabled").value_or(true);
  auto& connection = mqtt.connection;
  constexpr std::string_view url_allowed = "mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS)";
  if (auto v = check.string(t, "mqtt", "url", url_allowed)) mqtt.url = *v;
  std::string_view url = mqtt.url;
  bool tls = url.starts_with("mqtts://");
  if (!tls && !url.starts_with("mqtt://")) {
    check.fail(line_or(t, "url"), "mqtt.url", fmt::format("'{}' is not an MQTT URL", url),
               url_allowed);
  }
  auto authority = url.substr(url.find("://") + 3);
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  auto host_port = split_host_port(authority, tls ? 8883 : 1883);
  if (!host_port || authority.find('/') != std::string_view::npos) {
    check.fail(line_or(t, "url"), "mqtt.url", fmt::format("'{}' has no usable HOST[:PORT]", url),
               url_allowed);
  }
  connection.host = host_port->host;
  connection.port = host_port->port;
  connection.tls = tls;
  if (auto v = check.string(t, "mqtt", "username", "a string")) connection.username = *v;
  if (auto v = check.string(t, "mqtt", "password", "a string")) connection.password = *v;
  if (!connection.password.empty() && connection.username.empty()) {
    check.fail(line_or(t, "password"), "mqtt.password", "a password without a username",
               "set username as well");
  }
  connection.client_id = default_client_id();
  if (auto v =
          check.string(t, "mqtt", "client_id", "1-23 characters or more if the broker allows")) {
    if (v->empty()) check.fail(*t.get("client_id"), "mqtt.client_id", "is empty", "a client id");
    connection.client_id = *v;
  }
  for (auto [key, target] :
       {std::pair{"ca_file", &connection.ca_file}, std::pair{"cert_file", &connection.cert_file},
        std::pair{"key_file", &connection.key_file}}) {
    if (auto v = check.path(t, "mqtt", key, true)) {
      if (!v->empty() && !tls) {
        check.fail(line_or(t, key), join("mqtt", key), "TLS files with a plain mqtt:// url",
                   "use mqtts://");
      }
      *target = v->string();
    }
  }
  if (connection.cert_file.empty() != connection.key_file.empty()) {
    check.fail(line_or(t, connection.cert_file.empty() ? "key_file" : "cert_file"), "mqtt",
               "cert_file and key_file go together", "both or neither");
  }
  if (auto v = check.duration(t, "mqtt", "keepalive", 5s, 1h)) {
    connection.keepalive = std::chrono::duration_cast<std::chrono::seconds>(*v);
  }
  if (auto v = check.integer(t, "mqtt", "qos", 0, 2)) mqtt.qos = static_cast<int>(*v);
  if (auto v = check.boolean(t, "mqtt", "retain")) mqtt.retain = *v;
  if (auto v = check.boolean(t, "mqtt", "discovery")) mqtt.discovery = *v;
  constexpr std::string_view topic_allowed =
      "topic levels separated by '/', without '+', '#' or an empty level";
  for (auto [key, target] : {std::pair{"topic_root", &mqtt.topics.topic_root},
                             std::pair{"discovery_prefix", &mqtt.topics.discovery_prefix}}) {
    if (auto v = check.string(t, "mqtt", key, topic_allowed)) {
      if (!valid_topic_prefix(*v)) {
        check.fail(*t.get(key), join("mqtt", key),
                   fmt::format("'{}' is not a usable topic prefix", *v), topic_allowed);
      }
      *target = *v;
    }
  }
  if (auto v = check.duration(t, "mqtt", "expire_after", 0s, 24h)) mqtt.expire_after = *v;
  read_spool(check, t, "mqtt", mqtt.spool);
}

void read_influxdb(const Checker& check, const toml::table& t, InfluxConfig& influx) {
  static constexpr std::string_view k_keys[] = {"enabled",
                                                "url",
                                                "api",
                                                "database",
                                                "username",
                                                "password",
                                                "retention_policy",
                                                "org",
                                                "bucket",
                                                "token",
                                                "precision",
                                                "gzip",
                                                "create_database",
                                                "ca_file",
                                                "verify_tls",
                                                "timeout",
                                                "measurement_prefix",
                                                "legacy",
                                                "legacy_measurement",
                                                "legacy_devices",
                                                "legacy_interval",
                                                "data_dir",
                                                "outbox_max_mb",
                                                "outbox_max_age",
                                                "retry_max"};
  check.allow_only(t, "influxdb", k_keys);
  influx.enabled = check.boolean(t, "influxdb", "enabled").value_or(true);
  auto& options = influx.options;
  auto& writer = options.writer;
  constexpr std::string_view url_allowed = "http://HOST:PORT or https://HOST:PORT[/path]";
  if (auto v = check.string(t, "influxdb", "url", url_allowed)) {
    std::string_view url = *v;
    if (!(url.starts_with("http://") || url.starts_with("https://")) ||
        url.find("://") + 3 >= url.size()) {
      check.fail(*t.get("url"), "influxdb.url", fmt::format("'{}' is not an HTTP URL", url),
                 url_allowed);
    }
    while (url.ends_with('/'))
      url.remove_suffix(1);
    writer.url = std::string(url);
  }
  if (auto v = check.string(t, "influxdb", "api", "\"v1\" (InfluxDB 1.x), \"v2\" (2.x, 3.x)")) {
    if (*v == "v1") {
      writer.api = sinks::InfluxApi::V1;
    } else if (*v == "v2") {
      writer.api = sinks::InfluxApi::V2;
    } else {
      check.fail(*t.get("api"), "influxdb.api", fmt::format("'{}' is not an API version", *v),
                 "\"v1\" (InfluxDB 1.x), \"v2\" (2.x, 3.x)");
    }
  }
  bool v2 = writer.api == sinks::InfluxApi::V2;
  auto only_for = [&](std::string_view key, bool wanted_v2, std::string& target) {
    auto v = check.string(t, "influxdb", key, "a string");
    if (!v) return;
    if (v2 != wanted_v2) {
      check.fail(*t.get(key), join("influxdb", key),
                 fmt::format("is a setting of the {} API", wanted_v2 ? "v2" : "v1"),
                 wanted_v2 ? "set api = \"v2\"" : "remove it, or set api = \"v1\"");
    }
    target = *v;
  };
  only_for("database", false, writer.database);
  only_for("username", false, writer.username);
  only_for("password", false, writer.password);
  only_for("retention_policy", false, writer.retention_policy);
  only_for("org", true, writer.org);
  only_for("bucket", true, writer.bucket);
  only_for("token", true, writer.token);
  if (v2 && (writer.org.empty() || writer.bucket.empty())) {
    check.fail(line_of(t), "influxdb", "the v2 API needs org and bucket",
               "org = \"...\", bucket = \"...\"");
  }
  if (!v2 && writer.database.empty()) {
    check.fail(line_or(t, "database"), "influxdb.database", "is empty", "a database name");
  }
  if (auto v = check.string(t, "influxdb", "precision", "\"s\", \"ms\", \"us\", \"ns\"")) {
    auto precision = format::parse_influx_precision(*v);
    if (!precision) {
      check.fail(*t.get("precision"), "influxdb.precision",
                 fmt::format("'{}' is not a precision", *v), "\"s\", \"ms\", \"us\", \"ns\"");
    }
    writer.precision = *precision;
  }
  if (auto v = check.boolean(t, "influxdb", "gzip")) writer.gzip = *v;
  if (auto v = check.boolean(t, "influxdb", "create_database")) writer.create_database = *v;
  if (auto v = check.path(t, "influxdb", "ca_file", true)) writer.ca_file = v->string();
  if (auto v = check.boolean(t, "influxdb", "verify_tls")) writer.verify_tls = *v;
  if (auto v = check.duration(t, "influxdb", "timeout", 1s, 5min)) writer.timeout = *v;
  constexpr std::string_view prefix_allowed = "letters, digits and _ (a measurement name prefix)";
  if (auto v = check.string(t, "influxdb", "measurement_prefix", prefix_allowed)) {
    if (!valid_name(*v)) {
      check.fail(*t.get("measurement_prefix"), "influxdb.measurement_prefix",
                 fmt::format("'{}' is not usable", *v), prefix_allowed);
    }
    options.measurement_prefix = *v;
  }
  if (auto v = check.boolean(t, "influxdb", "legacy")) options.legacy = *v;
  if (auto v = check.string(t, "influxdb", "legacy_measurement", prefix_allowed)) {
    if (!valid_name(*v)) {
      check.fail(*t.get("legacy_measurement"), "influxdb.legacy_measurement",
                 fmt::format("'{}' is not usable", *v), prefix_allowed);
    }
    options.legacy_measurement = *v;
  }
  if (auto v = check.duration(t, "influxdb", "legacy_interval", k_min_legacy_interval,
                              k_max_legacy_interval)) {
    options.legacy_interval = *v;
  }
  if (const auto* node = t.get("legacy_devices")) {
    constexpr std::string_view allowed = "an array of device names, the first one's values first";
    const auto* array = node->as_array();
    if (array == nullptr) {
      check.fail(*node, "influxdb.legacy_devices",
                 fmt::format("expected an array, got {}", type_name(*node)), allowed);
    }
    for (const auto& item : *array) {
      if (!item.is_string()) {
        check.fail(item, "influxdb.legacy_devices",
                   fmt::format("expected a device name, got {}", type_name(item)), allowed);
      }
      influx.legacy_devices.push_back(item.as_string()->get());
    }
  }
  read_spool(check, t, "influxdb", influx.spool);
}

void read_influx_ini(const Checker& check, const toml::table& doc, InfluxConfig& influx) {
  auto path = check.path(doc, "", "influx_db", false);
  if (!path) {
    if (doc.get("influx_legacy_interval") != nullptr) {
      check.fail(line_or(doc, "influx_legacy_interval"), "influx_legacy_interval",
                 "given without influx_db",
                 "influx_db = \"FILE\" beside it, or legacy_interval in [influxdb]");
    }
    return;
  }
  if (doc.get("influxdb") != nullptr) {
    check.fail(line_or(doc, "influx_db"), "influx_db", "given together with [influxdb]",
               "one of them: influx_db for the old tool's file, or an [influxdb] table");
  }
  InfluxIni ini;
  try {
    ini = load_influx_ini(*path);
  } catch (const ConfigError& e) {
    check.fail(line_or(doc, "influx_db"), "influx_db", e.what(), "");
  }
  influx.enabled = true;
  influx.ini_file = *path;
  auto& writer = influx.options.writer;
  writer.api = sinks::InfluxApi::V1;
  auto host = ini.host.find(':') != std::string::npos ? fmt::format("[{}]", ini.host) : ini.host;
  writer.url = fmt::format("http://{}:{}", host, ini.port);
  writer.database = ini.database;
  writer.username = ini.user;
  writer.password = ini.password;
  // The old tool's users come for their dashboard: write its measurement too.
  influx.options.legacy = true;
  influx.options.legacy_measurement = ini.measurement;
  if (auto v = check.duration(doc, "", "influx_legacy_interval", k_min_legacy_interval,
                              k_max_legacy_interval)) {
    influx.options.legacy_interval = *v;
  }
}

void finish_outputs(const Checker& check, const toml::table& doc, DaemonConfig& config) {
  auto folder = config.store.path.parent_path();
  if (config.mqtt.spool.data_dir.empty()) config.mqtt.spool.data_dir = folder / "mqtt";
  if (config.influxdb.spool.data_dir.empty()) config.influxdb.spool.data_dir = folder / "influxdb";
  const auto* table = doc.get("influxdb") ? doc.get("influxdb")->as_table() : nullptr;
  for (const auto& name : config.influxdb.legacy_devices) {
    bool found = false;
    for (const auto& bus : config.buses) {
      for (const auto& device : bus.devices)
        found = found || device.name == name;
    }
    if (!found) {
      check.fail(table ? line_or(*table, "legacy_devices") : 1, "influxdb.legacy_devices",
                 fmt::format("no device is named '{}'", name), "names of [[bus.device]] entries");
    }
  }
}

}  // namespace tracermon::app::config_detail
