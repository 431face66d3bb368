// The settings catalogue: values as users type them, the vendor's rules and the write blocks.

#include "protocol/settings.hpp"

#include <gtest/gtest.h>

#include "protocol/pdu.hpp"

namespace tracermon::protocol {
namespace {

const SettingsCatalog& catalog() {
  return SettingsCatalog::builtin();
}
const Field& field(const char* name) {
  return *catalog().map().find(name);
}

std::int64_t parsed(const char* name, const char* text) {
  auto v = catalog().parse_value(field(name), text);
  EXPECT_TRUE(v.ok()) << name << "=" << text << ": " << (v ? "" : v.error().message);
  return v ? v.value() : -1;
}

std::string refusal(const char* name, const char* text) {
  auto v = catalog().parse_value(field(name), text);
  EXPECT_FALSE(v.ok()) << name << "=" << text << " was accepted";
  return v ? "" : v.error().message;
}

// The vendor's example battery block (MODBUS-Protocol-v25): type User, 200 Ah, 12 V values.
RegisterImage vendor_example() {
  RegisterImage image;
  const std::uint16_t words[] = {0,    200,  300,  1600, 1500, 1500, 1460, 1440,
                                 1380, 1320, 1260, 1220, 1200, 1110, 1060};
  for (std::uint16_t i = 0; i < 15; ++i)
    image[{Table::Holding, static_cast<std::uint16_t>(0x9000 + i)}] = words[i];
  image[{Table::Holding, k_rated_voltage_code}] = 2;  // 24 V
  return image;
}

std::vector<RegisterKey> set(RegisterImage& image, const char* name, std::int64_t raw) {
  put_raw(image, field(name), raw);
  return {{field(name).table, field(name).address}};
}

TEST(SettingsCatalog, EveryWritableRegisterHasARange) {
  // builtin() throws when a writable scalar of registers.csv has no row in settings.csv.
  auto settable = catalog().settable();
  EXPECT_GE(settable.size(), 50U);
  for (auto id : settable) {
    const auto& f = catalog().map().field(id);
    EXPECT_NE(f.name.rfind("rtc_", 0), 0U) << "the clock is written by `clock` only";
    EXPECT_LE(catalog().spec(id)->min_raw, catalog().spec(id)->max_raw) << f.name;
  }
}

TEST(SettingsCatalog, ValuesWithAndWithoutUnits) {
  EXPECT_EQ(parsed("boost_charging_voltage", "14.4"), 1440);
  EXPECT_EQ(parsed("boost_charging_voltage", "14.4V"), 1440);
  EXPECT_EQ(parsed("boost_charging_voltage", " 14.40 v "), 1440);
  EXPECT_EQ(parsed("battery_capacity", "200Ah"), 200);
  EXPECT_EQ(parsed("battery_temp_warning_lower_limit", "-20degC"), -2000);
  EXPECT_EQ(parsed("boost_duration", "90min"), 90);
}

TEST(SettingsCatalog, EnumsByNumberOrName) {
  EXPECT_EQ(parsed("battery_type", "user"), 0);
  EXPECT_EQ(parsed("battery_type", "Sealed"), 1);
  EXPECT_EQ(parsed("battery_type", "7"), 7);
  EXPECT_EQ(parsed("battery_rated_voltage_code", "24V"), 2);
  EXPECT_EQ(parsed("load_control_mode", "manual"), 0);
  EXPECT_EQ(parsed("manual_load_control", "on"), 1);
  EXPECT_EQ(parsed("manual_load_control", "off"), 0);
  EXPECT_EQ(parsed("load_timer1_working_length", "2:30"), 0x021E);
}

TEST(SettingsCatalog, BadValuesSayWhatAndWhy) {
  EXPECT_NE(refusal("boost_charging_voltage", "28.8V").find("per 12 V block"), std::string::npos);
  EXPECT_NE(refusal("boost_charging_voltage", "14.405").find("more precise"), std::string::npos);
  EXPECT_NE(refusal("boost_charging_voltage", "fourteen").find("not a number"), std::string::npos);
  EXPECT_NE(refusal("battery_capacity", "0").find("outside 1 Ah to 9999 Ah"), std::string::npos);
  EXPECT_NE(refusal("battery_type", "lifepo4").find("ambiguous"), std::string::npos);
  EXPECT_NE(refusal("battery_type", "13").find("choose one of"), std::string::npos);
  EXPECT_NE(refusal("load_control_mode", "light").find("ambiguous"), std::string::npos);
  EXPECT_NE(refusal("manual_load_control", "maybe").find("not on or off"), std::string::npos);
  EXPECT_NE(refusal("load_timer1_working_length", "25:00").find("H:MM"), std::string::npos);
  EXPECT_NE(refusal("boost_charging_voltage", "").find("no value"), std::string::npos);
}

TEST(SettingsCatalog, OnlyWritableSettingsAreFound) {
  EXPECT_TRUE(catalog().find("float_charging_voltage").ok());
  EXPECT_NE(catalog().find("no_such").error().message.find("unknown setting"), std::string::npos);
  EXPECT_NE(catalog().find("pv_voltage").error().message.find("not a setting"), std::string::npos);
  EXPECT_NE(catalog().find("rtc_day_hour").error().message.find("clock"), std::string::npos);
  EXPECT_FALSE(catalog().find("restore_system_defaults").ok());  // write-only, dangerous
}

TEST(SettingsRules, AValidBlockPasses) {
  auto image = vendor_example();
  auto changed = set(image, "boost_charging_voltage", 1420);
  auto check = check_settings(catalog(), image, changed);
  EXPECT_TRUE(check.ok()) << check.violations.front();
  EXPECT_FALSE(check.notes.empty());  // the 12 V basis is pointed out
}

TEST(SettingsRules, EachOrderingRuleNamesBothSettings) {
  struct Case {
    const char* name;
    std::int64_t raw;
    const char* other;
  };
  const Case cases[] = {
      {"boost_reconnect_charging_voltage", 1400, "float_charging_voltage"},
      {"float_charging_voltage", 1450, "boost_charging_voltage"},
      {"boost_charging_voltage", 1470, "equalize_charging_voltage"},
      {"charging_limit_voltage", 1650, "over_voltage_disconnect_voltage"},
      {"over_voltage_reconnect_voltage", 1600, "over_voltage_disconnect_voltage"},
      {"low_voltage_disconnect_voltage", 1210, "under_voltage_warning_voltage"},
      {"discharging_limit_voltage", 1120, "low_voltage_disconnect_voltage"},
      {"low_voltage_reconnect_voltage", 1100, "low_voltage_disconnect_voltage"},
  };
  for (const auto& c : cases) {
    auto image = vendor_example();
    auto check = check_settings(catalog(), image, set(image, c.name, c.raw));
    ASSERT_FALSE(check.ok()) << c.name;
    bool named = false;
    for (const auto& v : check.violations) {
      named |= v.find(c.name) != std::string::npos && v.find(c.other) != std::string::npos;
    }
    EXPECT_TRUE(named) << c.name << ": " << check.violations.front();
  }
}

TEST(SettingsRules, VoltagesOnlyForTypeUser) {
  auto image = vendor_example();
  set(image, "battery_type", 1);  // sealed, already on the device
  auto check = check_settings(catalog(), image, set(image, "boost_charging_voltage", 1420));
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.violations.front().find("battery_type=user"), std::string::npos);
}

TEST(SettingsRules, UserTypeNeedsARatedVoltage) {
  auto image = vendor_example();
  set(image, "battery_rated_voltage_code", 0);  // auto
  auto check = check_settings(catalog(), image, set(image, "battery_type", 0));
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.violations.front().find("battery_rated_voltage_code"), std::string::npos);
}

TEST(SettingsRules, NoEqualizeForGel) {
  auto image = vendor_example();
  set(image, "battery_type", 2);
  auto check = check_settings(catalog(), image, set(image, "equalize_duration", 60));
  EXPECT_FALSE(check.ok());
}

TEST(WritePlan, TheBatteryBlockGoesAsOne) {
  auto image = vendor_example();
  auto blocks = plan_writes(image, set(image, "float_charging_voltage", 1370));
  ASSERT_EQ(blocks.size(), 1U);
  EXPECT_EQ(blocks[0].describe(), "FC 0x10 0x9000 x15");
  EXPECT_EQ(blocks[0].words[8], 1370);
  EXPECT_EQ(blocks[0].words[0], 0);  // the type goes with it
}

TEST(WritePlan, APresetTypeWritesOnlyTypeCapacityAndCompensation) {
  auto image = vendor_example();
  set(image, "battery_type", 1);
  auto blocks = plan_writes(image, set(image, "battery_capacity", 400));
  ASSERT_EQ(blocks.size(), 1U);
  EXPECT_EQ(blocks[0].describe(), "FC 0x10 0x9000 x3");
}

TEST(WritePlan, LoadModeBeforeItsTimersAndCoilsLast) {
  RegisterImage image;
  std::vector<RegisterKey> changed;
  for (const auto* name : {"manual_load_control", "load_timer1_working_length", "load_control_mode",
                           "load_timer2_working_length"}) {
    auto keys = set(image, name, 1);
    changed.insert(changed.end(), keys.begin(), keys.end());
  }
  auto blocks = plan_writes(image, changed);
  ASSERT_EQ(blocks.size(), 2U);
  EXPECT_EQ(blocks[0].describe(), "FC 0x10 0x903D x3");
  EXPECT_EQ(blocks[1].describe(), "FC 0x05 0x0002 on");
}

TEST(WritePlan, FreshReadsCoverWhatTheRulesNeed) {
  const auto& map = catalog().map();
  auto ranges = context_reads(map, {map.find("boost_charging_voltage")->id}, 20);
  ASSERT_EQ(ranges.size(), 2U);
  EXPECT_EQ(ranges[0].start, 0x9000);
  EXPECT_EQ(ranges[0].count, 15);
  EXPECT_EQ(ranges[1].start, k_rated_voltage_code);
  auto coil = context_reads(map, {map.find("manual_load_control")->id}, 20);
  ASSERT_EQ(coil.size(), 1U);
  EXPECT_EQ(coil[0].table, Table::Coil);
  // A limit on the request size splits the block.
  EXPECT_EQ(context_reads(map, {map.find("battery_type")->id}, 8).size(), 3U);
}

TEST(WriteFrames, MatchTheVendorExamples) {
  // MODBUS-Protocol-v25: 01 10 90 13 00 03 06 ... (the clock) and FC 05 on coil 2.
  std::uint16_t clock[] = {0x3035, 0x1300, 0x0F06};
  EXPECT_EQ(make_write_registers_request(0x9013, clock),
            (Bytes{0x10, 0x90, 0x13, 0x00, 0x03, 0x06, 0x30, 0x35, 0x13, 0x00, 0x0F, 0x06}));
  EXPECT_EQ(make_write_coil_request(2, true), (Bytes{0x05, 0x00, 0x02, 0xFF, 0x00}));
  EXPECT_EQ(make_write_coil_request(2, false), (Bytes{0x05, 0x00, 0x02, 0x00, 0x00}));
  auto request = make_write_registers_request(0x9013, clock);
  EXPECT_TRUE(check_write_reply(request, Bytes{0x10, 0x90, 0x13, 0x00, 0x03}).ok());
  EXPECT_EQ(check_write_reply(request, Bytes{0x10, 0x90, 0x13, 0x00, 0x02}).error().kind,
            core::ErrorKind::BadReply);
  auto refused = check_write_reply(request, Bytes{0x90, 0x04});
  EXPECT_EQ(refused.error().kind, core::ErrorKind::Exception);
  EXPECT_EQ(refused.error().exception_code, 4);
}

}  // namespace
}  // namespace tracermon::protocol

namespace tracermon::protocol {
namespace {

TEST(WritePlan, ARatedVoltageGoesBeforeTheTypeUser) {
  auto image = vendor_example();
  set(image, "battery_rated_voltage_code", 0);
  set(image, "battery_type", 1);
  RegisterImage merged = image;
  std::vector<RegisterKey> changed = set(merged, "battery_type", 0);
  auto more = set(merged, "battery_rated_voltage_code", 2);
  changed.insert(changed.end(), more.begin(), more.end());
  auto blocks = plan_writes(merged, changed);
  ASSERT_EQ(blocks.size(), 2U);
  EXPECT_EQ(blocks[0].describe(), "FC 0x10 0x9067 x1");
  EXPECT_EQ(blocks[1].describe(), "FC 0x10 0x9000 x15");
}

}  // namespace
}  // namespace tracermon::protocol
