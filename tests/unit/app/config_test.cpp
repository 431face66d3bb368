#include "app/config.hpp"

#include <fstream>
#include <unistd.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_errors.hpp"

namespace tracermon::app {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::filesystem::path& k_file = test::config_file();

// One bus with one device: 4 lines, for tests whose mistake is elsewhere.
constexpr std::string_view k_bus = R"([[bus]]
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
)";

std::string with_bus(std::string_view text) {
  return std::string(text) + std::string(k_bus);
}

using test::expect_config_error;
std::string error_of(std::string_view text) {
  return test::config_error_of(text);
}
void expect_error(std::string_view text, int line, std::string_view key,
                  std::string_view fragment) {
  expect_config_error(text, line, key, fragment);
}

TEST(Config, TheInstallationExampleParses) {
  auto config =
      load_config(std::filesystem::path(TRACERMON_SOURCE_DIR) / "examples/tracermon.toml");
  ASSERT_EQ(config.buses.size(), 1u);  // the second bus is commented out
  const auto& bus = config.buses[0];
  EXPECT_EQ(bus.name, "garage");
  EXPECT_EQ(bus.port.kind, transport::LinkKind::Serial);
  ASSERT_EQ(bus.devices.size(), 2u);
  EXPECT_EQ(bus.devices[0].name, "left");
  EXPECT_EQ(bus.devices[1].id, 2);
  EXPECT_EQ(bus.devices[1].site, "garage");
  EXPECT_TRUE(config.http.enabled);
  EXPECT_EQ(config.http.host, "127.0.0.1");  // the LAN line is commented out
  EXPECT_EQ(config.http.port, 8080);
}

TEST(Config, TheDemoParsesWithPathsBesideTheSourceTree) {
  std::filesystem::path source = TRACERMON_SOURCE_DIR;
  auto config = load_config(source / "examples/demo.toml");
  ASSERT_EQ(config.buses.size(), 1u);
  const auto& bus = config.buses[0];
  EXPECT_EQ(bus.port.kind, transport::LinkKind::Simulated);
  ASSERT_EQ(bus.devices.size(), 3u);
  EXPECT_EQ(bus.devices[0].name, "east");
  EXPECT_EQ(bus.devices[1].name, "west");
  EXPECT_EQ(bus.devices[2].name, "south");
  for (const auto& d : bus.devices)
    EXPECT_EQ(d.site, "cabin");
  EXPECT_EQ(config.poll.fast, 2s);
  auto demo = (std::filesystem::absolute(source) / "build/demo").lexically_normal();
  EXPECT_EQ(config.store.path, demo / "tracermon.db");
  EXPECT_EQ(config.files.json_dir, demo / "run");
  EXPECT_EQ(config.runtime_dir, demo / "run");
}

TEST(Config, AMinimalFileGetsTheDocumentedDefaults) {
  auto config = parse_config(k_bus, k_file);
  EXPECT_EQ(config.file, k_file);
  EXPECT_EQ(config.runtime_dir, "/run/tracermon");
  EXPECT_EQ(config.poll.fast, 5s);
  EXPECT_EQ(config.poll.slow, 1min);
  EXPECT_EQ(config.poll.settings, 1h);
  EXPECT_EQ(config.poll.max_skip_cycles, 8);
  EXPECT_TRUE(config.store.enabled);
  EXPECT_EQ(config.store.path, "/var/lib/tracermon/tracermon.db");
  EXPECT_EQ(config.store.commit_interval, 30s);
  EXPECT_EQ(config.store.raw_days, 30);
  EXPECT_EQ(config.store.minute_days, 365);
  EXPECT_EQ(config.store.hour_days, 0);
  EXPECT_EQ(config.store.day_days, 0);
  EXPECT_EQ(config.files.json_dir, "/run/tracermon");
  EXPECT_EQ(config.files.filesnap, "");
  EXPECT_TRUE(config.http.enabled);
  EXPECT_EQ(config.http.listen(), "127.0.0.1:8080");
  EXPECT_EQ(config.log.level, "info");
  const auto& bus = config.buses.at(0);
  EXPECT_EQ(bus.port_text, "/dev/ttyUSB0");
  EXPECT_EQ(bus.serial.baud, 115200);
  EXPECT_EQ(bus.serial.parity, transport::Parity::None);
  EXPECT_EQ(bus.serial.stop_bits, 1);
  EXPECT_FALSE(bus.serial.rs485);
  EXPECT_EQ(bus.client.timeout, 1s);
  EXPECT_EQ(bus.client.gap, 50ms);
  EXPECT_EQ(bus.client.retries, 2);
  EXPECT_EQ(bus.max_registers, 20);
  EXPECT_EQ(bus.devices.at(0).model, "");
}

TEST(Config, EverySettingIsRead) {
  auto config = parse_config(R"(
[poll]
fast = 3
slow = "90s"
settings = "2h"
max_skip_cycles = 4
[store]
enabled = false
commit_interval = "1m"
raw_days = 7
[http]
enabled = false
listen = "[::]:9000"
[log]
level = "debug"
[[bus]]
port = "rtu+tcp://192.168.1.60:8088"
baud = 9600
parity = "even"
stop_bits = 2
rs485 = true
timeout = "500ms"
gap = 0
retries = 0
max_registers = 125
[[bus.device]]
id = 247
model = "Tracer2210AN"
)",
                             k_file);
  EXPECT_EQ(config.poll.fast, 3s);
  EXPECT_EQ(config.poll.slow, 90s);
  EXPECT_EQ(config.poll.settings, 2h);
  EXPECT_EQ(config.poll.max_skip_cycles, 4);
  EXPECT_FALSE(config.store.enabled);
  EXPECT_EQ(config.store.commit_interval, 60s);
  EXPECT_EQ(config.store.raw_days, 7);
  EXPECT_FALSE(config.http.enabled);
  EXPECT_EQ(config.http.host, "::");
  EXPECT_EQ(config.http.port, 9000);
  EXPECT_EQ(config.http.listen(), "[::]:9000");
  EXPECT_EQ(config.log.level, "debug");
  const auto& bus = config.buses.at(0);
  EXPECT_EQ(bus.port.kind, transport::LinkKind::RtuOverTcp);
  EXPECT_EQ(bus.port.tcp_port, 8088);
  EXPECT_EQ(bus.serial.baud, 9600);
  EXPECT_EQ(bus.serial.parity, transport::Parity::Even);
  EXPECT_EQ(bus.serial.stop_bits, 2);
  EXPECT_TRUE(bus.serial.rs485);
  EXPECT_EQ(bus.client.timeout, 500ms);
  EXPECT_EQ(bus.client.gap, 0ms);
  EXPECT_EQ(bus.client.retries, 0);
  EXPECT_EQ(bus.max_registers, 125);
  EXPECT_EQ(bus.devices.at(0).id, 247);
  EXPECT_EQ(bus.devices.at(0).model, "Tracer2210AN");
}

TEST(Config, NamesAndSitesAreDerivedFromTheBus) {
  auto config = parse_config(R"(
[[bus]]
port = "/dev/ttyUSB0"
  [[bus.device]]
  id = 1
  [[bus.device]]
  id = 2
  name = "right"
  site = "shed"
[[bus]]
port = "/dev/ttyUSB1"
site = ""
  [[bus.device]]
  id = 1
[[bus]]
name = "barn"
port = "tcp://10.0.0.5"
site = "farm"
  [[bus.device]]
  id = 3
)",
                             k_file);
  ASSERT_EQ(config.buses.size(), 3u);
  EXPECT_EQ(config.buses[0].name, "bus1");
  EXPECT_EQ(config.buses[1].name, "bus2");
  EXPECT_EQ(config.buses[2].name, "barn");
  EXPECT_EQ(config.buses[0].devices[0].name, "bus1-1");
  EXPECT_EQ(config.buses[0].devices[0].site, "bus1");  // the bus's site is its name
  EXPECT_EQ(config.buses[0].devices[1].name, "right");
  EXPECT_EQ(config.buses[0].devices[1].site, "shed");  // a device may name another site
  EXPECT_EQ(config.buses[1].devices[0].name, "bus2-1");
  EXPECT_EQ(config.buses[1].devices[0].site, "");  // "" = not a site
  EXPECT_EQ(config.buses[2].devices[0].name, "barn-3");
  EXPECT_EQ(config.buses[2].devices[0].site, "farm");
}

TEST(Config, RelativePathsAreRelativeToTheFilesFolder) {
  auto config = parse_config(with_bus(R"(runtime_dir = "run"
[store]
path = "../data/t.db"
[files]
json_dir = "/srv/json"
filesnap = "snap/ep_{id}.log"
)"),
                             k_file);
  EXPECT_EQ(config.runtime_dir, "/etc/tracermon/run");
  EXPECT_EQ(config.store.path, "/etc/data/t.db");
  EXPECT_EQ(config.files.json_dir, "/srv/json");  // absolute stays
  EXPECT_EQ(config.files.filesnap, "/etc/tracermon/snap/ep_{id}.log");

  // A file named relative to the working directory: its folder is too.
  auto relative = parse_config(with_bus("[store]\npath = \"t.db\"\n"), "conf/t.toml");
  EXPECT_EQ(relative.store.path, std::filesystem::current_path() / "conf/t.db");
}

TEST(Config, EmptyJsonDirAndFilesnapTurnThemOff) {
  auto config = parse_config(with_bus("[files]\njson_dir = \"\"\nfilesnap = \"\"\n"), k_file);
  EXPECT_TRUE(config.files.json_dir.empty());
  EXPECT_TRUE(config.files.filesnap.empty());
}

TEST(Duration, TakesTheFourUnits) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("5s"), 5s);
  EXPECT_EQ(parse_duration("1m"), 1min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_THROW(parse_duration("5"), std::invalid_argument);
  EXPECT_THROW(parse_duration("1.5s"), std::invalid_argument);
  EXPECT_THROW(parse_duration("-1s"), std::invalid_argument);
  EXPECT_THROW(parse_duration("5 s"), std::invalid_argument);
  EXPECT_THROW(parse_duration("2d"), std::invalid_argument);
  EXPECT_THROW(parse_duration("99999999999999999999h"), std::invalid_argument);
  for (auto d : {500ms, 1500ms, 5000ms, 60000ms, 90000ms, 3600000ms}) {
    EXPECT_EQ(parse_duration(format_duration(d)), d);
  }
}

// --- mistakes: each names the file, the line and the key ---

TEST(ConfigError, UnreadableFile) {
  try {
    load_config("/nonexistent/tracermon.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith("/nonexistent/tracermon.toml:1: "));
    EXPECT_THAT(e.what(), HasSubstr("No such file"));
  }
}

TEST(ConfigError, TomlSyntax) {
  auto message = error_of("[poll]\nfast = \"5s\"\nslow = 1m\n");
  EXPECT_THAT(message, StartsWith(k_file.string() + ":3: TOML syntax error: "));
}

TEST(ConfigError, UnknownKeyListsTheAllowedOnes) {
  expect_error(with_bus("[poll]\nfast = \"5s\"\nfsat = \"2s\"\n"), 3, "poll.fsat",
               "unknown key; allowed: fast, slow, settings, max_skip_cycles");
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
speed = 9600
[[bus.device]]
id = 1
)",
               3, "bus[1].speed", "baud");
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
[[bus.device]]
id = 2
unit = 2
)",
               7, "bus[1].device[2].unit", "allowed: id, name, model, site");
}

TEST(ConfigError, UnknownTableIsRejected) {
  expect_error(with_bus("[mqqt]\nurl = \"mqtt://broker\"\n"), 1, "mqqt",
               "unknown table; allowed: runtime_dir, poll, store");
}

TEST(ConfigError, WrongType) {
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
[[bus.device]]
id = "1"
)",
               4, "bus[1].device[1].id", "expected an integer, got a string; allowed: 1-247");
  expect_error(with_bus("[http]\nenabled = \"yes\"\n"), 2, "http.enabled",
               "expected a boolean, got a string");
  expect_error(with_bus("[poll]\nfast = 2.5\n"), 2, "poll.fast", "got a floating-point number");
  expect_error(with_bus("[log]\nlevel = 3\n"), 2, "log.level", "expected a string, got an integer");
  expect_error(with_bus("poll = 5\n"), 1, "poll", "expected a table, got an integer");
}

TEST(ConfigError, DeviceIdOutOfRange) {
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
[[bus.device]]
id = 248
)",
               4, "bus[1].device[1].id", "248 is out of range; allowed: 1-247");
}

TEST(ConfigError, MissingDeviceIdAndPort) {
  expect_error("[[bus]]\nport = \"/dev/ttyUSB0\"\n[[bus.device]]\nname = \"x\"\n", 3,
               "bus[1].device[1].id", "missing");
  expect_error("[[bus]]\nname = \"a\"\n[[bus.device]]\nid = 1\n", 1, "bus[1].port", "missing");
}

TEST(ConfigError, BadSerialSettings) {
  auto bus = [](std::string_view line) {
    return fmt::format("[[bus]]\nport = \"/dev/ttyUSB0\"\n{}\n[[bus.device]]\nid = 1\n", line);
  };
  expect_error(bus("baud = 115201"), 3, "bus[1].baud", "115200");
  expect_error(bus("parity = \"mark\""), 3, "bus[1].parity", "none, even, odd");
  expect_error(bus("stop_bits = 3"), 3, "bus[1].stop_bits", "allowed: 1-2");
  expect_error(bus("retries = 11"), 3, "bus[1].retries", "allowed: 0-10");
  expect_error(bus("max_registers = 1"), 3, "bus[1].max_registers", "allowed: 2-125");
  expect_error(bus("timeout = \"5ms\""), 3, "bus[1].timeout", "10ms to 1m");
  expect_error(bus("timeout = 61"), 3, "bus[1].timeout", "out of range");
  expect_error(bus("gap = \"11s\""), 3, "bus[1].gap", "0s to 10s");
  expect_error(bus("gap = \"fast\""), 3, "bus[1].gap", "not a duration");
}

TEST(ConfigError, BadPort) {
  auto bus = [](std::string_view port) {
    return fmt::format("[[bus]]\nport = \"{}\"\n[[bus.device]]\nid = 1\n", port);
  };
  expect_error(bus("udp://host"), 2, "bus[1].port", "unknown scheme");
  expect_error(bus("rtu+tcp://host"), 2, "bus[1].port", "needs a port");
  expect_error(bus(""), 2, "bus[1].port", "empty port");
  // The options of a simulated port are checked too.
  expect_error(bus("sim:ids=1&profile=tracer-zz"), 2, "bus[1].port", "unknown profile");
  expect_error(bus("sim:ids=1&colour=red"), 2, "bus[1].port", "unknown sim option");
}

TEST(ConfigError, PollIntervals) {
  expect_error(with_bus("[poll]\nfast = \"500ms\"\n"), 2, "poll.fast", "1s to 1h");
  expect_error(with_bus("[poll]\nfast = \"10s\"\nslow = \"5s\"\n"), 3, "poll.slow",
               "shorter than fast");
  expect_error(with_bus("[poll]\nslow = \"2h\"\n"), 1, "poll.settings", "shorter than slow");
  expect_error(with_bus("[poll]\nmax_skip_cycles = 0\n"), 2, "poll.max_skip_cycles", "1-1024");
}

TEST(ConfigError, StoreLimits) {
  expect_error(with_bus("[store]\nraw_days = -1\n"), 2, "store.raw_days", "allowed: 0-");
  expect_error(with_bus("[store]\ncommit_interval = \"2h\"\n"), 2, "store.commit_interval",
               "1s to 1h");
  expect_error(with_bus("[store]\ncommit_interval = \"1500ms\"\n"), 2, "store.commit_interval",
               "not whole seconds");
  expect_error(with_bus("[store]\npath = \"\"\n"), 2, "store.path", "is empty");
}

TEST(ConfigError, FilesnapNeedsAPlaceholder) {
  expect_error(with_bus("[files]\nfilesnap = \"/tmp/ep.log\"\n"), 2, "files.filesnap",
               "{id} or {name}");
  expect_error(with_bus("[files]\nfilesnap = \"/tmp/ep_{unit}.log\"\n"), 2, "files.filesnap",
               "unknown placeholder at '{unit}'");
}

TEST(ConfigError, HttpListen) {
  expect_error(with_bus("[http]\nlisten = \"127.0.0.1:x\"\n"), 2, "http.listen", "0-65535");
  expect_error(with_bus("[http]\nlisten = \"127.0.0.1:70000\"\n"), 2, "http.listen",
               "not a TCP port");
  expect_error(with_bus("[http]\nlisten = \"8080\"\n"), 2, "http.listen", "no ':PORT'");
  expect_error(with_bus("[http]\nlisten = \"::1:8080\"\n"), 2, "http.listen", "[ ]");
}

TEST(ConfigError, LogLevel) {
  expect_error(with_bus("[log]\nlevel = \"verbose\"\n"), 2, "log.level",
               "allowed: trace, debug, info, warn, error");
}

TEST(ConfigError, NoBusOrNoDevice) {
  expect_error("[log]\nlevel = \"info\"\n", 1, "bus", "no [[bus]]");
  expect_error("[[bus]]\nport = \"/dev/ttyUSB0\"\n", 1, "bus[1].device", "no device");
  expect_error("[[bus]]\nport = \"/dev/ttyUSB0\"\ndevice = [1, 2]\n", 3, "bus[1].device",
               "expected an array of tables");
  expect_error("[bus]\nport = \"/dev/ttyUSB0\"\n", 1, "bus", "expected an array of tables");
}

TEST(ConfigError, BadNames) {
  expect_error(R"([[bus]]
name = "my bus"
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
)",
               2, "bus[1].name", "A-Z a-z 0-9 _ -");
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
name = "left/right"
)",
               5, "bus[1].device[1].name", "not a usable name");
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
site = "+"
[[bus.device]]
id = 1
)",
               3, "bus[1].site", "\"\" for none");
  // 64 characters are allowed, but the default device name would then be too long.
  expect_error(fmt::format(R"([[bus]]
name = "{}"
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
)",
                           std::string(64, 'b')),
               4, "bus[1].device[1].name", "give the device a name");
}

TEST(ConfigError, DuplicateIdOnABusNamesBothLines) {
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
  [[bus.device]]
  id = 1
  [[bus.device]]
  id = 2
  [[bus.device]]
  id = 1
)",
               8, "bus[1].device[3].id", "(line 4 and line 8)");
  // The same id on two buses is fine.
  EXPECT_NO_THROW(parse_config(std::string(k_bus) + R"([[bus]]
port = "/dev/ttyUSB1"
[[bus.device]]
id = 1
)",
                               k_file));
}

TEST(ConfigError, DuplicateDeviceNameOverTheFileNamesBothLines) {
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
  [[bus.device]]
  id = 1
  name = "left"
[[bus]]
port = "/dev/ttyUSB1"
  [[bus.device]]
  id = 1
  name = "left"
)",
               10, "bus[2].device[1].name", "'left' appears twice (line 5 and line 10)");
  // A given name that equals a default one; the default's line is its device table.
  expect_error(R"([[bus]]
name = "garage"
port = "/dev/ttyUSB0"
  [[bus.device]]
  id = 1
  [[bus.device]]
  id = 2
  name = "garage-1"
)",
               8, "bus[1].device[2].name", "(line 4 and line 8)");
}

TEST(ConfigError, DuplicateBusNameNamesBothLines) {
  expect_error(R"([[bus]]
name = "garage"
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
[[bus]]
name = "garage"
port = "/dev/ttyUSB1"
[[bus.device]]
id = 2
)",
               7, "bus[2].name", "'garage' appears twice (line 2 and line 7)");
}

TEST(ConfigError, TwoBusesOnOnePortNamesBothLines) {
  expect_error(R"([[bus]]
port = "/dev/ttyUSB0"
[[bus.device]]
id = 1
[[bus]]
port = "/dev/./ttyUSB0"
[[bus.device]]
id = 2
)",
               6, "bus[2].port", "(line 2 and line 6)");
  expect_error(R"([[bus]]
port = "tcp://10.0.0.5"
[[bus.device]]
id = 1
[[bus]]
port = "tcp://10.0.0.5:502"
[[bus.device]]
id = 2
)",
               6, "bus[2].port", "(line 2 and line 6)");
}

TEST(ConfigError, LoadConfigReportsTheFileItRead) {
  auto path = std::filesystem::temp_directory_path() /
              fmt::format("tracermon_config_test_{}.toml", ::getpid());
  {
    std::ofstream out(path);
    out << "[poll]\nfast = \"0s\"\n";
  }
  try {
    load_config(path);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith(path.string() + ":2: poll.fast: "));
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tracermon::app
