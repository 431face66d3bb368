// Settings and coils written over Modbus reach the simulated physics through the bus: the
// load switches at the next step, a lower boost voltage is held lower and floats sooner, the
// battery capacity sets how fast the SOC moves, and the clock moves when it is written.

#include <algorithm>
#include <optional>

#include <gtest/gtest.h>

#include "protocol/decode.hpp"
#include "sim/bus.hpp"

using namespace tracermon::sim;
using namespace tracermon::protocol;

namespace {

BusOptions options(const ControllerTime& start, std::vector<std::uint8_t> ids = {1}) {
  BusOptions o;
  o.ids = std::move(ids);
  o.profiles = {find_profile("tracer-an")};  // 24 V, 30 A, 780 W of panels, 60 W of load
  o.seed = 1;
  o.speed = 1e-6;  // run_for moves time; the test's own running time barely does
  o.cloudiness = 0;
  o.start = from_calendar(start);
  return o;
}

Bytes write_registers(std::uint16_t start, const std::vector<std::uint16_t>& words) {
  Bytes pdu{fc::k_write_multiple_registers,          static_cast<std::uint8_t>(start >> 8),
            static_cast<std::uint8_t>(start),        0,
            static_cast<std::uint8_t>(words.size()), static_cast<std::uint8_t>(words.size() * 2)};
  for (auto w : words) {
    pdu.push_back(static_cast<std::uint8_t>(w >> 8));
    pdu.push_back(static_cast<std::uint8_t>(w));
  }
  return pdu;
}

Bytes write_coil(std::uint16_t address, bool on) {
  return {fc::k_write_single_coil, static_cast<std::uint8_t>(address >> 8),
          static_cast<std::uint8_t>(address), static_cast<std::uint8_t>(on ? 0xFF : 0x00), 0x00};
}

// The request was taken (no exception reply).
::testing::AssertionResult taken(SimulatedBus& bus, std::uint8_t unit, const Bytes& pdu) {
  auto reply = bus.request(unit, pdu);
  if (!reply || reply->empty()) return ::testing::AssertionFailure() << "no reply";
  if ((reply->at(0) & 0x80) != 0) {
    return ::testing::AssertionFailure() << "exception " << int(reply->at(1));
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::uint16_t> read(SimulatedBus& bus, std::uint8_t unit, Table table,
                                std::uint16_t start, std::uint16_t count) {
  auto request = make_read_request(table, start, count);
  auto reply = bus.request(unit, request);
  if (!reply) return {};
  auto words = parse_read_reply(request, *reply);
  EXPECT_TRUE(words.ok()) << (words.ok() ? "" : words.error().describe());
  return words.ok() ? words.value() : std::vector<std::uint16_t>{};
}

double battery_volts(SimulatedBus& bus) {
  return read(bus, 1, Table::Input, 0x3104, 1).at(0) / 100.0;
}
double load_amps(SimulatedBus& bus) {
  return read(bus, 1, Table::Input, 0x310D, 1).at(0) / 100.0;
}
int soc(SimulatedBus& bus, std::uint8_t unit = 1) {
  return read(bus, unit, Table::Input, 0x311A, 1).at(0);
}
int phase(SimulatedBus& bus) {  // 0x3201 D3-D2
  return (read(bus, 1, Table::Input, 0x3201, 1).at(0) >> 2) & 3;
}

// 0x9000-0x900E, type User, 200 Ah, 3 mV/degC/cell, 12 V values x100 with boost `boost`.
std::vector<std::uint16_t> user_block(std::uint16_t boost) {
  return {0, 200, 300, 1600, 1500, 1500, 1460, boost, 1380, 1320, 1260, 1220, 1200, 1110, 1060};
}

struct Morning {
  std::optional<int> floated;  // first minute in float
  double highest = 0;          // V
};

// 05:00 to 16:00 of a clear June day, a minute at a time.
Morning morning(SimulatedBus& bus) {
  Morning m;
  for (int minute = 0; minute < 11 * 60; ++minute) {
    bus.run_for(60);
    m.highest = std::max(m.highest, battery_volts(bus));
    if (!m.floated && phase(bus) == 1) m.floated = minute;
  }
  return m;
}

}  // namespace

TEST(SimBus, LoadCoilSwitchesTheLoadAtTheNextStep) {
  SimulatedBus bus(options({2026, 6, 21, 21, 0, 0}));
  bus.run_for(60);
  ASSERT_GT(load_amps(bus), 0.5);
  ASSERT_TRUE(taken(bus, 1, write_coil(2, false)));  // manual_load_control, manual mode
  bus.run_for(1);
  EXPECT_EQ(load_amps(bus), 0);
  EXPECT_EQ(read(bus, 1, Table::Input, 0x310E, 2), (std::vector<std::uint16_t>{0, 0}));
  EXPECT_EQ(read(bus, 1, Table::Input, 0x3202, 1).at(0) & 1, 0);  // load not running
  ASSERT_TRUE(taken(bus, 1, write_coil(2, true)));
  bus.run_for(1);
  EXPECT_GT(load_amps(bus), 0.5);
  EXPECT_EQ(read(bus, 1, Table::Input, 0x3202, 1).at(0) & 1, 1);
}

TEST(SimBus, LoadControlModeSwitchesTheLoadAtTheNextStep) {
  SimulatedBus bus(options({2026, 6, 21, 12, 0, 0}));
  bus.run_for(60);
  ASSERT_GT(load_amps(bus), 0.5);  // manual, on
  // Light on/off: at noon the load is off.
  ASSERT_TRUE(taken(bus, 1, write_registers(0x903D, {1})));
  bus.run_for(1);
  EXPECT_EQ(load_amps(bus), 0);
  // Time control, on from 11:00 to 13:00 by the controller clock.
  ASSERT_TRUE(taken(bus, 1, write_registers(0x903D, {3})));
  ASSERT_TRUE(taken(bus, 1, write_registers(0x9042, {0, 0, 11, 0, 0, 13})));
  bus.run_for(1);
  EXPECT_GT(load_amps(bus), 0.5);
  // Back to manual, where coil 2 is still on.
  ASSERT_TRUE(taken(bus, 1, write_registers(0x903D, {0})));
  bus.run_for(1);
  EXPECT_GT(load_amps(bus), 0.5);
}

TEST(SimBus, WrittenLowerBoostVoltageIsHeldLowerAndFloatsSooner) {
  SimulatedBus standard(options({2026, 6, 21, 5, 0, 0}));
  SimulatedBus lower(options({2026, 6, 21, 5, 0, 0}));
  ASSERT_TRUE(taken(lower, 1, write_registers(0x9067, {2})));  // 24 V, not "auto"
  ASSERT_TRUE(taken(lower, 1, write_registers(0x9000, user_block(1400))));
  EXPECT_EQ(read(lower, 1, Table::Holding, 0x9007, 1).at(0), 1400);
  auto a = morning(standard), b = morning(lower);
  ASSERT_TRUE(a.floated && b.floated);
  // Temperature compensation moves the targets by less than 0.2 V at 20-25 degC.
  EXPECT_NEAR(a.highest, 28.8, 0.3);
  EXPECT_NEAR(b.highest, 28.0, 0.3);
  EXPECT_LT(b.highest, a.highest - 0.5);
  EXPECT_LT(*b.floated, *a.floated - 30) << "minutes after 05:00";
}

TEST(SimBus, WrittenBatteryCapacitySetsHowFastTheSocMoves) {
  // Overnight the bank only discharges, at the same load whatever its size.
  auto night_drop = [](std::vector<std::uint8_t> ids, const std::vector<int>& capacities) {
    SimulatedBus bus(options({2026, 6, 21, 20, 0, 0}, ids));
    for (std::size_t i = 0; i < capacities.size(); ++i) {
      auto ah = static_cast<std::uint16_t>(capacities[i]);
      EXPECT_TRUE(taken(bus, ids[i], write_registers(0x9001, {ah})));
    }
    int before = soc(bus);
    bus.run_for(8 * 3600);
    for (auto id : ids)
      EXPECT_EQ(soc(bus, id), soc(bus, ids[0]));  // one bank
    return before - soc(bus);
  };
  int at_200 = night_drop({1}, {200});
  int at_100 = night_drop({1}, {100});
  EXPECT_GE(at_200, 8);
  EXPECT_NEAR(at_100, 2 * at_200, 2);
  // A PAL-ADP group's bank is the mean of its members' settings.
  int both_400 = night_drop({1, 2}, {400, 400});
  int one_400 = night_drop({1, 2}, {400, 200});  // a 300 Ah bank
  EXPECT_NEAR(one_400 * 3, both_400 * 4, 5);
}

TEST(SimBus, ClockWriteMovesTheControllerClock) {
  SimulatedBus bus(options({2026, 6, 21, 12, 0, 0}));
  // 2030-01-02 03:04:05 as 0x9013-0x9015 in one FC 0x10.
  ASSERT_TRUE(taken(bus, 1, write_registers(0x9013, {0x0405, 0x0203, 0x1E01})));
  EXPECT_EQ(read(bus, 1, Table::Holding, 0x9013, 3),
            (std::vector<std::uint16_t>{0x0405, 0x0203, 0x1E01}));
  bus.run_for(60);
  EXPECT_EQ(read(bus, 1, Table::Holding, 0x9013, 3),
            (std::vector<std::uint16_t>{0x0505, 0x0203, 0x1E01}));  // a minute on
  EXPECT_EQ(bus.status()["controllers"][0]["clock"], "2030-01-02T03:05:05");
}
