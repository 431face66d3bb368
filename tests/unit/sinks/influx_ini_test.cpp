#include "app/influx_ini.hpp"

#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "temp_dir.hpp"

namespace tracermon::app {
namespace {

using ::testing::HasSubstr;

// The message of the ConfigError that parsing `text` throws ("" when it does not throw).
std::string error_of(const std::string& text) {
  try {
    parse_influx_ini(text, "/etc/influx.db");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(InfluxIni, ReadsTheOldToolsFile) {
  auto ini = parse_influx_ini(
      "# written by the old tool\n"
      "[INFLUXDB]\n"
      "Host = 192.168.1.20\n"
      "Port = 8087\n"
      "DB = energy\n"
      "User = writer\n"
      "Pass = p=ss:word\n"
      "Measurement = pv\n",
      "influx.db");
  EXPECT_EQ(ini.host, "192.168.1.20");
  EXPECT_EQ(ini.port, "8087");
  EXPECT_EQ(ini.database, "energy");
  EXPECT_EQ(ini.user, "writer");
  EXPECT_EQ(ini.password, "p=ss:word");  // only the first separator splits
  EXPECT_EQ(ini.measurement, "pv");
}

TEST(InfluxIni, KeysLeftOutKeepTheOldDefaults) {
  auto ini = parse_influx_ini("[INFLUXDB]\nHost = db.local\n", "influx.db");
  EXPECT_EQ(ini.host, "db.local");
  EXPECT_EQ(ini.port, "8086");
  EXPECT_EQ(ini.database, "solar");
  EXPECT_EQ(ini.user, "grafana");
  EXPECT_EQ(ini.password, "solar");
  EXPECT_EQ(ini.measurement, "solar");
}

TEST(InfluxIni, NamesAreCaseInsensitiveAndBothSeparatorsWork) {
  auto ini = parse_influx_ini(
      "; comment\r\n"
      "[influxdb]\r\n"
      "  HOST: h1  \r\n"
      "port=9999\r\n"
      "\r\n"
      "db : d1\r\n"
      "mEaSuReMeNt = m1\r\n",
      "influx.db");
  EXPECT_EQ(ini.host, "h1");
  EXPECT_EQ(ini.port, "9999");
  EXPECT_EQ(ini.database, "d1");
  EXPECT_EQ(ini.measurement, "m1");
}

TEST(InfluxIni, OtherSectionsAreIgnored) {
  auto ini = parse_influx_ini(
      "[MQTT]\nhost = broker\nanything = 1\n[INFLUXDB]\nhost = influx\n[OTHER]\nport = x\n",
      "influx.db");
  EXPECT_EQ(ini.host, "influx");
  EXPECT_EQ(ini.port, "8086");
}

TEST(InfluxIni, ErrorsNameFileLineAndWhatIsAllowed) {
  EXPECT_THAT(error_of("[INFLUXDB]\nHost = a\nServer = b\n"),
              HasSubstr("/etc/influx.db:3: unknown key 'Server'"));
  EXPECT_THAT(error_of("[INFLUXDB]\nServer = b\n"),
              HasSubstr("allowed: Host, Port, DB, User, Pass, Measurement"));
  EXPECT_THAT(error_of("[INFLUXDB]\njust words\n"), HasSubstr("/etc/influx.db:2: "));
  EXPECT_THAT(error_of("[INFLUXDB\n"), HasSubstr("/etc/influx.db:1: "));
  EXPECT_THAT(error_of("Host = a\n[INFLUXDB]\n"), HasSubstr("/etc/influx.db:1: "));
  EXPECT_THAT(error_of("# nothing\n[OTHER]\nHost = a\n"),
              HasSubstr("/etc/influx.db:1: no [INFLUXDB] section"));
  EXPECT_THAT(error_of(""), HasSubstr("no [INFLUXDB] section"));
}

TEST(InfluxIni, PortMustBeOneTo65535) {
  for (const auto* bad : {"0", "65536", "80a", "-1", "", "http"}) {
    auto message = error_of(std::string("[INFLUXDB]\n\nPort = ") + bad + "\n");
    EXPECT_THAT(message, HasSubstr("/etc/influx.db:3: ")) << bad;
    EXPECT_THAT(message, HasSubstr("allowed: 1-65535")) << bad;
  }
  EXPECT_EQ(parse_influx_ini("[INFLUXDB]\nPort = 1\n", "f").port, "1");
  EXPECT_EQ(parse_influx_ini("[INFLUXDB]\nPort = 65535\n", "f").port, "65535");
}

TEST(InfluxIni, LoadsAFileAndReportsAMissingOne) {
  tracermon::test::TempDir dir;
  auto file = dir.path() / "influx.db";
  std::ofstream(file) << "[INFLUXDB]\nHost = 10.0.0.5\n";
  EXPECT_EQ(load_influx_ini(file).host, "10.0.0.5");

  auto missing = dir.path() / "nope.db";
  try {
    load_influx_ini(missing);
    FAIL() << "no error for a missing file";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(missing.string() + ":1: cannot read the file"));
  }
  EXPECT_THROW(load_influx_ini(dir.path()), ConfigError);  // a folder
}

}  // namespace
}  // namespace tracermon::app
