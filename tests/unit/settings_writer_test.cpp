// How a write is done: fresh read, nothing sent when nothing changes, one block, read-back, a
// timeout read back before any second try, refusals and exceptions reported.

#include "device/settings_writer.hpp"

#include <gtest/gtest.h>

#include "fake_slave.hpp"
#include "protocol/rtu.hpp"

namespace tracermon::device {
namespace {

using protocol::Table;

const protocol::SettingsCatalog& catalog() {
  return protocol::SettingsCatalog::builtin();
}
protocol::FieldId id(const char* name) {
  return catalog().map().find(name)->id;
}

// A controller with the vendor's example settings (type User, 24 V) and the load coils.
std::unique_ptr<test::FakeSlave> controller() {
  auto slave = std::make_unique<test::FakeSlave>();
  const std::uint16_t words[] = {0,    200,  300,  1600, 1500, 1500, 1460, 1440,
                                 1380, 1320, 1260, 1220, 1200, 1110, 1060};
  for (std::uint16_t i = 0; i < 15; ++i)
    slave->values[{Table::Holding, static_cast<std::uint16_t>(0x9000 + i)}] = words[i];
  slave->values[{Table::Holding, 0x9067}] = 2;
  slave->values[{Table::Holding, 0x903D}] = 1;
  slave->values[{Table::Holding, 0x903E}] = 0x0100;
  slave->values[{Table::Holding, 0x903F}] = 0x0100;
  for (std::uint16_t a = 0x9013; a <= 0x9015; ++a)
    slave->values[{Table::Holding, a}] = 0;
  // 2026-06-21 12:00:00 on the controller
  slave->values[{Table::Holding, 0x9013}] = 0x0000;
  slave->values[{Table::Holding, 0x9014}] = 0x150C;
  slave->values[{Table::Holding, 0x9015}] = 0x1A06;
  for (std::uint16_t a = 0; a <= 6; ++a)
    slave->values[{Table::Coil, a}] = 0;
  return slave;
}

struct Rig {
  test::FakeSlave* slave;
  transport::ModbusClient client;
  SettingsWriter writer;

  explicit Rig(std::unique_ptr<test::FakeSlave> s = controller())
      : slave(s.get()),
        client(std::move(s), transport::Framing::Rtu, quick()),
        writer(catalog(), client) {}

  static transport::ClientOptions quick() {
    transport::ClientOptions o;
    o.gap = std::chrono::milliseconds(0);
    o.retries = 0;
    return o;
  }
  // The PDUs of the write requests the slave received.
  [[nodiscard]] std::vector<protocol::Bytes> writes() const {
    std::vector<protocol::Bytes> out;
    for (const auto& f : slave->frames) {
      if (f[1] == 0x10 || f[1] == 0x05) out.emplace_back(f.begin() + 1, f.end() - 2);
    }
    return out;
  }
  [[nodiscard]] std::uint16_t holding(std::uint16_t a) const {
    return slave->values.at({Table::Holding, a});
  }
};

TEST(SettingsWriter, WritesTheBatteryBlockOnceAndReadsItBack) {
  Rig rig;
  SettingChange change{id("boost_charging_voltage"), 1420};
  auto report = rig.writer.apply(1, {&change, 1}, false);
  ASSERT_EQ(report.outcome, WriteOutcome::Written) << report.error;
  auto writes = rig.writes();
  ASSERT_EQ(writes.size(), 1U);
  EXPECT_EQ(writes[0].size(), 6U + 30U);  // 0x9000-0x900E in one FC 0x10
  EXPECT_EQ(protocol::be16(writes[0], 1), 0x9000);
  EXPECT_EQ(rig.holding(0x9007), 1420);
  EXPECT_EQ(rig.holding(0x9008), 1380);  // the others as they were
  ASSERT_EQ(report.settings.size(), 1U);
  EXPECT_EQ(report.settings[0].before, 1440);
  EXPECT_EQ(report.settings[0].after, 1420);
  EXPECT_EQ(report.sent, std::vector<std::string>{"FC 0x10 0x9000 x15"});
}

TEST(SettingsWriter, SendsNothingWhenNothingChanges) {
  Rig rig;
  SettingChange change{id("float_charging_voltage"), 1380};
  auto report = rig.writer.apply(1, {&change, 1}, false);
  EXPECT_EQ(report.outcome, WriteOutcome::Unchanged);
  EXPECT_TRUE(rig.writes().empty());
}

TEST(SettingsWriter, DryRunPlansButSendsNothing) {
  Rig rig;
  SettingChange change{id("battery_capacity"), 400};
  auto report = rig.writer.apply(1, {&change, 1}, true);
  EXPECT_EQ(report.outcome, WriteOutcome::DryRun);
  EXPECT_TRUE(rig.writes().empty());
  EXPECT_EQ(rig.holding(0x9001), 200);
}

TEST(SettingsWriter, ABrokenRuleIsNeverSent) {
  Rig rig;
  SettingChange change{id("boost_charging_voltage"), 1370};  // below float 13.8
  auto report = rig.writer.apply(1, {&change, 1}, false);
  EXPECT_EQ(report.outcome, WriteOutcome::Refused);
  EXPECT_NE(report.error.find("float_charging_voltage"), std::string::npos);
  EXPECT_TRUE(rig.writes().empty());
}

TEST(SettingsWriter, AnUnreadableDeviceIsNotWritten) {
  auto slave = controller();
  slave->silent = true;
  Rig rig(std::move(slave));
  SettingChange change{id("battery_capacity"), 400};
  auto report = rig.writer.apply(1, {&change, 1}, false);
  EXPECT_EQ(report.outcome, WriteOutcome::Refused);
  EXPECT_NE(report.error.find("cannot read the current settings"), std::string::npos);
  EXPECT_TRUE(rig.writes().empty());
}

TEST(SettingsWriter, AnExceptionIsAFailureThatSaysTheDeviceRefused) {
  auto slave = controller();
  slave->refuse_writes = 4;
  Rig rig(std::move(slave));
  SettingChange change{id("battery_capacity"), 400};
  auto report = rig.writer.apply(1, {&change, 1}, false);
  EXPECT_EQ(report.outcome, WriteOutcome::Failed);
  EXPECT_EQ(report.exception_code, 4);
  EXPECT_NE(report.error.find("refused"), std::string::npos);
  EXPECT_FALSE(report.settings[0].took());
  EXPECT_EQ(rig.writes().size(), 1U);  // an exception is an answer: not sent again
}

TEST(SettingsWriter, ATimeoutThatTookIsNotSentAgain) {
  auto slave = controller();
  slave->mute = {3};  // reads 0x9000 x15 and 0x9067 first; the write is the third request
  Rig rig(std::move(slave));
  SettingChange change{id("battery_capacity"), 400};
  auto report = rig.writer.apply(1, {&change, 1}, false);
  EXPECT_EQ(report.outcome, WriteOutcome::Written) << report.error;
  EXPECT_EQ(rig.writes().size(), 1U);
  EXPECT_EQ(rig.holding(0x9001), 400);
}

TEST(SettingsWriter, ATimeoutThatDidNotTakeIsSentOnceMore) {
  auto slave = controller();
  slave->ignored = {3};  // the write is lost on the way
  Rig rig(std::move(slave));
  SettingChange change{id("battery_capacity"), 400};
  auto report = rig.writer.apply(1, {&change, 1}, false);
  EXPECT_EQ(report.outcome, WriteOutcome::Written) << report.error;
  EXPECT_EQ(rig.writes().size(), 2U);
  EXPECT_EQ(report.sent.size(), 2U);
}

TEST(SettingsWriter, AValueThatDoesNotTakeIsNamed) {
  auto slave = controller();
  slave->forget_writes = true;
  Rig rig(std::move(slave));
  SettingChange change{id("boost_charging_voltage"), 1420};
  auto report = rig.writer.apply(1, {&change, 1}, false);
  EXPECT_EQ(report.outcome, WriteOutcome::Failed);
  EXPECT_NE(report.error.find("did not take: boost_charging_voltage (wrote 14.2 V, reads 14.4 V)"),
            std::string::npos)
      << report.error;
}

TEST(SettingsWriter, LoadOnIsManualModeThenTheCoil) {
  Rig rig;
  SettingChange changes[] = {{id("load_control_mode"), 0}, {id("manual_load_control"), 1}};
  auto report = rig.writer.apply(1, changes, false);
  ASSERT_EQ(report.outcome, WriteOutcome::Written) << report.error;
  auto writes = rig.writes();
  ASSERT_EQ(writes.size(), 2U);
  EXPECT_EQ(writes[0], (protocol::Bytes{0x10, 0x90, 0x3D, 0x00, 0x01, 0x02, 0x00, 0x00}));
  EXPECT_EQ(writes[1], (protocol::Bytes{0x05, 0x00, 0x02, 0xFF, 0x00}));
}

// The host's clock at this local time on 2026-06-21 (the controller's day in controller()).
std::chrono::system_clock::time_point host_at(int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = 126;
  tm.tm_mon = 5;
  tm.tm_mday = 21;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  tm.tm_isdst = -1;
  return std::chrono::system_clock::from_time_t(std::mktime(&tm));
}

TEST(SettingsWriter, ClockSyncWritesThreeRegistersAndChecksTheDrift) {
  Rig rig;
  // The host says 12:05:30; the controller is 330 s behind.
  auto host = host_at(12, 5, 30);
  auto report = rig.writer.clock(1, false, [&] { return host; });
  EXPECT_EQ(report.outcome, WriteOutcome::Unchanged);
  EXPECT_DOUBLE_EQ(report.drift_s, -330.0);
  EXPECT_TRUE(rig.writes().empty());

  report = rig.writer.clock(1, true, [&] { return host; });
  ASSERT_EQ(report.outcome, WriteOutcome::Written) << report.error;
  auto writes = rig.writes();
  ASSERT_EQ(writes.size(), 1U);
  EXPECT_EQ(writes[0], (protocol::Bytes{0x10, 0x90, 0x13, 0x00, 0x03, 0x06, 0x05, 0x1E, 0x15, 0x0C,
                                        0x1A, 0x06}));
  EXPECT_DOUBLE_EQ(report.drift_after_s, 0.0);
}

TEST(SettingsWriter, AClockThatIsRightIsNotWritten) {
  Rig rig;
  auto host = host_at(12, 0, 1);
  auto report = rig.writer.clock(1, true, [&] { return host; });
  EXPECT_EQ(report.outcome, WriteOutcome::Unchanged);
  EXPECT_TRUE(rig.writes().empty());
}

}  // namespace
}  // namespace tracermon::device
