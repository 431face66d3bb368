// Profile files, sim: port options and fault options: good input works, bad input says what
// and where; the fault dice repeat with their seed.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "sim/faults.hpp"
#include "sim/profile.hpp"
#include "sim/sim_stream.hpp"

using namespace tracermon::sim;

namespace {

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::filesystem::path& file) {
  try {
    load_profiles(file);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(SimProfiles, FileProfilesStartFromABase) {
  auto file = write_file("tracermon-profiles-ok.toml", R"(
[profile.triron]
base = "tracer-bn"
model = "TriRon3210"
missing = ["main_power_supply"]
)");
  auto profiles = load_profiles(file);
  ASSERT_EQ(profiles.size(), 1U);
  EXPECT_EQ(profiles[0].key, "triron");
  EXPECT_EQ(profiles[0].model, "TriRon3210");
  EXPECT_EQ(profiles[0].rating.rated_charge_current, 40.0);  // from the base
  EXPECT_EQ(profiles[0].missing, std::vector<std::string>{"main_power_supply"});
  std::filesystem::remove(file);
}

TEST(SimProfiles, BadFilesNameLineAndKey) {
  auto file = write_file("tracermon-profiles-bad.toml", "[profile.x]\nmodel = \"X\"\nvolts = 3\n");
  EXPECT_NE(error_of(file).find("line 3: profile.x.volts: unknown key"), std::string::npos)
      << error_of(file);
  file = write_file("tracermon-profiles-bad.toml", "[profile.x]\nmissing = [\"pv_voltag\"]\n");
  EXPECT_NE(error_of(file).find("'pv_voltag' is not a field of registers.csv"), std::string::npos);
  file = write_file("tracermon-profiles-bad.toml", "[profile.x]\nrated_charge_current = 900\n");
  EXPECT_NE(error_of(file).find("line 2: profile.x.rated_charge_current: must be a number"),
            std::string::npos);
  file = write_file("tracermon-profiles-bad.toml", "[profile.x\n");
  EXPECT_NE(error_of(file).find("line 1"), std::string::npos);
  file = write_file("tracermon-profiles-bad.toml", "[profile.x]\nbase = \"tracer-zz\"\n");
  EXPECT_NE(error_of(file).find("unknown profile 'tracer-zz'"), std::string::npos);
  std::filesystem::remove(file);
  EXPECT_THROW(find_profile("tracer-xn"), std::invalid_argument);
}

TEST(SimOptions, PortOptions) {
  auto o = parse_sim_options("ids=1-3,7&profile=tracer-an&seed=9&speed=60&fault=no-reply=0.5");
  EXPECT_EQ(o.ids, (std::vector<std::uint8_t>{1, 2, 3, 7}));
  EXPECT_EQ(o.seed, 9U);
  EXPECT_EQ(o.speed, 60);
  EXPECT_EQ(o.faults.rate[static_cast<std::size_t>(Fault::NoReply)], 0.5);
  EXPECT_EQ(parse_sim_options("").ids, std::vector<std::uint8_t>{1});
  EXPECT_THROW(parse_sim_options("ids=0"), std::invalid_argument);
  EXPECT_THROW(parse_sim_options("ids=300"), std::invalid_argument);
  EXPECT_THROW(parse_sim_options("speed=fast"), std::invalid_argument);
  EXPECT_THROW(parse_sim_options("colour=red"), std::invalid_argument);
  EXPECT_THROW(parse_sim_options("seed"), std::invalid_argument);
  EXPECT_THROW(parse_sim_options("start=2026-02-30T00:00:00"), std::invalid_argument);
  EXPECT_EQ(to_calendar(parse_start_time("2026-06-21T05:30:00")).iso8601(), "2026-06-21T05:30:00");
  // A 12 V LS-B cannot share the bank of a 24 V Tracer.
  EXPECT_THROW(SimulatedBus(parse_sim_options("ids=1,2&profile=tracer-an+ls-b")),
               std::invalid_argument);
}

TEST(SimFaults, OptionsAreCheckedAndDiceRepeat) {
  FaultSettings s;
  apply_fault_option(s, "no_reply=0.25");
  apply_fault_option(s, "late-ms=300");
  apply_fault_option(s, "unit=3");
  EXPECT_DOUBLE_EQ(s.rate[static_cast<std::size_t>(Fault::NoReply)], 0.25);
  EXPECT_DOUBLE_EQ(s.late_ms, 300);
  EXPECT_THROW(apply_fault_option(s, "no-reply=2"), std::invalid_argument);
  EXPECT_THROW(apply_fault_option(s, "lightning=0.1"), std::invalid_argument);
  EXPECT_THROW(apply_fault_option(s, "late"), std::invalid_argument);
  EXPECT_THROW(apply_fault_option(s, "unit=0"), std::invalid_argument);

  FaultDice a(9), b(9);
  int fired = 0;
  for (int i = 0; i < 1000; ++i) {
    auto fa = a.roll(s, 3);
    EXPECT_EQ(fa, b.roll(s, 3));
    fired += fa.has_value() ? 1 : 0;
    EXPECT_FALSE(a.roll(s, 4).has_value());  // another unit: never
    b.roll(s, 4);
  }
  EXPECT_GT(fired, 180);
  EXPECT_LT(fired, 320);
}
