#pragma once
// The daemon's configuration: one TOML file. Parsing checks everything up front, so that a
// running daemon never meets a bad setting; every error names the file, line and key and says
// what is allowed.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/printable.hpp"
#include "format/ha_discovery.hpp"
#include "model/poll_intervals.hpp"
#include "sinks/influx_sink.hpp"
#include "sinks/mqtt_connection.hpp"
#include "transport/modbus_client.hpp"
#include "transport/port_spec.hpp"

namespace tracermon::app {

// "FILE:LINE: KEY: what is wrong; what is allowed". Control characters that the file put into
// the message (a key with \u0000) are escaped, so the line is whole wherever it is printed.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::string_view message) : std::runtime_error(core::printable(message)) {}
};

struct DeviceConfig {
  std::uint8_t id = 1;  // Modbus slave id, 1-247
  std::string name;     // unique over the file; default "<bus>-<id>"
  std::string model;    // optional, informative ("Tracer3210AN")
  std::string site;     // shared-battery group; default: the bus's site
};

struct BusConfig {
  std::string name;  // unique; default "bus1", "bus2"... in file order
  std::string port_text;
  transport::PortSpec port;
  transport::SerialSettings serial;
  transport::ClientOptions client;  // timeout, gap, retries
  std::uint16_t max_registers = 20;
  // Devices on one bus behind a PAL-ADP share a battery: they form a site named after the bus
  // unless `site` says otherwise ("" = no site).
  std::string site;
  std::vector<DeviceConfig> devices;
};

// Intervals per poll class of registers.csv.
struct PollConfig {
  std::chrono::milliseconds fast{5000};         // live values and status, >= 1 s
  std::chrono::milliseconds slow{60000};        // statistics and the clock
  std::chrono::milliseconds settings{3600000};  // settings; "once" fields are read at start
  // A device that stops answering is skipped for 1, 2, 4 ... cycles up to this many.
  int max_skip_cycles = 8;

  [[nodiscard]] model::PollIntervals intervals() const {
    return {fast, slow, settings, max_skip_cycles};
  }
};

struct StoreConfig {
  bool enabled = true;
  std::filesystem::path path = "/var/lib/tracermon/tracermon.db";
  std::chrono::seconds commit_interval{30};  // the most that a power cut can lose
  int raw_days = 30;                         // 0 = keep forever
  int minute_days = 365;
  int hour_days = 0;
  int day_days = 0;
};

struct FilesConfig {
  // A JSON snapshot per device, replaced atomically each cycle; empty = off.
  std::filesystem::path json_dir = "/run/tracermon";
  // The old tool's key:value files; {id} and {name} are replaced. Empty = off.
  std::string filesnap;  // e.g. "/tmp/ep_tracer_{id}.log"
};

struct HttpConfig {
  bool enabled = true;
  std::string host = "127.0.0.1";  // "0.0.0.0" opens it to the LAN; IPv6 without brackets
  std::uint16_t port = 8080;

  // "127.0.0.1:8080", "[::1]:8080": the form of the `listen` key.
  [[nodiscard]] std::string listen() const;
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error
};

// Where a network output keeps what it could not deliver, and how long it keeps trying.
struct SpoolConfig {
  std::filesystem::path data_dir;  // default: "<store.path's folder>/<output>"
  std::uint64_t outbox_max_bytes = 64ULL << 20;
  std::chrono::milliseconds outbox_max_age = std::chrono::hours(24 * 7);
  std::chrono::milliseconds retry_max{60000};  // the longest wait between two tries
};

struct MqttConfig {
  bool enabled = false;  // a [mqtt] table turns it on unless it says enabled = false
  std::string url = "mqtt://127.0.0.1:1883";
  sinks::MqttConnectionOptions connection;  // from url, credentials, TLS files, keepalive
  format::DiscoveryOptions topics;          // topic_root, discovery_prefix
  std::optional<std::chrono::milliseconds> expire_after;  // unset: 3 fast intervals, >= 30 s
  bool discovery = true;
  int qos = 1;
  bool retain = true;
  SpoolConfig spool;
};

struct InfluxConfig {
  bool enabled = false;  // a [influxdb] table (or influx_db) turns it on unless enabled = false
  sinks::InfluxSinkOptions options;
  std::vector<std::string> legacy_devices;  // empty: every device, in file order
  std::filesystem::path ini_file;           // set when read from the old tool's influx.db
  SpoolConfig spool;
};

// Writes to the controllers (docs/control.md). The CLI reaches a running daemon through its
// local socket (<runtime_dir>/control.sock) whatever this says; HTTP and MQTT control only
// with enabled = true, and HTTP only with a token from a file nobody else may read.
struct ControlConfig {
  bool enabled = false;
  std::filesystem::path token_file;  // required when enabled: `Authorization: Bearer <token>`
  bool trust_host_clock = false;     // sync clocks from the host even without NTP
  std::string clock_sync = "off";    // off, daily (once a day), drift (above clock_max_drift)
  std::chrono::seconds clock_max_drift{30};
  double max_error_ratio =
      0.2;  // max_error_percent: refuse writes when more requests failed lately
};

struct DaemonConfig {
  std::filesystem::path file;  // where it was read from
  // The running daemon's lock and daemon.json (pid, ports, HTTP address): how `read` finds it.
  std::filesystem::path runtime_dir = "/run/tracermon";
  std::vector<BusConfig> buses;
  PollConfig poll;
  StoreConfig store;
  FilesConfig files;
  HttpConfig http;
  LogConfig log;
  MqttConfig mqtt;
  InfluxConfig influxdb;
  ControlConfig control;
};

// "500ms", "5s", "1m", "1h" (a whole number and a unit), at most a week. Throws
// std::invalid_argument.
std::chrono::milliseconds parse_duration(std::string_view text);
// The shortest exact form of the same syntax: 1500 -> "1500ms", 60000 -> "1m".
std::string format_duration(std::chrono::milliseconds duration);

// Parses `text` as the contents of `file` (used in messages). Relative paths in the file are
// taken relative to the file's folder. Text over 1 MiB or nested deeper than 32 levels
// (core/toml_nesting.hpp) is refused before it reaches the TOML parser. Throws ConfigError.
DaemonConfig parse_config(std::string_view text, const std::filesystem::path& file);
// The whole text of a configuration file (also the old tool's influx.db): a regular file of at
// most 1 MiB. Throws ConfigError "FILE:1: cannot read the file: ..." for a missing file or a
// read error, "FILE:1: not a regular file (a directory)" for a folder, a FIFO or a device such
// as /dev/zero, "FILE:1: larger than 1 MiB".
std::string read_config_file(const std::filesystem::path& file);
// Reads and parses a file. Throws ConfigError (also for a file that cannot be read).
DaemonConfig load_config(const std::filesystem::path& file);

}  // namespace tracermon::app
