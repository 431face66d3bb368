// Decoding register words into values, checked against the worked examples of the vendor
// documents and the bus capture (NOTES.md sections 3, 7, 8).

#include "protocol/decode.hpp"

#include <gtest/gtest.h>

#include "protocol/rtu.hpp"
#include "vectors.hpp"

using namespace tracermon::protocol;
using tracermon::test::hex;
using tracermon::test::reply_words;

namespace {
const Field& field(const char* name) {
  return *RegisterMap::builtin().find(name);
}

std::string text_of(const char* name, std::vector<std::uint16_t> words) {
  const auto& f = field(name);
  return format_value(f, raw_integer(f, words));
}
}  // namespace

// V2.3 p.12: 01 04 31 04 00 01 -> 01 04 02 04 CE: battery voltage 12.30 V.
TEST(Decode, BatteryVoltageExampleFromV23) {
  auto reply = hex("01 04 02 04 CE 3A 64");
  ASSERT_TRUE(crc_ok(reply));
  EXPECT_EQ(text_of("battery_voltage", reply_words(reply)), "12.3");
  EXPECT_DOUBLE_EQ(scaled_value(field("battery_voltage"), 0x04CE), 12.30);
}

// V2.5: the 0x9000 x15 read. The frame ends 72 A5 (the printed analysis says 3C C4: wrong).
TEST(Decode, BatterySettingsBlockFromV25) {
  auto reply =
      hex("01 03 1E 00 00 00 C8 01 2C 06 40 05 DC 05 DC 05 B4 05 A0 05 64 05 28 04 EC 04 C4 04 B0 "
          "04 56 04 24 72 A5");
  ASSERT_TRUE(crc_ok(reply));
  auto annotated = reply;  // the analysis prints 3C C4, the CRC of the 0x903D write reply
  annotated[annotated.size() - 2] = 0x3C;
  annotated[annotated.size() - 1] = 0xC4;
  EXPECT_FALSE(crc_ok(annotated));
  auto words = reply_words(reply);
  ASSERT_EQ(words.size(), 15u);
  const char* names[] = {"battery_type",
                         "battery_capacity",
                         "temperature_compensation_coefficient",
                         "over_voltage_disconnect_voltage",
                         "charging_limit_voltage",
                         "over_voltage_reconnect_voltage",
                         "equalize_charging_voltage",
                         "boost_charging_voltage",
                         "float_charging_voltage",
                         "boost_reconnect_charging_voltage",
                         "low_voltage_reconnect_voltage",
                         "under_voltage_warning_recover_voltage",
                         "under_voltage_warning_voltage",
                         "low_voltage_disconnect_voltage",
                         "discharging_limit_voltage"};
  const char* expected[] = {"0",    "200",  "3",    "16",   "15", "15",   "14.6", "14.4",
                            "13.8", "13.2", "12.6", "12.2", "12", "11.1", "10.6"};
  for (std::size_t i = 0; i < 15; ++i) {
    EXPECT_EQ(text_of(names[i], {words[i]}), expected[i]) << names[i];
  }
  EXPECT_EQ(*enum_text(RegisterMap::builtin(), field("battery_type"), words[0]), "User defined");
}

// V2.5 examples: rated voltage code 1 = 12V; durations 0x0078 = 120 min; PV rated 60.00 V.
TEST(Decode, SmallReadsFromV25) {
  const auto& map = RegisterMap::builtin();
  auto code = hex("01 03 02 00 01 79 84");
  ASSERT_TRUE(crc_ok(code));
  EXPECT_EQ(*enum_text(map, field("battery_rated_voltage_code"), reply_words(code)[0]), "12V");
  auto durations = hex("01 03 04 00 78 00 78 7A 08");
  ASSERT_TRUE(crc_ok(durations));
  EXPECT_EQ(text_of("equalize_duration", {reply_words(durations)[0]}), "120");
  EXPECT_EQ(text_of("boost_duration", {reply_words(durations)[1]}), "120");
  auto rated = hex("01 04 02 17 70 B7 24");
  ASSERT_TRUE(crc_ok(rated));
  EXPECT_EQ(text_of("pv_rated_voltage", reply_words(rated)), "60");
}

// V2.5 temperature write: 19 64 F0 60 21 34 1D 4C = 65.00, -40.00, 85.00, 75.00 degC.
TEST(Decode, SignedTemperaturesFromV25) {
  auto request = hex("01 10 90 17 00 04 08 19 64 F0 60 21 34 1D 4C 70 10");
  ASSERT_TRUE(crc_ok(request));
  EXPECT_EQ(text_of("battery_temp_warning_upper_limit", {0x1964}), "65");
  EXPECT_EQ(text_of("battery_temp_warning_lower_limit", {0xF060}), "-40");
  EXPECT_EQ(text_of("controller_inner_temp_upper_limit", {0x2134}), "85");
  EXPECT_EQ(text_of("controller_inner_temp_upper_limit_recover", {0x1D4C}), "75");
  EXPECT_EQ(text_of("battery_temperature", {0xFF38}), "-2");  // -2.00 degC on a cold night
  EXPECT_EQ(text_of("battery_temperature", {0xFF37}), "-2.01");
}

// 32-bit values are low word first: rated PV power 3000 W = 300000 = 0x000493E0.
TEST(Decode, ThirtyTwoBitValuesLowWordFirst) {
  EXPECT_EQ(text_of("pv_rated_power", {0x93E0, 0x0004}), "3000");
  EXPECT_EQ(
      raw_integer(field("generated_energy_total"), std::vector<std::uint16_t>{0x0001, 0x0002}),
      0x00020001);
  EXPECT_EQ(text_of("generated_energy_total", {0xFFFF, 0xFFFF}), "42949672.95");  // never negative
  // Net battery current is signed 32-bit: -2.00 A discharging.
  EXPECT_EQ(text_of("battery_current_net", {0xFF38, 0xFFFF}), "-2");
  EXPECT_EQ(text_of("battery_current_net", {0x01F4, 0x0000}), "5");
  EXPECT_EQ(text_of("battery_current_net", {0x0000, 0x8000}), "-21474836.48");
}

TEST(Decode, SocAndPercentagesHaveScaleOne) {
  EXPECT_EQ(text_of("battery_soc", {80}), "80");
  EXPECT_EQ(text_of("discharging_percentage", {0x0050}), "80");  // CAP read 0x0050
  EXPECT_EQ(text_of("charging_percentage", {0x0064}), "100");
}

// V2.5 read of 0x9013 x3: 2016-02-24 11:26:27; the frame ends BC 2E (analysis says B7 24,
// the CRC of the 0x3000 example).
TEST(Decode, ClockFromV25) {
  auto reply = hex("01 03 06 1A 1B 18 0B 10 02 BC 2E");
  ASSERT_TRUE(crc_ok(reply));
  EXPECT_FALSE(crc_ok(hex("01 03 06 1A 1B 18 0B 10 02 B7 24")));
  auto w = reply_words(reply);
  auto t = decode_rtc(w[0], w[1], w[2]);
  EXPECT_TRUE(t.valid());
  EXPECT_EQ(t.iso8601(), "2016-02-24T11:26:27");
}

// The capture reads 2015-06-19 01:06:51, and sets 2015-06-19 00:48:53 with E2 9A on the wire.
TEST(Decode, ClockFromBusCapture) {
  auto reply = hex("01 03 06 06 33 13 01 0F 06 F5 A1");
  ASSERT_TRUE(crc_ok(reply));
  auto w = reply_words(reply);
  EXPECT_EQ(decode_rtc(w[0], w[1], w[2]).iso8601(), "2015-06-19T01:06:51");

  ControllerTime set{2015, 6, 19, 0, 48, 53};
  auto words = encode_rtu(1, [&] {
    Bytes pdu = {0x10, 0x90, 0x13, 0x00, 0x03, 0x06};
    for (auto word : encode_rtc(set)) {
      pdu.push_back(static_cast<std::uint8_t>(word >> 8));
      pdu.push_back(static_cast<std::uint8_t>(word & 0xFF));
    }
    return pdu;
  }());
  EXPECT_EQ(words, hex("01 10 90 13 00 03 06 30 35 13 00 0F 06 E2 9A"));
}

TEST(Decode, ClockOutOfRangeIsInvalid) {
  EXPECT_FALSE(decode_rtc(0x0000, 0x0000, 0x0000).valid());  // month 0, day 0
  EXPECT_FALSE(decode_rtc(0x3C00, 0x0101, 0x1001).valid());  // minute 60
  EXPECT_FALSE(decode_rtc(0x0000, 0x0118, 0x1001).valid());  // hour 24
}

// Packed D15-D8 hours, D7-D0 minutes: V2.5 writes 0A 00 = 10 h 00 min and 02 00 = 2 h.
TEST(Decode, PackedHourMinute) {
  auto request = hex("01 10 90 65 00 01 02 0A 00 39 0C");
  ASSERT_TRUE(crc_ok(request));
  EXPECT_EQ(decode_hour_minute(0x0A00).text(), "10:00");
  EXPECT_EQ(decode_hour_minute(0x021E).text(), "02:30");
  const auto& map = RegisterMap::builtin();
  EXPECT_EQ(describe_value(map, field("length_of_night"), 0x0A00), "10 h 0 min");
}

TEST(Decode, EnumsFromTables) {
  const auto& map = RegisterMap::builtin();
  EXPECT_EQ(*enum_text(map, field("charging_mode"), 2), "MPPT");
  EXPECT_EQ(enum_text(map, field("load_control_mode"), 1)->substr(0, 12), "Light ON/OFF");
  EXPECT_EQ(enum_text(map, field("battery_type"), 4)->substr(0, 7), "LiFePO4");
  EXPECT_FALSE(enum_text(map, field("battery_type"), 13).has_value());
  EXPECT_EQ(describe_value(map, field("battery_type"), 13), "13");
  EXPECT_EQ(describe_value(map, field("pv_voltage"), 1852), "18.52 V");
}

TEST(Decode, FormatValueIsExactDecimal) {
  EXPECT_EQ(text_of("pv_voltage", {1852}), "18.52");
  EXPECT_EQ(text_of("pv_voltage", {1380}), "13.8");
  EXPECT_EQ(text_of("pv_voltage", {5}), "0.05");
  EXPECT_EQ(text_of("pv_voltage", {0}), "0");
  EXPECT_EQ(text_of("battery_temperature", {0xFFFB}), "-0.05");
}
