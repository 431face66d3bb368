// [mqtt], [influxdb] and influx_db in the configuration file.
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "config_errors.hpp"
#include "temp_dir.hpp"

namespace tracermon::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

const std::filesystem::path& k_file = test::config_file();

constexpr std::string_view k_bus = R"([[bus]]
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
name = "east"
[[bus.device]]
id = 2
name = "west"
)";

DaemonConfig parse(std::string_view text) {
  return parse_config(std::string(text) + std::string(k_bus), k_file);
}

std::string error_of(std::string_view text) {
  return test::config_error_of(std::string(text) + std::string(k_bus));
}

void expect_error(std::string_view text, int line, std::string_view key,
                  std::string_view fragment) {
  test::expect_config_error(std::string(text) + std::string(k_bus), line, key, fragment, false);
}

TEST(ConfigOutputs, BothOffUnlessTheirTableIsThere) {
  auto config = parse("");
  EXPECT_FALSE(config.mqtt.enabled);
  EXPECT_FALSE(config.influxdb.enabled);
  EXPECT_TRUE(parse("[mqtt]\n").mqtt.enabled);
  EXPECT_FALSE(parse("[mqtt]\nenabled = false\n").mqtt.enabled);
  EXPECT_TRUE(parse("[influxdb]\n").influxdb.enabled);
}

TEST(ConfigOutputs, MqttDefaults) {
  auto mqtt = parse("[mqtt]\n").mqtt;
  EXPECT_EQ(mqtt.connection.host, "127.0.0.1");
  EXPECT_EQ(mqtt.connection.port, 1883);
  EXPECT_FALSE(mqtt.connection.tls);
  EXPECT_THAT(mqtt.connection.client_id, StartsWith("tracermon"));
  EXPECT_EQ(mqtt.qos, 1);
  EXPECT_TRUE(mqtt.retain);
  EXPECT_TRUE(mqtt.discovery);
  EXPECT_EQ(mqtt.topics.topic_root, "tracermon");
  EXPECT_EQ(mqtt.topics.discovery_prefix, "homeassistant");
  EXPECT_FALSE(mqtt.expire_after.has_value());
  // The outbox lives beside the history by default.
  EXPECT_EQ(mqtt.spool.data_dir, "/var/lib/tracermon/mqtt");
  EXPECT_EQ(mqtt.spool.outbox_max_bytes, 64ULL << 20);
}

TEST(ConfigOutputs, MqttEverySetting) {
  auto mqtt = parse(R"([mqtt]
url = "mqtts://[::1]:8884"
username = "solar"
password = "secret"
client_id = "shed"
ca_file = "certs/ca.crt"
cert_file = "certs/client.crt"
key_file = "certs/client.key"
keepalive = "1m"
qos = 0
retain = false
topic_root = "home/solar"
discovery = false
discovery_prefix = "ha"
expire_after = "2m"
data_dir = "spool"
outbox_max_mb = 8
outbox_max_age = "48h"
retry_max = "10s"
)")
                  .mqtt;
  EXPECT_EQ(mqtt.connection.host, "::1");
  EXPECT_EQ(mqtt.connection.port, 8884);
  EXPECT_TRUE(mqtt.connection.tls);
  EXPECT_EQ(mqtt.connection.username, "solar");
  EXPECT_EQ(mqtt.connection.password, "secret");
  EXPECT_EQ(mqtt.connection.client_id, "shed");
  EXPECT_EQ(mqtt.connection.ca_file, "/etc/tracermon/certs/ca.crt");
  EXPECT_EQ(mqtt.connection.key_file, "/etc/tracermon/certs/client.key");
  EXPECT_EQ(mqtt.connection.keepalive, 60s);
  EXPECT_EQ(mqtt.qos, 0);
  EXPECT_FALSE(mqtt.retain);
  EXPECT_EQ(mqtt.topics.topic_root, "home/solar");
  EXPECT_FALSE(mqtt.discovery);
  EXPECT_EQ(mqtt.topics.discovery_prefix, "ha");
  EXPECT_EQ(mqtt.expire_after, std::chrono::milliseconds(120s));
  EXPECT_EQ(mqtt.spool.data_dir, "/etc/tracermon/spool");
  EXPECT_EQ(mqtt.spool.outbox_max_bytes, 8ULL << 20);
  EXPECT_EQ(mqtt.spool.outbox_max_age, std::chrono::milliseconds(48h));
  EXPECT_EQ(mqtt.spool.retry_max, std::chrono::milliseconds(10s));
  EXPECT_EQ(parse("[mqtt]\nurl = \"mqtts://broker.lan\"\n").mqtt.connection.port, 8883);
}

TEST(ConfigOutputs, MqttMistakes) {
  expect_error("[mqtt]\nurl = \"tcp://x:1883\"\n", 2, "mqtt.url", "not an MQTT URL");
  expect_error("[mqtt]\nurl = \"mqtt://\"\n", 2, "mqtt.url", "no usable HOST[:PORT]");
  expect_error("[mqtt]\nurl = \"mqtt://x:0\"\n", 2, "mqtt.url", "no usable HOST[:PORT]");
  expect_error("[mqtt]\nurl = \"mqtt://x/topic\"\n", 2, "mqtt.url", "no usable HOST[:PORT]");
  expect_error("[mqtt]\nqos = 3\n", 2, "mqtt.qos", "out of range");
  expect_error("[mqtt]\ntopic_root = \"a/+/b\"\n", 2, "mqtt.topic_root", "not a usable");
  expect_error("[mqtt]\ntopic_root = \"a/\"\n", 2, "mqtt.topic_root", "not a usable");
  expect_error("[mqtt]\ndiscovery_prefix = \"\"\n", 2, "mqtt.discovery_prefix", "not a usable");
  expect_error("[mqtt]\npassword = \"x\"\n", 2, "mqtt.password", "without a username");
  expect_error("[mqtt]\nca_file = \"ca.crt\"\n", 2, "mqtt.ca_file", "use mqtts://");
  expect_error("[mqtt]\nurl = \"mqtts://x\"\ncert_file = \"c.crt\"\n", 3, "mqtt",
               "cert_file and key_file go together");
  expect_error("[mqtt]\nkeepalive = \"1s\"\n", 2, "mqtt.keepalive", "out of range");
  expect_error("[mqtt]\noutbox_max_mb = 0\n", 2, "mqtt.outbox_max_mb", "out of range");
  expect_error("[mqtt]\nhost = \"x\"\n", 2, "mqtt.host", "unknown key");
  expect_error("mqtt = 1\n", 1, "mqtt", "expected a table");
}

TEST(ConfigOutputs, InfluxDefaultsAreTheV1ApiOnTheSameMachine) {
  auto influx = parse("[influxdb]\n").influxdb;
  const auto& w = influx.options.writer;
  EXPECT_EQ(w.url, "http://127.0.0.1:8086");
  EXPECT_EQ(w.api, sinks::InfluxApi::V1);
  EXPECT_EQ(w.database, "tracermon");
  EXPECT_EQ(w.precision, format::InfluxPrecision::Nanoseconds);
  EXPECT_TRUE(w.gzip);
  EXPECT_EQ(influx.options.measurement_prefix, "tracer");
  EXPECT_FALSE(influx.options.legacy);
  EXPECT_EQ(influx.spool.data_dir, "/var/lib/tracermon/influxdb");
}

TEST(ConfigOutputs, InfluxV2AndLegacySettings) {
  auto influx = parse(R"([influxdb]
url = "https://cloud.example:443/influx/"
api = "v2"
org = "home"
bucket = "solar"
token = "t0k"
precision = "s"
gzip = false
verify_tls = false
timeout = "30s"
measurement_prefix = "epever"
legacy = true
legacy_measurement = "solar_old"
legacy_devices = ["west", "east"]
legacy_interval = "5m"
)")
                    .influxdb;
  const auto& w = influx.options.writer;
  EXPECT_EQ(w.url, "https://cloud.example:443/influx");
  EXPECT_EQ(w.api, sinks::InfluxApi::V2);
  EXPECT_EQ(w.org, "home");
  EXPECT_EQ(w.bucket, "solar");
  EXPECT_EQ(w.token, "t0k");
  EXPECT_EQ(w.precision, format::InfluxPrecision::Seconds);
  EXPECT_FALSE(w.gzip);
  EXPECT_FALSE(w.verify_tls);
  EXPECT_EQ(w.timeout, 30s);
  EXPECT_EQ(influx.options.measurement_prefix, "epever");
  EXPECT_TRUE(influx.options.legacy);
  EXPECT_EQ(influx.options.legacy_measurement, "solar_old");
  EXPECT_EQ(influx.legacy_devices, (std::vector<std::string>{"west", "east"}));
  EXPECT_EQ(influx.options.legacy_interval, 5min);
}

TEST(ConfigOutputs, InfluxMistakes) {
  expect_error("[influxdb]\nurl = \"ftp://x\"\n", 2, "influxdb.url", "not an HTTP URL");
  expect_error("[influxdb]\napi = \"v3\"\n", 2, "influxdb.api", "not an API version");
  expect_error("[influxdb]\nprecision = \"h\"\n", 2, "influxdb.precision", "not a precision");
  expect_error("[influxdb]\napi = \"v2\"\nbucket = \"b\"\n", 1, "influxdb", "needs org and bucket");
  expect_error("[influxdb]\ntoken = \"t\"\n", 2, "influxdb.token", "setting of the v2 API");
  expect_error("[influxdb]\napi = \"v2\"\norg = \"o\"\nbucket = \"b\"\ndatabase = \"d\"\n", 5,
               "influxdb.database", "setting of the v1 API");
  expect_error("[influxdb]\nmeasurement_prefix = \"a b\"\n", 2, "influxdb.measurement_prefix",
               "not usable");
  expect_error("[influxdb]\nlegacy_devices = [\"east\", 3]\n", 2, "influxdb.legacy_devices",
               "expected a device name");
  expect_error("[influxdb]\nlegacy_devices = [\"north\"]\n", 2, "influxdb.legacy_devices",
               "no device is named 'north'");
  expect_error("[influxdb]\nlegacy_interval = \"500ms\"\n", 2, "influxdb.legacy_interval",
               "out of range");
  expect_error("[influxdb]\nlegacy_interval = \"169h\"\n", 2, "influxdb.legacy_interval",
               "1s to 168h");
  expect_error("influx_legacy_interval = \"5m\"\n", 1, "influx_legacy_interval",
               "without influx_db");
}

TEST(ConfigOutputs, TheOldToolsInfluxDbFileStandsInForTheTable) {
  ::tracermon::test::TempDir dir;
  auto ini = dir.path() / "influx.db";
  std::ofstream(ini) << "[INFLUXDB]\nHost = 192.168.1.5\nPort = 8087\nDB = garden\nUser = grafana\n"
                        "Pass = solar\nMeasurement = sun\n";
  auto config = parse(fmt::format("influx_db = \"{}\"\n", ini.string()));
  const auto& influx = config.influxdb;
  EXPECT_TRUE(influx.enabled);
  EXPECT_EQ(influx.ini_file, ini);
  EXPECT_EQ(influx.options.writer.url, "http://192.168.1.5:8087");
  EXPECT_EQ(influx.options.writer.database, "garden");
  EXPECT_EQ(influx.options.writer.username, "grafana");
  EXPECT_EQ(influx.options.writer.password, "solar");
  EXPECT_TRUE(influx.options.legacy);
  EXPECT_EQ(influx.options.legacy_measurement, "sun");
  EXPECT_EQ(influx.options.legacy_interval, 1min);  // the old tool's cron rate
  auto slower =
      parse(fmt::format("influx_db = \"{}\"\ninflux_legacy_interval = \"5m\"\n", ini.string()));
  EXPECT_EQ(slower.influxdb.options.legacy_interval, 5min);
  expect_error(fmt::format("influx_db = \"{}\"\ninflux_legacy_interval = \"0s\"\n", ini.string()),
               2, "influx_legacy_interval", "out of range");

  expect_error(fmt::format("influx_db = \"{}\"\n[influxdb]\n", ini.string()), 1, "influx_db",
               "together with [influxdb]");
  std::ofstream(ini) << "[INFLUXDB]\nPort = 99999\n";
  auto message = error_of(fmt::format("influx_db = \"{}\"\n", ini.string()));
  EXPECT_THAT(message, StartsWith(k_file.string() + ":1: influx_db: " + ini.string() + ":2:"));
  expect_error("influx_db = \"/nonexistent/influx.db\"\n", 1, "influx_db",
               "/nonexistent/influx.db");
}

TEST(ConfigOutputs, NoDeviceTakesASitesName) {
  // Sites and devices share the history and Home Assistant's ids.
  auto clash = [](std::string_view device_name) {
    try {
      parse_config(fmt::format("[[bus]]\nname = \"garage\"\nport = \"/dev/ttyUSB0\"\n"
                               "[[bus.device]]\nid = 1\nname = \"{}\"\n",
                               device_name),
                   k_file);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_THAT(clash("garage"), StartsWith(k_file.string() + ":6: name: device name 'garage' "
                                                            "clashes with site 'garage'"));
  EXPECT_THAT(clash("site_garage"), HasSubstr("clashes with site 'garage'"));
  EXPECT_EQ(clash("left"), "");
}

}  // namespace
}  // namespace tracermon::app
