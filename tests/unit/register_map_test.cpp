// The register map as the code sees it: every CSV row, with NOTES.md's corrections.

#include "protocol/register_map.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

using namespace tracermon::protocol;

namespace {

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(TRACERMON_DATA_DIR) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const Field& field(const char* name) {
  const auto* f = RegisterMap::builtin().find(name);
  EXPECT_NE(f, nullptr) << name;
  return *f;
}

}  // namespace

// Every one of the 111 rows is known, in the counts NOTES.md gives.
TEST(RegisterMap, KnowsEveryRow) {
  const auto& map = RegisterMap::builtin();
  int registers = 0, words = 0, pairs = 0, coils = 0, discretes = 0;
  for (const auto& f : map.fields()) {
    if (f.table == Table::Coil) ++coils;
    if (f.table == Table::Discrete) ++discretes;
    if (!f.is_bit()) {
      ++registers;
      words += f.width();
      if (f.width() == 2) ++pairs;
    }
  }
  EXPECT_EQ(map.fields().size(), 111u);
  EXPECT_EQ(registers, 101);
  EXPECT_EQ(words, 117);
  EXPECT_EQ(pairs, 16);
  EXPECT_EQ(coils, 8);
  EXPECT_EQ(discretes, 2);
  EXPECT_EQ(map.enums().size(), 62u);
}

// The embedded tables are the data/ files: editing a CSV changes the binary.
TEST(RegisterMap, EmbeddedCopyMatchesDataFiles) {
  auto from_files = RegisterMap::parse(read_data("registers.csv"), read_data("enums.csv"),
                                       read_data("quirks.csv"));
  const auto& builtin = RegisterMap::builtin();
  ASSERT_EQ(from_files.fields().size(), builtin.fields().size());
  for (std::size_t i = 0; i < builtin.fields().size(); ++i) {
    const auto& a = from_files.fields()[i];
    const auto& b = builtin.fields()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.address, b.address);
    EXPECT_EQ(a.scale, b.scale);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.optional, b.optional);
  }
}

// NOTES.md corrects the vendor documents; the map follows NOTES.
TEST(RegisterMap, FollowsNotesCorrections) {
  EXPECT_EQ(field("battery_soc").scale, 1u);
  EXPECT_EQ(field("discharging_percentage").scale, 1u);
  EXPECT_EQ(field("charging_percentage").scale, 1u);
  EXPECT_EQ(field("battery_temperature").type, ValueType::S16);
  EXPECT_EQ(field("device_temperature").type, ValueType::S16);
  EXPECT_EQ(field("remote_battery_temperature").type, ValueType::S16);
  EXPECT_EQ(field("battery_temp_warning_lower_limit").type, ValueType::S16);
  EXPECT_EQ(field("battery_current_net").type, ValueType::S32LoHi);
  EXPECT_EQ(field("load_rated_current").unit, "A");
}

TEST(RegisterMap, KnowsAccessGroupAndPollClass) {
  EXPECT_FALSE(field("restore_system_defaults").readable());
  EXPECT_FALSE(field("clear_generating_statistics").readable());
  EXPECT_EQ(field("restore_system_defaults").poll, PollClass::Never);
  EXPECT_EQ(field("pv_voltage").poll, PollClass::Fast);
  EXPECT_EQ(field("generated_energy_total").poll, PollClass::Slow);
  EXPECT_EQ(field("pv_rated_voltage").poll, PollClass::Once);
  EXPECT_EQ(field("battery_type").poll, PollClass::Settings);
  EXPECT_EQ(field("rtc_minute_second").group, "rtc");
  EXPECT_EQ(field("pv_power").width(), 2);
  EXPECT_EQ(field("pv_power").last_address(), 0x3103);
}

TEST(RegisterMap, MarksOptionalRegistersFromQuirks) {
  for (const char* name : {"power_components_temperature", "co2_reduction", "main_power_supply",
                           "output_control_mode_manual", "load_rated_voltage",
                           "battery_temperature_stat", "ambient_temperature"}) {
    EXPECT_TRUE(field(name).optional) << name;
  }
  EXPECT_FALSE(field("pv_voltage").optional);
  EXPECT_FALSE(field("manual_load_control").optional);
  const auto& map = RegisterMap::builtin();
  EXPECT_TRUE(map.in_answered_gap(Table::Input, 0x3108));
  EXPECT_FALSE(map.in_answered_gap(Table::Input, 0x3113));
  EXPECT_FALSE(map.in_answered_gap(Table::Holding, 0x3108));
}

TEST(RegisterMap, LooksUpByAddress) {
  const auto& map = RegisterMap::builtin();
  ASSERT_NE(map.at(Table::Input, 0x3102), nullptr);
  EXPECT_EQ(map.at(Table::Input, 0x3102)->name, "pv_power");
  EXPECT_EQ(map.at(Table::Input, 0x3103), nullptr);
  EXPECT_EQ(map.covering(Table::Input, 0x3103)->name, "pv_power");
  EXPECT_EQ(map.at(Table::Holding, 0x3102), nullptr);
  EXPECT_EQ(*map.enum_meaning(0x9067, 15, 0, 4), "48V");
  EXPECT_EQ(*map.enum_meaning(0x3201, 3, 2, 2), "boost");
  EXPECT_FALSE(map.enum_meaning(0x9067, 15, 0, 77).has_value());
}

// A broken table is refused with the file, line and what is wrong.
TEST(RegisterMap, RejectsMalformedTablesWithLine) {
  const std::string header =
      "address_hex,function,name_snake_case,description,unit,scale,type,access,group,poll\n";
  const std::string enums = "register_hex,value,meaning,source\n";
  const std::string quirks = "kind,function,first_hex,last_hex,source\n";
  auto error_of = [&](const std::string& rows, const std::string& q = "") {
    try {
      (void)RegisterMap::parse(header + rows, enums, quirks + q);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("0x3100,input,a,d,V,100,u17,r,g,fast\n"),
            "registers.csv line 2: type 'u17' is unknown");
  EXPECT_EQ(error_of("0x3100,input,a,d,V,100,u16,r,g,fast\n0x3100,input,b,d,V,1,u16,r,g,fast\n"),
            "registers.csv line 3: overlaps 'a'");
  EXPECT_EQ(
      error_of("0x3100,input,a,d,V,100,u32_lo_hi,r,g,fast\n0x3101,input,b,d,V,1,u16,r,g,fast\n"),
      "registers.csv line 3: overlaps 'a'");
  EXPECT_EQ(error_of("3100,input,a,d,V,100,u16,r,g,fast\n"),
            "registers.csv line 2: address '3100' is not a hex number 0x0000-0xFFFF");
  EXPECT_EQ(error_of("0x3100,input,a,d,V,0,u16,r,g,fast\n"),
            "registers.csv line 2: scale '0' is not a positive integer");
  EXPECT_EQ(error_of("0x3100,input,a,d,V,1,u16,r,g,often\n"),
            "registers.csv line 2: poll 'often' is unknown");
  EXPECT_EQ(error_of("0x3100,input,a,d,V,1,u16,r,g,fast\n", "optional,input,0x3101,0x3101,x\n"),
            "quirks.csv line 2: no field at 0x3101");
  EXPECT_EQ(error_of("0x3100,input,a,d,V,1,u16,r,g,fast\n", "answered_gap,input,0x3100,0x3100,x\n"),
            "quirks.csv line 2: 0x3100 is a documented field, not a gap");
}
