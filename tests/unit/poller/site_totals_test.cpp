// Site totals: sums over controllers sharing one battery are made from fresh values of every
// member or not at all; the shared battery's SOC and voltage come from any fresh member.

#include "poller/site_totals.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

using namespace tracermon;
using namespace tracermon::poller;
using namespace tracermon::protocol;
using namespace std::chrono_literals;

namespace {

const RegisterMap& map() {
  return RegisterMap::builtin();
}

const core::SteadyTime k_now = core::SteadyTime{} + 24h;
const core::WallTime k_wall =
    core::WallTime{} + std::chrono::sys_days{std::chrono::year{2026} / 6 / 21}.time_since_epoch();
constexpr auto k_max_age = 30s;

struct Member {
  std::string name;
  std::chrono::seconds age = 5s;         // how long ago its fields were read
  std::map<std::string, double> values;  // field name -> value
};

model::SnapshotPtr snapshot(const Member& m) {
  auto s = std::make_shared<model::DeviceSnapshot>();
  s->device = m.name;
  s->site = "shed";
  s->time = k_wall - m.age;
  for (const auto& [name, value] : m.values) {
    model::FieldSample sample;
    sample.id = map().find(name)->id;
    sample.value = value;
    sample.read_at = k_now - m.age;
    sample.wall_time = k_wall - m.age;
    s->fields.push_back(sample);
  }
  std::sort(s->fields.begin(), s->fields.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return s;
}

std::map<std::string, double> full(double pv_power, double soc, double voltage) {
  return {{"pv_power", pv_power},
          {"battery_charging_power", pv_power * 0.95},
          {"load_power", 20},
          {"pv_current", pv_power / 60},
          {"battery_charging_current", pv_power * 0.95 / voltage},
          {"load_current", 20 / voltage},
          {"battery_current_net", (pv_power * 0.95 - 20) / voltage},
          {"battery_voltage", voltage},
          {"battery_soc", soc},
          {"generated_energy_today", 1.25},
          {"generated_energy_total", 1000},
          {"consumed_energy_today", 0.5},
          {"consumed_energy_total", 400}};
}

model::SiteTotals compute(const std::vector<model::SnapshotPtr>& members) {
  return compute_site_totals(map(), "shed", members, k_now, k_max_age);
}

std::optional<double> value(const model::SiteTotals& t, const std::string& key) {
  for (const auto& [name, v] : t.values) {
    if (name == key) return v;
  }
  return std::nullopt;
}

}  // namespace

TEST(ComputeSiteTotals, FreshMembersAreSummed) {
  auto totals = compute(
      {snapshot({"a", 5s, full(300, 80, 26.0)}), snapshot({"b", 10s, full(450, 81, 26.2)})});
  EXPECT_EQ(totals.site, "shed");
  EXPECT_EQ(totals.members, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(totals.complete);
  EXPECT_TRUE(totals.missing_members.empty());
  EXPECT_TRUE(totals.left_out.empty());
  EXPECT_EQ(totals.values.size(), model::site_fields().size());
  EXPECT_DOUBLE_EQ(*value(totals, "pv_power"), 750);
  EXPECT_DOUBLE_EQ(*value(totals, "battery_charging_power"), 750 * 0.95);
  EXPECT_DOUBLE_EQ(*value(totals, "load_power"), 40);
  EXPECT_DOUBLE_EQ(*value(totals, "pv_current"), 750.0 / 60);
  EXPECT_DOUBLE_EQ(*value(totals, "battery_voltage"), 26.1);  // mean
  EXPECT_DOUBLE_EQ(*value(totals, "battery_soc"), 80);        // the first member's
  EXPECT_DOUBLE_EQ(*value(totals, "generated_energy_today"), 2.5);
  EXPECT_DOUBLE_EQ(*value(totals, "generated_energy_total"), 2000);
  EXPECT_DOUBLE_EQ(*value(totals, "consumed_energy_today"), 1.0);
  EXPECT_DOUBLE_EQ(*value(totals, "consumed_energy_total"), 800);
  EXPECT_EQ(totals.time, k_wall - 5s);  // the newest sample used
}

namespace {
struct IncompleteCase {
  const char* what;
  std::vector<model::SnapshotPtr> members;
  std::vector<std::string> missing;
  std::vector<std::string> present;  // keys still computed
  std::vector<std::string> absent;   // keys left out
};

void PrintTo(const IncompleteCase& c, std::ostream* os) {
  *os << c.what;
}

std::map<std::string, double> without(std::map<std::string, double> values, const char* name) {
  values.erase(name);
  return values;
}

const std::vector<std::string> k_sums = {"pv_power",
                                         "battery_charging_power",
                                         "load_power",
                                         "pv_current",
                                         "battery_charging_current",
                                         "load_current",
                                         "battery_current_net",
                                         "generated_energy_today",
                                         "generated_energy_total",
                                         "consumed_energy_today",
                                         "consumed_energy_total"};

std::vector<IncompleteCase> incomplete_cases() {
  return {
      {"one member stale",
       {snapshot({"a", 5s, full(300, 80, 26)}), snapshot({"b", 31s, full(450, 81, 26)})},
       {"b"},
       {"battery_soc", "battery_voltage"},
       k_sums},
      {"first member stale: SOC from the second",
       {snapshot({"a", 120s, full(300, 80, 26)}), snapshot({"b", 5s, full(450, 81, 26)})},
       {"a"},
       {"battery_soc", "battery_voltage"},
       k_sums},
      {"one member lacks its load power",
       {snapshot({"a", 5s, full(300, 80, 26)}),
        snapshot({"b", 5s, without(full(450, 81, 26), "load_power")})},
       {"b"},
       {"pv_power", "battery_soc", "generated_energy_total"},
       {"load_power"}},
      {"a member never polled",
       {snapshot({"a", 5s, full(300, 80, 26)}), snapshot({"b", 5s, {}})},
       {"b"},
       {"battery_soc"},
       k_sums},
      {"a member without snapshot",
       {snapshot({"a", 5s, full(300, 80, 26)}), nullptr},
       {"#1"},
       {"battery_soc"},
       k_sums},
      {"every member stale",
       {snapshot({"a", 60s, full(300, 80, 26)}), snapshot({"b", 60s, full(450, 81, 26)})},
       {"a", "b"},
       {},
       {"pv_power", "battery_soc", "battery_voltage"}},
  };
}

class SiteTotalsIncomplete : public testing::TestWithParam<IncompleteCase> {};
}  // namespace

TEST_P(SiteTotalsIncomplete, LeavesOutWhatNeedsTheMissingMember) {
  const auto& c = GetParam();
  auto totals = compute(c.members);
  EXPECT_FALSE(totals.complete);
  EXPECT_EQ(totals.missing_members, c.missing);
  for (const auto& key : c.present)
    EXPECT_TRUE(value(totals, key)) << key;
  for (const auto& key : c.absent) {
    EXPECT_FALSE(value(totals, key)) << key << " summed from a part of the site";
    EXPECT_NE(std::find(totals.left_out.begin(), totals.left_out.end(), key), totals.left_out.end())
        << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, SiteTotalsIncomplete, testing::ValuesIn(incomplete_cases()));

TEST(ComputeSiteTotals, SumsAreHundredthsWithoutBinaryNoise) {
  // 100.06 + 600.01 is 700.0699999999999 in binary; every output shows and files 700.07.
  auto a = full(100.06, 80, 26.12);
  auto b = full(600.01, 81, 26.13);
  auto totals = compute({snapshot({"a", 5s, a}), snapshot({"b", 5s, b})});
  EXPECT_EQ(*value(totals, "pv_power"), 700.07);
}

TEST(ComputeSiteTotals, SampleExactlyMaxAgeOldIsStillFresh) {
  auto totals = compute({snapshot({"a", 30s, full(300, 80, 26)})});
  EXPECT_TRUE(totals.complete);
}

TEST(ComputeSiteTotals, EveryFieldHasTheUnitOfTheRegisterItSums) {
  for (const auto& f : model::site_fields()) {
    const auto* source = map().find(f.name);
    ASSERT_NE(source, nullptr) << f.name;
    auto unit = source->unit == "degC" ? "°C" : source->unit;
    EXPECT_EQ(model::site_field_unit(f.name), std::optional<std::string_view>(unit)) << f.name;
    EXPECT_FALSE(f.description.empty()) << f.name;
  }
  EXPECT_EQ(model::site_field_unit("pv_power"), std::optional<std::string_view>("W"));
  EXPECT_EQ(model::site_field_unit("generated_energy_total"),
            std::optional<std::string_view>("kWh"));
  EXPECT_EQ(model::site_field_unit("no_such_field"), std::nullopt);
}
