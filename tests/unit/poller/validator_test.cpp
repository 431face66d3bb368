// Plausibility checks: values no healthy controller can show are rejected with a message naming
// field, value and limit; a total counter that goes backwards is rejected unless the drop
// persists, and then it is a counter reset. Realistic values (a simulated day) all pass.

#include "poller/validator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/decode.hpp"
#include "sim/controller.hpp"
#include "sim/plant.hpp"
#include "sim/profile.hpp"

using namespace tracermon;
using namespace tracermon::poller;
using namespace tracermon::protocol;

namespace {

const Field& field(std::string_view name) {
  const auto* f = RegisterMap::builtin().find(name);
  if (f == nullptr) throw std::invalid_argument("no field " + std::string(name));
  return *f;
}

Verdict check_raw(Validator& v, std::string_view name, std::int64_t raw) {
  const auto& f = field(name);
  return v.check(f, raw, scaled_value(f, raw));
}

Verdict check(Validator& v, std::string_view name, double value) {
  return check_raw(v, name, std::llround(value * field(name).scale));
}

struct RangeCase {
  const char* what;
  std::vector<std::pair<const char*, double>> rated;  // learnt before the check
  const char* field;
  double value;
  bool accepted;
  std::vector<std::string> message_parts;  // each must appear in the rejection reason
};

// Limits by the documented rules: battery <= system x 1.34 + 1 V per 12 V (24 V: 34.16 V);
// PV voltage <= rated + 10 % (200 V if unknown); currents and powers <= rated x 1.5;
// temperatures -40..125 degC; percentages 0..100.
const std::vector<RangeCase> k_range_cases = {
    {"garbled battery voltage on a 24 V system",
     {{"battery_real_rated_voltage", 24}},
     "battery_voltage",
     655.35,
     false,
     {"battery_voltage", "655.35 V", "above the 34.16 V limit", "24 V system"}},
    {"24 V equalization is fine",
     {{"battery_real_rated_voltage", 24}},
     "battery_voltage",
     29.6,
     true,
     {}},
    {"12 V battery in user mode at 17 V",
     {{"battery_rated_voltage_code", 1}},
     "battery_voltage",
     17.0,
     true,
     {}},
    {"12 V battery cannot read 24 V",
     {{"battery_rated_voltage_code", 1}},
     "battery_voltage",
     24.0,
     false,
     {"17.08 V", "12 V system"}},
    {"load output follows the battery limit",
     {{"battery_real_rated_voltage", 12}},
     "load_voltage",
     30.0,
     false,
     {"load_voltage", "30 V", "12 V system"}},
    {"unknown system voltage: 70 V cap",
     {},
     "battery_voltage",
     75.0,
     false,
     {"above the 70 V limit", "system voltage unknown"}},
    {"unknown system voltage: 48 V battery fine", {}, "battery_voltage", 64.0, true, {}},
    {"PV a little above rating (cold Voc)",
     {{"pv_rated_voltage", 150}},
     "pv_voltage",
     160.0,
     true,
     {}},
    {"PV far above rating",
     {{"pv_rated_voltage", 150}},
     "pv_voltage",
     170.0,
     false,
     {"pv_voltage", "170 V", "above the 165 V limit", "PV rated 150 V"}},
    {"PV unknown rating: 200 V + 10%", {}, "pv_voltage", 655.35, false, {"220 V"}},
    {"PV max today uses the PV limit",
     {{"pv_rated_voltage", 100}},
     "max_pv_voltage_today",
     115.0,
     false,
     {"max_pv_voltage_today", "110 V"}},
    {"PV current within 1.5 x rated", {{"pv_rated_current", 40}}, "pv_current", 45.0, true, {}},
    {"PV current beyond 1.5 x rated",
     {{"pv_rated_current", 40}},
     "pv_current",
     65.0,
     false,
     {"pv_current", "65 A", "60 A", "rated 40 A"}},
    {"PV power beyond rated",
     {{"pv_rated_power", 1040}},
     "pv_power",
     1600.0,
     false,
     {"pv_power", "1600 W", "1560 W"}},
    {"PV power, unknown rating: V x I bound", {}, "pv_power", 42949672.95, false, {"pv_power"}},
    {"charging current at 1.5 x rated",
     {{"battery_rated_current", 40}},
     "battery_charging_current",
     60.0,
     true,
     {}},
    {"charging power beyond rated",
     {{"battery_rated_power", 1040}},
     "battery_charging_power",
     2000.0,
     false,
     {"battery_charging_power", "1560 W"}},
    {"load current at the limit", {{"load_rated_current", 20}}, "load_current", 30.0, true, {}},
    {"load current just beyond",
     {{"load_rated_current", 20}},
     "load_current",
     30.01,
     false,
     {"load_current", "30.01 A", "30 A"}},
    {"net current: discharging beyond the load rating",
     {{"battery_rated_current", 40}, {"load_rated_current", 20}},
     "battery_current_net",
     -45.0,
     false,
     {"battery_current_net", "-45 A", "below the -30 A limit"}},
    {"net current: charging within the charger rating",
     {{"battery_rated_current", 40}, {"load_rated_current", 20}},
     "battery_current_net",
     55.0,
     true,
     {}},
    {"frost at the lower sensor limit", {}, "battery_temperature", -40.0, true, {}},
    {"below the sensor range",
     {},
     "battery_temperature",
     -40.01,
     false,
     {"battery_temperature", "-40.01 °C", "-40 °C"}},
    {"hot heat sink before shutdown", {}, "power_components_temperature", 110.0, true, {}},
    {"garbled temperature word",
     {},
     "device_temperature",
     327.67,
     false,
     {"device_temperature", "327.67 °C", "125 °C"}},
    {"full battery", {}, "battery_soc", 100.0, true, {}},
    {"SOC above 100", {}, "battery_soc", 101.0, false, {"battery_soc", "101 %", "100 %"}},
    {"percent setting above 100",
     {},
     "discharging_percentage",
     150.0,
     false,
     {"discharging_percentage", "150 %"}},
    {"system voltage that is not one",
     {},
     "battery_real_rated_voltage",
     23.5,
     false,
     {"battery_real_rated_voltage", "23.5 V", "not a system voltage"}},
    {"system voltage still being recognised", {}, "battery_real_rated_voltage", 0.0, true, {}},
    {"garbled rated PV power", {}, "pv_rated_power", 42949672.95, false, {"pv_rated_power"}},
    {"settings are not second-guessed", {}, "battery_capacity", 65535.0, true, {}},
};

void PrintTo(const RangeCase& c, std::ostream* os) {
  *os << c.what;
}

class ValidatorRange : public testing::TestWithParam<RangeCase> {};

TEST_P(ValidatorRange, AcceptsOrRejectsWithAClearReason) {
  const auto& c = GetParam();
  Validator v;
  for (const auto& [name, value] : c.rated)
    v.learn_rated(field(name), value);
  auto verdict = check(v, c.field, c.value);
  EXPECT_EQ(verdict.accepted, c.accepted) << c.what << ": " << verdict.reason;
  EXPECT_FALSE(verdict.counter_reset);
  if (c.accepted) {
    EXPECT_TRUE(verdict.reason.empty()) << verdict.reason;
    EXPECT_EQ(v.rejected(c.field), 0u);
  } else {
    EXPECT_EQ(v.rejected(c.field), 1u);
  }
  for (const auto& part : c.message_parts) {
    EXPECT_NE(verdict.reason.find(part), std::string::npos)
        << c.what << ": '" << part << "' not in '" << verdict.reason << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ValidatorRange, testing::ValuesIn(k_range_cases));

TEST(Validator, StatusWordsWithReservedBitsAreAccepted) {
  Validator v;
  for (const char* name : {"battery_status", "charging_equipment_status",
                           "discharging_equipment_status", "charging_mode", "battery_type"}) {
    EXPECT_TRUE(check_raw(v, name, 0xFFFF)) << name;
  }
}

TEST(Validator, EnergyCounterWithTheTopBitSetIsRejected) {
  Validator v;
  auto verdict = check_raw(v, "generated_energy_today", 0xFFFFFFFF);
  EXPECT_FALSE(verdict);
  EXPECT_NE(verdict.reason.find("generated_energy_today"), std::string::npos) << verdict.reason;
  EXPECT_NE(verdict.reason.find("21474836.47 kWh"), std::string::npos) << verdict.reason;
  EXPECT_TRUE(check(v, "generated_energy_today", 21474836.47));
}

TEST(Validator, RatedDataReadInTheSameCycleTightensTheLimits) {
  Validator v;
  EXPECT_TRUE(check(v, "pv_voltage", 120));  // below the 220 V of an unknown rating
  ASSERT_TRUE(check(v, "pv_rated_voltage", 100));
  EXPECT_FALSE(check(v, "pv_voltage", 120));
  ASSERT_TRUE(check(v, "battery_real_rated_voltage", 12));
  EXPECT_EQ(v.system_voltage(), 12.0);
  EXPECT_FALSE(check(v, "battery_voltage", 26));
}

TEST(Validator, LearnsRatedDataFromASnapshot) {
  const auto& map = RegisterMap::builtin();
  model::DeviceSnapshot snapshot;
  for (auto [name, value] : {std::pair{"pv_rated_voltage", 100.0},
                             {"battery_rated_voltage", 24.0},
                             {"pv_voltage", 35.0}}) {
    model::FieldSample sample;
    sample.id = field(name).id;
    sample.value = value;
    snapshot.fields.push_back(sample);
  }
  std::sort(snapshot.fields.begin(), snapshot.fields.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  Validator v;
  v.learn_rated(map, snapshot);
  EXPECT_FALSE(check(v, "pv_voltage", 120));
  // 0x3004 is the highest system voltage the model supports: a 24 V bound, not a 70 V one.
  auto verdict = check(v, "battery_voltage", 40);
  EXPECT_FALSE(verdict);
  EXPECT_NE(verdict.reason.find("battery rated 24 V"), std::string::npos) << verdict.reason;
}

TEST(Validator, CountsRejectionsPerField) {
  Validator v;
  EXPECT_FALSE(check(v, "battery_voltage", 655.35));
  EXPECT_FALSE(check(v, "battery_voltage", 100));
  EXPECT_FALSE(check(v, "battery_soc", 255));
  EXPECT_TRUE(check(v, "battery_soc", 55));
  EXPECT_EQ(v.rejected("battery_voltage"), 2u);
  EXPECT_EQ(v.rejected("battery_soc"), 1u);
  EXPECT_EQ(v.rejected("pv_voltage"), 0u);
  EXPECT_EQ(v.rejected_counts().size(), 2u);
}

// Each step: the total read, whether it is accepted, whether it is a counter reset.
struct TotalStep {
  double kwh;
  bool accepted;
  bool reset;
};

class ValidatorTotal : public testing::TestWithParam<const char*> {
 protected:
  void run(Validator& v, const std::vector<TotalStep>& steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      auto verdict = check(v, GetParam(), steps[i].kwh);
      EXPECT_EQ(verdict.accepted, steps[i].accepted) << "step " << i << ": " << verdict.reason;
      EXPECT_EQ(verdict.counter_reset, steps[i].reset) << "step " << i;
    }
  }
};

TEST_P(ValidatorTotal, OneDropIsRejectedWithBothValues) {
  Validator v;
  ASSERT_TRUE(check(v, GetParam(), 1000));
  auto verdict = check(v, GetParam(), 12.34);
  EXPECT_FALSE(verdict);
  EXPECT_NE(verdict.reason.find(GetParam()), std::string::npos) << verdict.reason;
  EXPECT_NE(verdict.reason.find("went backwards from 1000 kWh to 12.34 kWh"), std::string::npos)
      << verdict.reason;
  EXPECT_TRUE(check(v, GetParam(), 1000.01));  // the glitch is over
  EXPECT_EQ(v.counter_resets(), 0u);
}

TEST_P(ValidatorTotal, PersistentDropIsACounterReset) {
  Validator v;
  run(v, {{1000, true, false},
          {0, false, false},
          {0, false, false},
          {0.01, true, true},  // third low read in a row: the statistics were cleared
          {0.02, true, false},
          {0.02, true, false}});
  EXPECT_EQ(v.counter_resets(), 1u);
  EXPECT_EQ(v.rejected(GetParam()), 2u);
}

TEST_P(ValidatorTotal, OnlyConsecutiveNonDecreasingLowReadsCount) {
  Validator v;
  run(v, {{1000, true, false},
          {5, false, false},
          {1000.5, true, false},  // back up: the run of low reads starts again
          {5, false, false},
          {6, false, false},
          {4, false, false},  // lower than the last low read: not a counter that restarted
          {4, false, false},
          {4.1, true, true}});
}

TEST_P(ValidatorTotal, SeededTotalCatchesAResetWhileTheDaemonWasDown) {
  Validator v;
  v.remember_total(field(GetParam()), 1000);
  run(v, {{3, false, false}, {3, false, false}, {3, true, true}});
}

INSTANTIATE_TEST_SUITE_P(Totals, ValidatorTotal,
                         testing::Values("generated_energy_total", "consumed_energy_total"));

TEST(Validator, MonthlyCountersMayFallAtTheMonthStart) {
  Validator v;
  EXPECT_TRUE(check(v, "generated_energy_this_month", 120.5));
  EXPECT_TRUE(check(v, "generated_energy_this_month", 0));
}

TEST(Validator, ConfigurableResetConfirmation) {
  Validator v(ValidatorOptions{.reset_confirm_reads = 1});
  ASSERT_TRUE(check(v, "generated_energy_total", 50));
  auto verdict = check(v, "generated_energy_total", 1);
  EXPECT_TRUE(verdict.accepted);
  EXPECT_TRUE(verdict.counter_reset);
}

// Every readable value of each built-in simulator profile over a whole day (night, boost,
// float, evening load) passes: the limits do not reject healthy data.
TEST(Validator, ASimulatedDayPassesForEveryProfile) {
  using namespace tracermon::sim;
  const auto& map = RegisterMap::builtin();
  for (const auto& profile : builtin_profiles()) {
    Site site;
    site.battery_nominal_voltage = profile.battery_rated_voltage;
    site.battery_capacity_ah = profile.rating.rated_charge_current * 10;
    ControllerSetup setup;
    setup.rating = profile.rating;
    setup.panels = profile.panels;
    setup.load_watts = profile.load_watts;
    Plant plant(site, {setup}, 7, 0);
    SimulatedController controller(profile, 1, from_calendar({2026, 6, 21, 0, 0, 0}));
    Validator v;
    int checked = 0;
    for (int step = 0; step < 24 * 6; ++step) {  // every 10 minutes
      plant.set_settings(0, controller.charge_settings());
      plant.set_inputs(0, controller.inputs());
      plant.step(600);
      controller.update(plant.readings(0), 600);
      for (const auto& f : map.fields()) {
        if (!f.readable()) continue;
        std::vector<std::uint16_t> words;
        for (std::uint16_t a = f.address; a <= f.last_address(); ++a) {
          if (auto w = controller.word(f.table, a)) words.push_back(*w);
        }
        if (words.size() != f.width()) continue;  // the model lacks it
        auto raw = raw_integer(f, words);
        auto verdict = v.check(f, raw, scaled_value(f, raw));
        EXPECT_TRUE(verdict) << profile.key << " step " << step << ": " << verdict.reason;
        ++checked;
      }
    }
    EXPECT_GT(checked, 24 * 6 * 40) << profile.key;
    EXPECT_EQ(v.rejected_counts().size(), 0u) << profile.key;
  }
}

}  // namespace
