// Status words 0x3200-0x3202 into named states and fault flags (NOTES.md section 5).

#include <gtest/gtest.h>

#include "protocol/decode.hpp"

using namespace tracermon::protocol;

namespace {

DecodedStatus decode(const char* name, std::uint16_t word) {
  const auto& map = RegisterMap::builtin();
  auto status = decode_status(map, *map.find(name), word);
  EXPECT_TRUE(status.has_value());
  return *status;
}

std::string state(const DecodedStatus& s, std::string_view key) {
  for (const auto& st : s.states) {
    if (st.key == key) return st.meaning;
  }
  return "missing";
}

bool flag(const DecodedStatus& s, std::string_view key) {
  for (const auto& f : s.flags) {
    if (f.key == key) return f.set;
  }
  ADD_FAILURE() << "no flag " << key;
  return false;
}

}  // namespace

TEST(Status, BatteryStatusStatesAndFlags) {
  auto normal = decode("battery_status", 0x0000);
  EXPECT_EQ(state(normal, "voltage"), "normal");
  EXPECT_EQ(state(normal, "temperature"), "normal");
  EXPECT_TRUE(normal.problems().empty());

  auto lvd = decode("battery_status", 0x0003);
  EXPECT_EQ(state(lvd, "voltage"), "low voltage disconnect (V2.5: over discharge)");
  auto hot = decode("battery_status", 0x0011);
  EXPECT_EQ(state(hot, "voltage"), "over voltage");
  EXPECT_EQ(state(hot, "temperature"), "over temperature (above warning setting 0x9017)");
  EXPECT_EQ(hot.problems().size(), 2u);

  auto flags = decode("battery_status", 0x8100);
  EXPECT_TRUE(flag(flags, "internal_resistance_abnormal"));
  EXPECT_TRUE(flag(flags, "wrong_rated_voltage"));
  EXPECT_EQ(flags.problems().size(), 2u);
  EXPECT_EQ(state(decode("battery_status", 0x0009), "voltage"), "unknown (9)");
}

TEST(Status, ChargingEquipmentStatus) {
  // Running, boost: D3-D2 = 2, D0 = 1.
  auto boost = decode("charging_equipment_status", 0x0009);
  EXPECT_EQ(state(boost, "charging_phase"), "boost");
  EXPECT_TRUE(flag(boost, "running"));
  EXPECT_FALSE(flag(boost, "fault"));
  EXPECT_TRUE(boost.problems().empty());
  EXPECT_EQ(state(decode("charging_equipment_status", 0x0005), "charging_phase"), "float");
  EXPECT_EQ(state(decode("charging_equipment_status", 0x000D), "charging_phase"), "equalization");

  // At night: no input power connected, not charging. That is not a fault.
  auto night = decode("charging_equipment_status", 0x4000);
  EXPECT_EQ(state(night, "input_voltage"), "no input power connected");
  EXPECT_EQ(state(night, "charging_phase"), "no charging");
  EXPECT_TRUE(night.problems().empty());

  auto high = decode("charging_equipment_status", 0x8000);
  EXPECT_EQ(state(high, "input_voltage"), "higher input voltage");
  EXPECT_EQ(high.problems().size(), 1u);

  // Every fault bit, one at a time, is named.
  const std::pair<int, const char*> bits[] = {{13, "charging_mosfet_short"},
                                              {12, "charging_or_anti_reverse_mosfet_open"},
                                              {11, "anti_reverse_mosfet_short"},
                                              {10, "input_over_current"},
                                              {9, "load_over_current"},
                                              {8, "load_short"},
                                              {7, "load_mosfet_short"},
                                              {6, "three_circuit_disequilibrium"},
                                              {4, "pv_input_short"},
                                              {1, "fault"}};
  for (auto [bit, key] : bits) {
    auto s = decode("charging_equipment_status", static_cast<std::uint16_t>(1U << bit));
    EXPECT_TRUE(flag(s, key)) << key;
    EXPECT_EQ(s.problems().size(), 1u) << key;
  }
}

TEST(Status, DischargingEquipmentStatus) {
  auto on = decode("discharging_equipment_status", 0x0001);
  EXPECT_TRUE(flag(on, "running"));
  EXPECT_EQ(state(on, "output_power"), "light load");
  EXPECT_TRUE(on.problems().empty());

  auto overload = decode("discharging_equipment_status", 0x3001);
  EXPECT_EQ(state(overload, "output_power"), "overload");
  EXPECT_EQ(overload.problems().size(), 1u);
  EXPECT_TRUE(decode("discharging_equipment_status", 0x2001).problems().empty());  // rated load

  EXPECT_EQ(state(decode("discharging_equipment_status", 0x4000), "input_voltage"),
            "input voltage low");
  const std::pair<int, const char*> bits[] = {{11, "output_short_circuit"},
                                              {10, "unable_to_discharge"},
                                              {9, "unable_to_stop_discharging"},
                                              {8, "output_voltage_abnormal"},
                                              {7, "input_over_voltage"},
                                              {6, "high_voltage_side_short"},
                                              {5, "boost_over_voltage"},
                                              {4, "output_over_voltage"},
                                              {1, "fault"}};
  for (auto [bit, key] : bits) {
    auto s = decode("discharging_equipment_status", static_cast<std::uint16_t>(1U << bit));
    EXPECT_TRUE(flag(s, key)) << key;
    EXPECT_EQ(s.problems().size(), 1u) << key;
  }
}

TEST(Status, OnlyStatusWordsDecode) {
  const auto& map = RegisterMap::builtin();
  EXPECT_FALSE(decode_status(map, *map.find("pv_voltage"), 0).has_value());
  EXPECT_EQ(describe_value(map, *map.find("charging_equipment_status"), 0x0009),
            "0x0009 (input_voltage: input voltage normal, charging_phase: boost, running)");
}
