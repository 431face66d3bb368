// The pure parts of `tracermon setup`: the adapter table, sysfs, cron lines, the config text.

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "app/legacy_cron.hpp"
#include "app/serial_adapters.hpp"
#include "app/setup_config.hpp"
#include "temp_dir.hpp"

namespace tracermon::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;
using ::testing::HasSubstr;

// --- the adapter table ----------------------------------------------------------------------

TEST(AdapterTable, BuiltInNamesTheCommonAdapters) {
  const auto& table = known_adapters();
  ASSERT_EQ(table.size(), 8u);
  const auto* exar = find_known_adapter(table, "04e2", "1411");
  ASSERT_NE(exar, nullptr);
  EXPECT_EQ(exar->chip, "Exar XR21B1411");
  EXPECT_EQ(exar->driver, "xr_serial");
  for (auto [vendor, product] : {std::pair{"1a86", "7523"},
                                 {"1a86", "55d3"},
                                 {"1a86", "5523"},
                                 {"0403", "6001"},
                                 {"0403", "6014"},
                                 {"0403", "6015"},
                                 {"10c4", "ea60"}}) {
    EXPECT_NE(find_known_adapter(table, vendor, product), nullptr) << vendor << ":" << product;
  }
  EXPECT_EQ(find_known_adapter(table, "1234", "abcd"), nullptr);
}

TEST(AdapterTable, BadRowsNameTheirLine) {
  const std::string header = "vendor_id,product_id,name,chip,driver\n";
  auto error_of = [](const std::string& csv) {
    try {
      parse_adapter_table(csv);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error_of("vid,pid\n"), HasSubstr(":1: the header"));
  EXPECT_THAT(error_of(header + "04E2,1411,X,Y,z\n"), HasSubstr(":2: '04E2:1411'"));
  EXPECT_THAT(error_of(header + "04e2,141,X,Y,z\n"), HasSubstr(":2:"));
  EXPECT_THAT(error_of(header + "04e2,1411,X,Y\n"), HasSubstr(":2: 4 cells"));
  EXPECT_THAT(error_of(header + "04e2,1411,,Y,z\n"), HasSubstr("name is empty"));
  EXPECT_THAT(error_of(header + "04e2,1411,X,Y,z\n04e2,1411,X,Y,z\n"),
              HasSubstr(":3: 04e2:1411 is listed twice"));
  EXPECT_EQ(parse_adapter_table(header + "04e2,1411,X,Y,z\n").size(), 1u);
}

// --- sysfs ------------------------------------------------------------------------------------

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// A USB device 1-1 with one tty: below the interface (usb-serial) or the interface (cdc-acm).
void add_usb_tty(const fs::path& sys, const std::string& tty, const std::string& vendor,
                 const std::string& product, bool acm, const std::string& driver) {
  auto usb = sys / "devices" / "usb1" / ("1-" + tty);
  auto interface = usb / ("1-" + tty + ":1.0");
  auto port = acm ? interface : interface / tty;
  fs::create_directories(port);
  write(usb / "idVendor", vendor + "\n");
  write(usb / "idProduct", product + "\n");
  write(usb / "manufacturer", "Acme\n");
  fs::create_directories(sys / "bus" / "drivers" / driver);
  fs::create_directory_symlink(sys / "bus" / "drivers" / driver, port / "driver");
  fs::create_directories(sys / "class" / "tty" / tty);
  fs::create_directory_symlink(port, sys / "class" / "tty" / tty / "device");
}

TEST(Sysfs, UsbSerialAndCdcAcmAndNotUsb) {
  test::TempDir dir;
  auto sys = dir.path() / "sys";
  add_usb_tty(sys, "ttyUSB0", "1a86", "7523", false, "ch341-uart");
  add_usb_tty(sys, "ttyACM0", "1a86", "55d3", true, "cdc_acm");
  fs::create_directories(sys / "class" / "tty" / "ttyS0" / "device");  // a UART: no USB above

  auto usb_serial = usb_identity_of(sys, "ttyUSB0");
  ASSERT_TRUE(usb_serial);
  EXPECT_EQ(usb_serial->vendor_id, "1a86");
  EXPECT_EQ(usb_serial->product_id, "7523");
  EXPECT_EQ(usb_serial->driver, "ch341-uart");
  EXPECT_EQ(usb_serial->manufacturer, "Acme");
  auto acm = usb_identity_of(sys, "ttyACM0");
  ASSERT_TRUE(acm);
  EXPECT_EQ(acm->product_id, "55d3");
  EXPECT_EQ(acm->driver, "cdc_acm");
  EXPECT_FALSE(usb_identity_of(sys, "ttyS0"));
  EXPECT_FALSE(usb_identity_of(sys, "ttyUSB9"));

  SerialAdapter known{"/dev/ttyACM0", "ttyACM0", false, acm};
  EXPECT_EQ(describe_adapter(known, known_adapters()), "1a86:55d3 QinHeng CH343, driver cdc_acm");
  SerialAdapter unknown{"/dev/ttyUSB0", "ttyUSB0", false, usb_serial};
  unknown.usb->vendor_id = "1234";
  EXPECT_EQ(describe_adapter(unknown, known_adapters()),
            "unknown adapter 1234:7523 (Acme), driver ch341-uart");
  EXPECT_EQ(describe_adapter({"/dev/ttyUSB0", "ttyUSB0", false, {}}, known_adapters()),
            "no USB information");
}

TEST(Sysfs, ByIdLinksFirstThenTtysWithoutOne) {
  test::TempDir dir;
  DeviceRoots roots{dir.path() / "dev", dir.path() / "sys"};
  fs::create_directories(roots.dev / "serial" / "by-id");
  for (auto name : {"ttyUSB0", "ttyUSB1", "ttyACM0", "ttyS0", "tty1", "ttyXRUSB0"})
    write(roots.dev / name, "");
  fs::create_symlink("../../ttyUSB1", roots.dev / "serial" / "by-id" / "usb-FTDI-if00-port0");
  fs::create_symlink("../../ttyXRUSB0", roots.dev / "serial" / "by-id" / "usb-EPEVER-if00");
  add_usb_tty(roots.sys, "ttyXRUSB0", "04e2", "1411", true, "xr_serial");

  auto found = find_serial_adapters(roots);
  std::vector<std::string> paths;
  for (const auto& a : found)
    paths.push_back(a.path);
  EXPECT_THAT(paths, ::testing::ElementsAre(
                         (roots.dev / "serial/by-id/usb-EPEVER-if00").string(),
                         (roots.dev / "serial/by-id/usb-FTDI-if00-port0").string(),
                         (roots.dev / "ttyACM0").string(), (roots.dev / "ttyUSB0").string()));
  EXPECT_EQ(found[0].tty, "ttyXRUSB0");
  EXPECT_TRUE(found[0].stable);
  ASSERT_TRUE(found[0].usb);
  EXPECT_EQ(found[0].usb->vendor_id, "04e2");
  EXPECT_FALSE(found[2].stable);
  EXPECT_TRUE(find_serial_adapters({dir.path() / "none", dir.path() / "none"}).empty());
}

// --- cron lines -------------------------------------------------------------------------------

minutes interval_of(const std::string& schedule, std::vector<std::string>* notes_out = nullptr) {
  std::vector<std::string> fields;
  std::istringstream in(schedule);
  for (std::string f; in >> f;)
    fields.push_back(f);
  std::vector<std::string> notes;
  auto interval = cron_interval(fields, notes);
  if (notes_out != nullptr) *notes_out = notes;
  return interval;
}

TEST(CronInterval, CommonSchedules) {
  EXPECT_EQ(interval_of("* * * * *"), minutes(1));
  EXPECT_EQ(interval_of("*/5 * * * *"), minutes(5));
  EXPECT_EQ(interval_of("0-59/10 * * * *"), minutes(10));
  EXPECT_EQ(interval_of("0,15,30,45 * * * *"), minutes(15));
  EXPECT_EQ(interval_of("7 * * * *"), minutes(60));
  EXPECT_EQ(interval_of("0 */2 * * *"), minutes(120));
  EXPECT_EQ(interval_of("@hourly"), minutes(60));
  EXPECT_EQ(interval_of("@daily"), minutes(24 * 60));
  std::vector<std::string> notes;
  EXPECT_EQ(interval_of("*/2 6-20 * * *", &notes), minutes(2));
  EXPECT_THAT(notes, ::testing::ElementsAre(HasSubstr("6-20")));
  EXPECT_EQ(interval_of("0,10,30 * * * *", &notes), minutes(10));
  EXPECT_THAT(notes, ::testing::ElementsAre(HasSubstr("not evenly spaced")));
}

TEST(CronInterval, BadSchedules) {
  for (auto bad : {"*/0 * * * *", "*/x * * * *", "60 * * * *", "1-5 * * * *", "* * * *", "@reboot",
                   "a,b * * * *"}) {
    EXPECT_THROW(interval_of(bad), std::invalid_argument) << bad;
  }
}

TEST(LegacyCrontab, FindsTheOldJobs) {
  auto jobs = parse_legacy_crontab(
      "# */5 * * * * logtracer.py 9 dbsnap\n"
      "MAILTO=\"\"\n"
      "*/5 * * * * cd /home/pi/epsolar && python3 logtracer.py 1,2 dbsnap>/dev/null\n"
      "* * * * * pi /home/pi/epsolar/logtracer.py 3 filesnap\n"
      "@hourly /home/pi/logtracer.py 1 pvvolt >> /tmp/pv\n"
      "0 3 * * * /home/pi/backup.sh\n",
      "crontab");
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].line, 3u);
  EXPECT_EQ(jobs[0].mode, LegacyMode::DbSnap);
  EXPECT_EQ(jobs[0].ids, (std::vector<std::uint8_t>{1, 2}));
  EXPECT_EQ(jobs[0].interval, minutes(5));
  EXPECT_EQ(jobs[1].mode, LegacyMode::FileSnap);  // /etc/cron.d's user field is skipped
  EXPECT_EQ(jobs[1].ids, (std::vector<std::uint8_t>{3}));
  EXPECT_EQ(jobs[2].mode, LegacyMode::Check);
  EXPECT_EQ(jobs[2].check, "pvvolt");
  EXPECT_EQ(jobs[2].interval, minutes(60));
}

TEST(LegacyCrontab, MalformedLinesNameFileAndLine) {
  auto error_of = [](const std::string& text) {
    try {
      parse_legacy_crontab(text, "old/crontab");
    } catch (const LegacyInputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error_of("\n*/x * * * * logtracer.py 1 dbsnap\n"),
              HasSubstr("old/crontab:2: bad schedule"));
  EXPECT_THAT(error_of("logtracer.py 1 dbsnap\n"), HasSubstr("old/crontab:1: not a cron line"));
  EXPECT_THAT(error_of("* * * * * logtracer.py 1\n"), HasSubstr("needs ids"));
  EXPECT_THAT(error_of("* * * * * logtracer.py 0 dbsnap\n"), HasSubstr("bad id '0'"));
}

// --- the configuration text -------------------------------------------------------------------

SetupConfig two_buses() {
  SetupConfig c;
  c.written_on = "2026-12-07 22:00 UTC";
  c.buses.push_back({"bus1",
                     "/dev/serial/by-id/usb-EPEVER-if00",
                     115200,
                     "ttyXRUSB0: Exar",
                     {{1, "", "Tracer3210AN", "24V 30A"}, {2, "", "Tracer4215BN", ""}}});
  c.buses.push_back({"bus2", "/dev/ttyUSB0", 9600, "", {{1, "", "", "no identity"}}});
  name_devices(c.buses);
  return c;
}

TEST(SetupConfigText, LoadsWithTheExampleDefaults) {
  auto config = two_buses();
  EXPECT_EQ(config.buses[0].devices[0].name, "bus1-tracer1");
  EXPECT_EQ(config.buses[0].devices[1].name, "tracer2");
  EXPECT_EQ(config.buses[1].devices[0].name, "bus2-tracer1");
  auto text = setup_config_text(config);
  EXPECT_THAT(text, HasSubstr("written by `tracermon setup` on 2026-12-07 22:00 UTC"));
  EXPECT_THAT(text, HasSubstr("fast = \"5s\""));           // from examples/tracermon.toml
  EXPECT_THAT(text, ::testing::Not(HasSubstr("garage")));  // the example's buses are gone
  auto parsed = parse_config(text, "/etc/tracermon/tracermon.toml");
  ASSERT_EQ(parsed.buses.size(), 2u);
  EXPECT_EQ(parsed.buses[0].port_text, "/dev/serial/by-id/usb-EPEVER-if00");
  EXPECT_EQ(parsed.buses[1].serial.baud, 9600);
  EXPECT_EQ(parsed.buses[0].devices[0].model, "Tracer3210AN");
  EXPECT_EQ(parsed.buses[1].devices[0].name, "bus2-tracer1");
  EXPECT_TRUE(parsed.files.filesnap.empty());
  EXPECT_FALSE(parsed.influxdb.enabled);
  EXPECT_FALSE(parsed.buses[0].serial.rs485);
}

TEST(SetupConfigText, TheExarCableKeepsTheRs485ModeItAnsweredIn) {
  auto config = two_buses();
  config.buses[0].rs485 = true;
  auto parsed = parse_config(setup_config_text(config), "/etc/tracermon/tracermon.toml");
  EXPECT_TRUE(parsed.buses[0].serial.rs485);
  EXPECT_FALSE(parsed.buses[1].serial.rs485);
}

TEST(SetupConfigText, LegacySettings) {
  auto config = two_buses();
  config.filesnap = "/tmp/ep_tracer_{id}.log";
  LegacyInflux influx;
  influx.ini.host = "::1";
  influx.ini.database = "sun";
  influx.ini.measurement = "panels";
  influx.source = "influx.db";
  influx.legacy_devices = {"tracer2", "bus1-tracer1"};
  influx.interval = minutes(5);
  config.influx = influx;
  auto text = setup_config_text(config);
  EXPECT_THAT(text, HasSubstr("legacy_interval = \"5m\""));
  auto parsed = parse_config(text, "/etc/tracermon/tracermon.toml");
  EXPECT_EQ(parsed.files.filesnap, "/tmp/ep_tracer_{id}.log");
  ASSERT_TRUE(parsed.influxdb.enabled);
  EXPECT_EQ(parsed.influxdb.options.writer.url, "http://[::1]:8086");
  EXPECT_EQ(parsed.influxdb.options.writer.database, "sun");
  EXPECT_EQ(parsed.influxdb.options.writer.password, "solar");
  EXPECT_TRUE(parsed.influxdb.options.legacy);
  EXPECT_EQ(parsed.influxdb.options.legacy_measurement, "panels");
  EXPECT_EQ(parsed.influxdb.legacy_devices, (std::vector<std::string>{"tracer2", "bus1-tracer1"}));
}

TEST(SetupConfigText, StringsAreEscaped) {
  EXPECT_EQ(toml_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\u000A\\u0001\"");
  auto config = two_buses();
  config.buses[0].devices[0].model = "Tracer \"X\"\n";
  EXPECT_EQ(parse_config(setup_config_text(config), "x.toml").buses[0].devices[0].model,
            "Tracer \"X\"\n");
}

}  // namespace
}  // namespace tracermon::app
