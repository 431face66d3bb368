#include "format/mqtt_messages.hpp"

#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "format/ha_discovery.hpp"
#include "snapshot_builder.hpp"

namespace tracermon::format {
namespace {

using nlohmann::json;
using tracermon::test::id_of;
using tracermon::test::map;
using tracermon::test::sample;
using tracermon::test::snapshot;
using namespace std::chrono_literals;

constexpr model::PollIntervals k_intervals{5s, 60s, 3600s, 8};
// A steady time far from zero, so that "older than three intervals" is representable.
constexpr core::SteadyTime k_now = core::SteadyTime{} + 24h;

// Every fast and slow field a Tracer answers, read at `read_at`, raw value 1 (valid for all).
model::DeviceSnapshot full_snapshot(core::SteadyTime read_at) {
  std::vector<model::FieldSample> fields;
  for (const auto& field : map().fields()) {
    if (has_entity(field)) fields.push_back(sample(field.name, 1, read_at));
  }
  auto s = snapshot("east", 1, std::move(fields));
  s.time = core::WallTime{} + (read_at - core::SteadyTime{});
  return s;
}

json state_of(const model::DeviceSnapshot& s) {
  return json::parse(device_state_message(map(), s, k_intervals, k_now));
}

TEST(MqttState, EveryDiscoveredEntityFindsItsKeyInTheState) {
  auto s = full_snapshot(k_now);
  auto state = state_of(s);
  model::DeviceStatus status;
  status.name = "east";
  auto discovery = device_discovery(map(), status, entity_fields(map(), s), {});
  ASSERT_FALSE(discovery.empty());
  const std::regex key(R"(value_json\.([a-z0-9_]+))");
  for (const auto& message : discovery) {
    auto payload = json::parse(message.payload);
    std::smatch m;
    auto tmpl = payload.at("value_template").get<std::string>();
    ASSERT_TRUE(std::regex_search(tmpl, m, key)) << message.topic;
    EXPECT_TRUE(state.contains(m[1].str())) << m[1].str();
    EXPECT_EQ(payload.at("state_topic"), "tracermon/east/state");
  }
}

TEST(MqttState, NumbersAreScaledValuesByRegisterName) {
  auto s = snapshot("east", 1,
                    {sample("pv_voltage", 1852, k_now), sample("battery_soc", 87, k_now),
                     sample("generated_energy_total", 123456, k_now)});
  auto state = state_of(s);
  EXPECT_DOUBLE_EQ(state.at("pv_voltage").get<double>(), 18.52);
  EXPECT_DOUBLE_EQ(state.at("battery_soc").get<double>(), 87.0);
  EXPECT_DOUBLE_EQ(state.at("generated_energy_total").get<double>(), 1234.56);
  EXPECT_EQ(state.at("device"), "east");
}

TEST(MqttState, StaleValuesAreNullNeverAnOldNumber) {
  // Fast fields go stale after three fast intervals (15 s), slow ones after three slow (3 min).
  auto s = snapshot(
      "east", 1,
      {sample("pv_voltage", 1852, k_now - 16s), sample("battery_voltage", 1380, k_now - 14s),
       sample("generated_energy_total", 100, k_now - 170s),
       sample("consumed_energy_total", 100, k_now - 190s)});
  auto state = state_of(s);
  EXPECT_TRUE(state.at("pv_voltage").is_null());
  EXPECT_DOUBLE_EQ(state.at("battery_voltage").get<double>(), 13.8);
  EXPECT_DOUBLE_EQ(state.at("generated_energy_total").get<double>(), 1.0);
  EXPECT_TRUE(state.at("consumed_energy_total").is_null());
  // Fields the device never answered have no key (and no entity).
  EXPECT_FALSE(state.contains("load_power"));
}

TEST(MqttState, TimeIsTheNewestFreshRead) {
  auto s = snapshot(
      "east", 1,
      {sample("pv_voltage", 1852, k_now - 16s), sample("battery_voltage", 1380, k_now - 2s)});
  auto state = state_of(s);
  auto expected_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>((k_now - 2s) - core::SteadyTime{})
          .count();
  EXPECT_EQ(state.at("time_ms").get<std::int64_t>(), expected_ms);
  EXPECT_EQ(state.at("time"), "1970-01-01T23:59:58.000Z");
}

TEST(MqttState, StatusWordsBecomeTextStatesAndBooleanFlags) {
  // 0x3201: D3-D2 = 10 (boost), D1 fault, D0 running.
  auto s = snapshot(
      "east", 1,
      {sample("charging_equipment_status", 0b1011, k_now), sample("battery_status", 0, k_now)});
  auto state = state_of(s);
  EXPECT_EQ(state.at("charging_phase"), "boost");
  EXPECT_EQ(state.at("charging_equipment_fault"), true);
  EXPECT_EQ(state.at("charging_equipment_running"), true);
  EXPECT_EQ(state.at("charging_equipment_pv_input_short"), false);
  EXPECT_EQ(state.at("battery_voltage_state"), "normal");
  // A state never collides with a register of the same words: battery_voltage stays unread.
  EXPECT_FALSE(state.contains("battery_voltage"));
}

TEST(MqttState, StaleStatusWordMakesEveryFlagNull) {
  auto s = snapshot("east", 1, {sample("charging_equipment_status", 0b1011, k_now - 1h)});
  auto state = state_of(s);
  EXPECT_TRUE(state.at("charging_phase").is_null());
  EXPECT_TRUE(state.at("charging_equipment_fault").is_null());
}

TEST(MqttState, DiscreteInputsAreBooleans) {
  auto s =
      snapshot("east", 1,
               {sample("day_night", 1, k_now), sample("over_temperature_inside_device", 0, k_now)});
  auto state = state_of(s);
  EXPECT_EQ(state.at("day_night"), true);
  EXPECT_EQ(state.at("over_temperature_inside_device"), false);
}

TEST(MqttState, RatedDataAndSettingsStayOut) {
  auto s = snapshot("east", 1,
                    {sample("pv_rated_voltage", 10000, k_now), sample("pv_voltage", 1852, k_now)});
  auto state = state_of(s);
  EXPECT_FALSE(state.contains("pv_rated_voltage"));
  EXPECT_EQ(entity_fields(map(), s), std::vector<protocol::FieldId>{id_of("pv_voltage")});
}

TEST(MqttState, SiteHasEveryKeyWithNullForWhatWasLeftOut) {
  model::SiteTotals totals;
  totals.site = "cabin";
  totals.missing_members = {"west"};
  totals.time = core::WallTime{} + 1000s;
  totals.values = {{"battery_voltage", 26.4}, {"battery_soc", 80}, {"pv_power", 707.09}};
  auto state = json::parse(site_state_message(totals));
  for (const auto& field : model::site_fields())
    EXPECT_TRUE(state.contains(std::string(field.name))) << field.name;
  EXPECT_DOUBLE_EQ(state.at("pv_power").get<double>(), 707.09);
  EXPECT_TRUE(state.at("load_power").is_null());
  EXPECT_EQ(state.at("complete"), false);
  EXPECT_EQ(state.at("missing_members"), json::array({"west"}));
  EXPECT_EQ(state.at("time_ms"), 1000000);
}

}  // namespace
}  // namespace tracermon::format
