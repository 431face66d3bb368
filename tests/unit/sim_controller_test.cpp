// A simulated controller answers as the spec says a Tracer does: register support per model,
// exceptions, the AN's write rules (NOTES.md section 7), the clock and Read Device
// Identification as in the vendor capture.

#include <gtest/gtest.h>

#include "protocol/decode.hpp"
#include "sim/controller.hpp"
#include "vectors.hpp"

using namespace tracermon::sim;
using namespace tracermon::protocol;
using tracermon::test::hex;

namespace {

const ClockSeconds k_noon = from_calendar({2026, 6, 21, 12, 0, 0});

Bytes write_request(std::uint16_t start, const std::vector<std::uint16_t>& words) {
  Bytes pdu{fc::k_write_multiple_registers,          static_cast<std::uint8_t>(start >> 8),
            static_cast<std::uint8_t>(start),        0,
            static_cast<std::uint8_t>(words.size()), static_cast<std::uint8_t>(words.size() * 2)};
  for (auto w : words) {
    pdu.push_back(static_cast<std::uint8_t>(w >> 8));
    pdu.push_back(static_cast<std::uint8_t>(w));
  }
  return pdu;
}

std::uint8_t exception_code(const Bytes& reply) {
  return (reply.at(0) & 0x80) != 0 ? reply.at(1) : 0;
}

std::vector<std::uint16_t> read(SimulatedController& c, Table table, std::uint16_t start,
                                std::uint16_t count) {
  auto request = make_read_request(table, start, count);
  auto reply = c.handle(request, 125);
  auto words = parse_read_reply(request, reply);
  EXPECT_TRUE(words.ok()) << (words.ok() ? "" : words.error().describe());
  return words.ok() ? words.value() : std::vector<std::uint16_t>{};
}

// 12 V values x100 of a valid user voltage block 0x9003-0x900E.
const std::vector<std::uint16_t> k_user_voltages = {1600, 1500, 1500, 1460, 1440, 1380,
                                                    1320, 1260, 1220, 1200, 1110, 1060};

}  // namespace

TEST(SimController, RatedDataFromTheProfile) {
  SimulatedController c(find_profile("tracer-bn"), 1, k_noon);
  auto words = read(c, Table::Input, 0x3000, 9);
  ASSERT_EQ(words.size(), 9U);
  EXPECT_EQ(words[0], 15000);  // 150.00 V PV input
  EXPECT_EQ(words[4], 2400);   // 24 V battery
  EXPECT_EQ(words[5], 4000);   // 40 A
  EXPECT_EQ(words[8], 2);      // MPPT
  SimulatedController lsb(find_profile("ls-b"), 1, k_noon);
  EXPECT_EQ(read(lsb, Table::Input, 0x3008, 1).at(0), 1);  // PWM
}

TEST(SimController, MissingRegistersAndWrongFunctionGiveException2) {
  SimulatedController lsb(find_profile("ls-b"), 1, k_noon);
  EXPECT_EQ(exception_code(lsb.handle(make_read_request(Table::Input, 0x3200, 3), 125)), 2);
  EXPECT_EQ(read(lsb, Table::Input, 0x3200, 2).size(), 2U);
  EXPECT_EQ(read(lsb, Table::Input, 0x3112, 1).size(), 1U);  // an LS-B has the heat sink

  SimulatedController an(find_profile("tracer-2206an"), 1, k_noon);
  EXPECT_EQ(exception_code(an.handle(make_read_request(Table::Input, 0x3112, 1), 125)), 2);
  EXPECT_EQ(exception_code(an.handle(make_read_request(Table::Holding, 0x9065, 3), 125)), 2);
  EXPECT_EQ(exception_code(an.handle(make_read_request(Table::Coil, 0x0000, 3), 125)), 2);
  EXPECT_EQ(read(an, Table::Coil, 0x0002, 1).size(), 1U);
  // Input registers read with 0x03 (kasbert/epsolar-tracer#5).
  EXPECT_EQ(exception_code(an.handle(make_read_request(Table::Holding, 0x3100, 2), 125)), 2);
  // An undocumented address, and a write-only coil.
  EXPECT_EQ(exception_code(an.handle(make_read_request(Table::Input, 0x3113, 1), 125)), 2);
  EXPECT_EQ(exception_code(an.handle(make_read_request(Table::Coil, 0x0013, 1), 125)), 2);
}

TEST(SimController, AnswersTheUndocumentedGapInsideTheLiveBlock) {
  SimulatedController c(find_profile("tracer-an"), 1, k_noon);
  EXPECT_EQ(read(c, Table::Input, 0x3100, 16).size(), 16U);
}

TEST(SimController, MaximumRegistersPerRequest) {
  SimulatedController c(find_profile("tracer-an"), 1, k_noon);
  auto request = make_read_request(Table::Input, 0x3300, 20);
  EXPECT_EQ(exception_code(c.handle(request, 16)), 3);
  EXPECT_EQ(exception_code(c.handle(request, 20)), 0);
}

TEST(SimController, VoltageSettingsOnlyAsOneUserBlock) {
  SimulatedController c(find_profile("tracer-an"), 1, k_noon);
  // 0x9009 alone: "Slave reported device failure" on an AN.
  EXPECT_EQ(exception_code(c.handle(write_request(0x9009, {1300}), 125)), 4);
  // The whole block while the type is Sealed.
  EXPECT_EQ(exception_code(c.handle(write_request(0x9003, k_user_voltages), 125)), 4);
  // Type User with the rated voltage on auto: V2.5 forbids the pair.
  auto block = k_user_voltages;
  block.insert(block.begin(), {0, 200, 300});
  EXPECT_EQ(exception_code(c.handle(write_request(0x9000, block), 125)), 4);
  // Rated voltage 24 V first, then the block with type User is taken.
  EXPECT_EQ(exception_code(c.handle(write_request(0x9067, {2}), 125)), 0);
  EXPECT_EQ(exception_code(c.handle(write_request(0x9000, block), 125)), 0);
  EXPECT_EQ(read(c, Table::Holding, 0x9000, 15), block);
  // Ordering broken: float above boost.
  auto bad = k_user_voltages;
  std::swap(bad[4], bad[5]);
  EXPECT_EQ(exception_code(c.handle(write_request(0x9003, bad), 125)), 4);
  EXPECT_EQ(read(c, Table::Holding, 0x9003, 12), k_user_voltages);  // nothing changed
  // The charging thresholds reach the physics scaled to 24 V.
  EXPECT_DOUBLE_EQ(c.charge_settings().boost, 28.8);
}

TEST(SimController, CapacityCompensationAndDurationsAloneUnderAnyType) {
  SimulatedController c(find_profile("tracer-an"), 1, k_noon);
  EXPECT_EQ(exception_code(c.handle(write_request(0x9001, {400}), 125)), 0);
  EXPECT_EQ(exception_code(c.handle(write_request(0x9002, {500}), 125)), 0);
  EXPECT_EQ(exception_code(c.handle(write_request(0x906B, {60, 90}), 125)), 0);
  EXPECT_EQ(read(c, Table::Holding, 0x9001, 2), (std::vector<std::uint16_t>{400, 500}));
  // Choosing Gel loads its presets.
  EXPECT_EQ(exception_code(c.handle(write_request(0x9000, {2}), 125)), 0);
  EXPECT_EQ(read(c, Table::Holding, 0x9007, 1).at(0), 1420);
  // 0x06 is not a function a Tracer has.
  EXPECT_EQ(exception_code(c.handle(hex("06 90 01 01 90"), 125)), 1);
}

TEST(SimController, WrittenSettingsReachThePhysics) {
  SimulatedController c(find_profile("tracer-an"), 1, k_noon);
  EXPECT_DOUBLE_EQ(c.battery_capacity(), 200);
  EXPECT_DOUBLE_EQ(c.charge_settings().boost_minutes, 120);
  // The block 0x9000-0x900E with type User: 400 Ah, no compensation, boost 14.0 V.
  auto block = k_user_voltages;
  block[4] = 1400;
  block.insert(block.begin(), {0, 400, 0});
  ASSERT_EQ(exception_code(c.handle(write_request(0x9067, {2}), 125)), 0);
  ASSERT_EQ(exception_code(c.handle(write_request(0x9000, block), 125)), 0);
  auto s = c.charge_settings();
  EXPECT_DOUBLE_EQ(s.boost, 28.0);  // 24 V
  EXPECT_DOUBLE_EQ(s.float_voltage, 27.6);
  EXPECT_DOUBLE_EQ(s.boost_reconnect, 26.4);
  EXPECT_DOUBLE_EQ(s.temperature_compensation, 0);
  EXPECT_DOUBLE_EQ(c.battery_capacity(), 400);
  ASSERT_EQ(exception_code(c.handle(write_request(0x906C, {60}), 125)), 0);  // boost duration
  EXPECT_DOUBLE_EQ(c.charge_settings().boost_minutes, 60);
  // Coil 0 off stops charging.
  ASSERT_EQ(exception_code(c.handle(hex("05 00 00 00 00"), 125)), 0);
  EXPECT_FALSE(c.inputs().charging_enabled);
}

TEST(SimController, ClockOnlyAsThreeRegisters) {
  SimulatedController c(find_profile("tracer-an"), 1, k_noon);
  // The capture's clock set: 2015-06-19 00:48:53.
  EXPECT_EQ(exception_code(c.handle(hex("10 90 13 00 03 06 30 35 13 00 0F 06"), 125)), 0);
  EXPECT_EQ(to_calendar(c.clock()).iso8601(), "2015-06-19T00:48:53");
  EXPECT_EQ(read(c, Table::Holding, 0x9013, 3),
            (std::vector<std::uint16_t>{0x3035, 0x1300, 0x0F06}));
  EXPECT_EQ(exception_code(c.handle(write_request(0x9013, {0x3035}), 125)), 4);
  EXPECT_EQ(exception_code(c.handle(write_request(0x9014, {0x1300, 0x0F06}), 125)), 4);
  EXPECT_EQ(exception_code(c.handle(write_request(0x9013, {0x3035, 0x1300, 0x0F0D}), 125)), 4);
}

TEST(SimController, ClockDriftsAndStatisticsRollOverAtItsMidnight) {
  SimulatedController c(find_profile("tracer-an"), 1, from_calendar({2026, 6, 21, 23, 0, 0}));
  c.set_clock_drift(1000);  // 1000 ppm fast
  ControllerReadings r;
  r.pv_voltage = 40;
  r.battery_voltage = 26;
  c.update(r, 0);
  auto total_before = read(c, Table::Input, 0x3312, 2);
  r.generated_wh = 500;  // 0.5 kWh in the last hour before midnight
  c.update(r, 1800);
  EXPECT_EQ(read(c, Table::Input, 0x330C, 1).at(0), 50);  // today: 0.50 kWh
  r.generated_wh = 800;
  c.update(r, 1800);  // past midnight: today starts again
  EXPECT_EQ(to_calendar(c.clock()).iso8601(), "2026-06-22T00:00:03");  // 3.6 s gained
  EXPECT_EQ(read(c, Table::Input, 0x330C, 1).at(0), 30);
  auto total_after = read(c, Table::Input, 0x3312, 2);
  auto total = [](const std::vector<std::uint16_t>& w) { return w[0] | w[1] << 16; };
  EXPECT_EQ(total(total_after) - total(total_before), 80);  // the total never restarts
}

TEST(SimController, CoilsSwitchTheLoad) {
  SimulatedController c(find_profile("tracer-an"), 1, k_noon);
  EXPECT_TRUE(c.inputs().load_on);
  auto off = hex("05 00 02 00 00");
  EXPECT_EQ(c.handle(off, 125), off);  // the reply echoes the request
  EXPECT_FALSE(c.inputs().load_on);
  EXPECT_EQ(read(c, Table::Coil, 0x0002, 1).at(0), 0);
  EXPECT_EQ(exception_code(c.handle(hex("05 00 02 12 34"), 125)), 3);
  c.power_cycle();  // back to the default "on in manual mode"
  EXPECT_TRUE(c.inputs().load_on);
  EXPECT_EQ(exception_code(c.handle(hex("05 00 00 00 00"), 125)), 0);
  EXPECT_FALSE(c.inputs().charging_enabled);
}

TEST(SimController, DeviceIdentificationAsInTheCapture) {
  SimulatedController c(find_profile("tracer-bn"), 7, k_noon);
  auto basic = parse_device_id_reply(c.handle(make_device_id_request(1, 0), 125));
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(basic.value().objects.at(0), "EPsolar Tech co., Ltd");
  EXPECT_EQ(basic.value().objects.at(1), "Tracer4215BN");
  EXPECT_EQ(basic.value().objects.at(2), "V02.14+V07.24");
  auto regular = parse_device_id_reply(c.handle(make_device_id_request(2, 0), 125));
  ASSERT_TRUE(regular.ok());
  ASSERT_EQ(regular.value().objects.size(), 1U);
  EXPECT_EQ(regular.value().objects.at(3), "0004215180900007");
}
