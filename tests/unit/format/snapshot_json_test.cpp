#include "format/snapshot_json.hpp"

#include <gtest/gtest.h>

#include "snapshot_builder.hpp"

namespace tracermon::format {
namespace {

using test::map;
using test::sample;
using test::snapshot;

TEST(SnapshotJson, StatusKeysOfTheTwoEquipmentWordsNeverOverwriteEachOther) {
  // Charging: fault (D1) set, input voltage no power (D15-14 = 01); discharging: no fault,
  // input voltage normal.
  auto s = snapshot("east", 1,
                    {sample("battery_status", 0), sample("charging_equipment_status", 0x4002),
                     sample("discharging_equipment_status", 0x0001)});
  auto json = snapshot_json(map(), s, {});
  const auto& status = json.at("status");
  EXPECT_EQ(status.at("charging_equipment_fault"), true);
  EXPECT_EQ(status.at("discharging_equipment_fault"), false);
  EXPECT_EQ(status.at("charging_equipment_input_voltage_state"), "no input power connected");
  EXPECT_EQ(status.at("discharging_equipment_input_voltage_state"), "input voltage normal");
  EXPECT_EQ(status.at("battery_voltage_state"), "normal");
  EXPECT_FALSE(status.contains("fault"));
  EXPECT_FALSE(status.contains("input_voltage"));
  // No input power is night, not a problem; the fault flag is.
  ASSERT_EQ(status.at("problems").size(), 1U) << status.dump();
  EXPECT_NE(status.at("problems")[0].get<std::string>().find("fault"), std::string::npos);
}

}  // namespace
}  // namespace tracermon::format
