#include "format/influx_lines.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "snapshot_builder.hpp"

namespace tracermon::format {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::Pair;
using tracermon::test::map;
using tracermon::test::sample;
using tracermon::test::snapshot;

// One parsed line: escapes resolved, field values as written (1.5, 3i, true, "text").
struct Line {
  std::string measurement;
  std::vector<std::pair<std::string, std::string>> tags;
  std::map<std::string, std::string> fields;
  std::string time;
};

// A small reader of the line-protocol grammar, independent of the writer: a backslash takes
// the next character literally; a string value runs between unescaped double quotes.
std::optional<Line> parse_line(const std::string& text) {
  Line line;
  std::size_t i = 0;
  auto token = [&](const std::string& stops) {
    std::string out;
    while (i < text.size() && stops.find(text[i]) == std::string::npos) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      out += text[i++];
    }
    return out;
  };
  line.measurement = token(", ");
  while (i < text.size() && text[i] == ',') {
    ++i;
    auto key = token("=");
    if (i >= text.size()) return std::nullopt;
    ++i;
    line.tags.emplace_back(key, token(", "));
  }
  if (i >= text.size() || text[i] != ' ') return std::nullopt;
  ++i;
  while (i < text.size()) {
    auto key = token("=");
    if (i >= text.size()) return std::nullopt;
    ++i;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      value += text[i++];
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i++];
      }
      if (i >= text.size()) return std::nullopt;
      value += text[i++];
    } else {
      value = token(", ");
    }
    if (!line.fields.emplace(key, value).second) return std::nullopt;  // duplicate key
    if (i < text.size() && text[i] == ',') {
      ++i;
    } else {
      break;
    }
  }
  if (i >= text.size() || text[i] != ' ') return std::nullopt;
  line.time = text.substr(i + 1);
  return line;
}

// Splits text made of '\n'-terminated lines; fails the test on a missing terminator.
std::vector<Line> parse_lines(const std::string& text) {
  std::vector<Line> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    EXPECT_NE(end, std::string::npos) << "unterminated line in: " << text;
    if (end == std::string::npos) break;
    auto line = parse_line(text.substr(start, end - start));
    EXPECT_TRUE(line.has_value()) << "unparsable: " << text.substr(start, end - start);
    if (line) lines.push_back(*line);
    start = end + 1;
  }
  return lines;
}

const Line* find_measurement(const std::vector<Line>& lines, const std::string& name) {
  for (const auto& line : lines) {
    if (line.measurement == name) return &line;
  }
  return nullptr;
}

std::vector<std::string> measurements(const std::vector<Line>& lines) {
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (const auto& line : lines)
    out.push_back(line.measurement);
  return out;
}

// 2023-11-14T22:13:20.123456789Z
constexpr core::WallTime k_time{std::chrono::duration_cast<core::WallTime::duration>(
    std::chrono::nanoseconds(1'700'000'000'123'456'789))};

model::DeviceSnapshot full_snapshot() {
  auto s = snapshot("east", 3,
                    {
                        sample("pv_rated_voltage", 15000),               // rated
                        sample("charging_mode", 2),                      // rated, enum
                        sample("pv_voltage", 1380),                      // realtime
                        sample("pv_power", 12000),                       // u32, whole
                        sample("battery_temperature", -512),             // s16
                        sample("battery_soc", 85),                       // scale 1
                        sample("battery_status", 0),                     // status
                        sample("charging_equipment_status", 0x4005),     // no input, float, run
                        sample("discharging_equipment_status", 0x1001),  // moderate, running
                        sample("generated_energy_today", 123),           // statistics
                        sample("battery_current_net", -250),             // s32
                        sample("battery_type", 1),                       // settings, enum
                        sample("battery_capacity", 200),                 // settings, u16
                        sample("load_timer1_working_length", 0x0A1E),    // settings, packed
                        sample("rtc_minute_second", 0x0102),             // clock word
                        sample("manual_load_control", 1),                // coil
                        sample("day_night", 1),                          // discrete
                        sample("over_temperature_inside_device", 0),     // discrete
                    });
  s.time = k_time;
  s.site = "roof";
  return s;
}

TEST(InfluxPrecision, ParsesAndPrintsTheApiSpellings) {
  EXPECT_EQ(parse_influx_precision("s"), InfluxPrecision::Seconds);
  EXPECT_EQ(parse_influx_precision("ms"), InfluxPrecision::Milliseconds);
  EXPECT_EQ(parse_influx_precision("us"), InfluxPrecision::Microseconds);
  EXPECT_EQ(parse_influx_precision("ns"), InfluxPrecision::Nanoseconds);
  EXPECT_EQ(parse_influx_precision("h"), std::nullopt);
  EXPECT_EQ(parse_influx_precision("NS"), std::nullopt);
  for (auto p : {InfluxPrecision::Seconds, InfluxPrecision::Milliseconds,
                 InfluxPrecision::Microseconds, InfluxPrecision::Nanoseconds}) {
    EXPECT_EQ(parse_influx_precision(to_string(p)), p);
  }
}

TEST(InfluxDeviceLines, OneLinePerGroupWithoutClockAndCoils) {
  auto lines =
      parse_lines(device_lines(map(), full_snapshot(), "tracer", InfluxPrecision::Nanoseconds));
  EXPECT_THAT(measurements(lines), ::testing::UnorderedElementsAre(
                                       "tracer_rated", "tracer_realtime", "tracer_status",
                                       "tracer_statistics", "tracer_settings", "tracer_discrete"));
  for (const auto& line : lines) {
    EXPECT_THAT(line.tags, ElementsAre(Pair("bus", "bus1"), Pair("device", "east"),
                                       Pair("device_id", "3"), Pair("site", "roof")))
        << line.measurement;
    EXPECT_EQ(line.time, "1700000000123456789") << line.measurement;
    EXPECT_EQ(line.fields.count("rtc_minute_second"), 0U);
    EXPECT_EQ(line.fields.count("manual_load_control"), 0U);
  }
}

TEST(InfluxDeviceLines, NumbersAreFloatsEvenWhenWhole) {
  auto lines =
      parse_lines(device_lines(map(), full_snapshot(), "tracer", InfluxPrecision::Nanoseconds));
  const auto* realtime = find_measurement(lines, "tracer_realtime");
  ASSERT_NE(realtime, nullptr);
  EXPECT_THAT(realtime->fields,
              ::testing::UnorderedElementsAre(Pair("pv_voltage", "13.8"), Pair("pv_power", "120"),
                                              Pair("battery_temperature", "-5.12"),
                                              Pair("battery_soc", "85")));
  const auto* statistics = find_measurement(lines, "tracer_statistics");
  ASSERT_NE(statistics, nullptr);
  EXPECT_THAT(statistics->fields,
              ::testing::UnorderedElementsAre(Pair("generated_energy_today", "1.23"),
                                              Pair("battery_current_net", "-2.5")));
  const auto* rated = find_measurement(lines, "tracer_rated");
  ASSERT_NE(rated, nullptr);
  EXPECT_THAT(rated->fields, ::testing::UnorderedElementsAre(Pair("pv_rated_voltage", "150"),
                                                             Pair("charging_mode", "2i")));
}

TEST(InfluxDeviceLines, SettingsEnumsAndPackedWordsAreIntegers) {
  auto lines =
      parse_lines(device_lines(map(), full_snapshot(), "tracer", InfluxPrecision::Nanoseconds));
  const auto* settings = find_measurement(lines, "tracer_settings");
  ASSERT_NE(settings, nullptr);
  EXPECT_THAT(settings->fields, ::testing::UnorderedElementsAre(
                                    Pair("battery_type", "1i"), Pair("battery_capacity", "200"),
                                    Pair("load_timer1_working_length", "2590i")));
}

TEST(InfluxDeviceLines, DiscreteInputsAreBooleans) {
  auto lines =
      parse_lines(device_lines(map(), full_snapshot(), "tracer", InfluxPrecision::Nanoseconds));
  const auto* discrete = find_measurement(lines, "tracer_discrete");
  ASSERT_NE(discrete, nullptr);
  EXPECT_THAT(discrete->fields,
              ::testing::UnorderedElementsAre(Pair("day_night", "true"),
                                              Pair("over_temperature_inside_device", "false")));
}

TEST(InfluxDeviceLines, StatusWordsAreRawFlagsAndStates) {
  auto lines =
      parse_lines(device_lines(map(), full_snapshot(), "tracer", InfluxPrecision::Nanoseconds));
  const auto* status = find_measurement(lines, "tracer_status");
  ASSERT_NE(status, nullptr);
  const auto& f = status->fields;
  EXPECT_EQ(f.at("battery_status"), "0i");
  EXPECT_EQ(f.at("charging_equipment_status"), "16389i");  // 0x4005
  EXPECT_EQ(f.at("discharging_equipment_status"), "4097i");
  EXPECT_EQ(f.at("battery_wrong_rated_voltage"), "false");
  EXPECT_EQ(f.at("battery_internal_resistance_abnormal"), "false");
  EXPECT_EQ(f.at("battery_voltage_state"), "\"normal\"");
  EXPECT_EQ(f.at("battery_temperature_state"), "\"normal\"");
  EXPECT_EQ(f.at("charging_phase"), "\"float\"");
  EXPECT_EQ(f.at("charging_equipment_running"), "true");
  EXPECT_EQ(f.at("charging_equipment_fault"), "false");
  EXPECT_EQ(f.at("charging_equipment_pv_input_short"), "false");
  EXPECT_EQ(f.at("discharging_equipment_running"), "true");
  EXPECT_EQ(f.at("discharging_equipment_output_power_state"), "\"moderate load\"");
  // Both equipment words have an input-voltage state: each keeps its own field, and no state
  // takes a register's name (battery_voltage).
  EXPECT_EQ(f.at("charging_equipment_input_voltage_state"), "\"no input power connected\"");
  EXPECT_EQ(f.at("discharging_equipment_input_voltage_state"), "\"input voltage normal\"");
  EXPECT_EQ(f.count("input_voltage"), 0U);
  EXPECT_EQ(f.count("battery_voltage"), 0U);
}

TEST(InfluxDeviceLines, MissingValuesAreAbsentAndEmptyGroupsHaveNoLine) {
  auto s = snapshot("east", 3, {sample("pv_voltage", 1380)});
  s.time = k_time;
  s.missing.push_back(
      {tracermon::test::id_of("pv_current"), model::Missing::ReadFailed, "timeout"});
  auto text = device_lines(map(), s, "tracer", InfluxPrecision::Seconds);
  EXPECT_EQ(text, "tracer_realtime,bus=bus1,device=east,device_id=3 pv_voltage=13.8 1700000000\n");

  auto nothing = snapshot("east", 3, {sample("rtc_minute_second", 5)});
  EXPECT_EQ(device_lines(map(), nothing, "tracer", InfluxPrecision::Seconds), "");
  EXPECT_EQ(device_lines(map(), snapshot("east", 3, {}), "tracer", InfluxPrecision::Seconds), "");
}

TEST(InfluxDeviceLines, NonFiniteValuesAreLeftOut) {
  auto nan = sample("pv_voltage", 0);
  nan.value = std::numeric_limits<double>::quiet_NaN();
  auto inf = sample("pv_current", 0);
  inf.value = std::numeric_limits<double>::infinity();
  auto s = snapshot("east", 3, {nan, inf, sample("battery_soc", 50)});
  auto text = device_lines(map(), s, "tracer", InfluxPrecision::Seconds);
  EXPECT_EQ(text.find("nan"), std::string::npos);
  EXPECT_EQ(text.find("inf"), std::string::npos);
  EXPECT_EQ(text, "tracer_realtime,bus=bus1,device=east,device_id=3 battery_soc=50 0\n");

  auto only_nan = snapshot("east", 3, {nan});
  EXPECT_EQ(device_lines(map(), only_nan, "tracer", InfluxPrecision::Seconds), "");
}

TEST(InfluxDeviceLines, EscapesNamesPerLineProtocol) {
  auto s = snapshot("pump house, east=1", 7, {sample("pv_voltage", 1380)});
  s.bus = "bus 1";
  s.site = "farm,north";
  auto text = device_lines(map(), s, "my tracer,x", InfluxPrecision::Seconds);
  EXPECT_EQ(text,
            "my\\ tracer\\,x_realtime,bus=bus\\ 1,device=pump\\ house\\,\\ east\\=1,"
            "device_id=7,site=farm\\,north pv_voltage=13.8 0\n");
  auto lines = parse_lines(text);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].measurement, "my tracer,x_realtime");
  EXPECT_THAT(lines[0].tags, ElementsAre(Pair("bus", "bus 1"), Pair("device", "pump house, east=1"),
                                         Pair("device_id", "7"), Pair("site", "farm,north")));
}

TEST(InfluxDeviceLines, TimestampIsFlooredToThePrecision) {
  auto s = snapshot("east", 3, {sample("pv_voltage", 1380)});
  s.time = k_time;
  auto time_of = [&](InfluxPrecision precision) {
    auto lines = parse_lines(device_lines(map(), s, "tracer", precision));
    return lines.empty() ? std::string() : lines[0].time;
  };
  EXPECT_EQ(time_of(InfluxPrecision::Seconds), "1700000000");
  EXPECT_EQ(time_of(InfluxPrecision::Milliseconds), "1700000000123");
  EXPECT_EQ(time_of(InfluxPrecision::Microseconds), "1700000000123456");
  EXPECT_EQ(time_of(InfluxPrecision::Nanoseconds), "1700000000123456789");
}

TEST(InfluxDeviceLines, PrefixNamesTheMeasurements) {
  auto s = snapshot("east", 3, {sample("pv_voltage", 1380)});
  auto lines = parse_lines(device_lines(map(), s, "epever", InfluxPrecision::Seconds));
  EXPECT_THAT(measurements(lines), ElementsAre("epever_realtime"));
}

TEST(InfluxSiteLines, EveryComputedFieldAsFloatTaggedBySite) {
  model::SiteTotals totals;
  totals.site = "roof top";
  totals.time = k_time;
  totals.values = {{"pv_power", 200.0}, {"battery_soc", 85.0}, {"battery_voltage", 13.25}};
  EXPECT_EQ(site_lines(totals, "tracer", InfluxPrecision::Milliseconds),
            "tracer_site,site=roof\\ top pv_power=200,battery_soc=85,battery_voltage=13.25 "
            "1700000000123\n");

  totals.values.clear();
  EXPECT_EQ(site_lines(totals, "tracer", InfluxPrecision::Milliseconds), "");
}

TEST(InfluxCommLines, CountersAreIntegersLatencyFloatsHealthText) {
  model::DeviceStatus status;
  status.name = "east";
  status.health = model::Health::Degraded;
  auto& c = status.counters;
  c.requests = 120;
  c.replies = 110;
  c.timeouts = 7;
  c.crc_errors = 2;
  c.bad_replies = 1;
  c.wrong_unit = 0;
  c.echoes = 3;
  c.noise_bytes = 11;
  c.late_replies = 12;
  c.other_master = 13;
  c.retries = 9;
  c.link_errors = 4;
  c.rejected_values = 5;
  c.counter_resets = 6;
  c.latency_ms_mean = 42.5;
  c.latency_ms_max = 180;
  auto cycle = snapshot("east", 3, {});
  cycle.time = k_time;
  cycle.site = "roof";
  auto lines = parse_lines(comm_lines(status, cycle, "tracer", InfluxPrecision::Seconds));
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].measurement, "tracer_comm");
  EXPECT_THAT(lines[0].tags, ElementsAre(Pair("bus", "bus1"), Pair("device", "east"),
                                         Pair("device_id", "3"), Pair("site", "roof")));
  EXPECT_EQ(lines[0].time, "1700000000");
  EXPECT_THAT(lines[0].fields,
              ::testing::UnorderedElementsAre(
                  Pair("requests", "120i"), Pair("replies", "110i"), Pair("timeouts", "7i"),
                  Pair("crc_errors", "2i"), Pair("bad_replies", "1i"), Pair("wrong_unit", "0i"),
                  Pair("echoes", "3i"), Pair("noise_bytes", "11i"), Pair("late_replies", "12i"),
                  Pair("other_master", "13i"), Pair("retries", "9i"), Pair("link_errors", "4i"),
                  Pair("rejected_values", "5i"), Pair("counter_resets", "6i"),
                  Pair("latency_ms_mean", "42.5"), Pair("latency_ms_max", "180"),
                  Pair("health", "\"degraded\"")));
}

// Legacy: two controllers on one battery, read at steady times near `now`.
class InfluxLegacyLine : public ::testing::Test {
 protected:
  const core::SteadyTime now = core::SteadyTime{} + 1'000'000s;
  const std::chrono::milliseconds max_age = 60s;

  static model::SnapshotPtr member(std::string name, core::SteadyTime at, bool with_power = true) {
    std::vector<model::FieldSample> fields = {
        sample("pv_voltage", 3520, at),
        sample("pv_current", 340, at),
        sample("battery_voltage", 1330, at),
        sample("battery_charging_current", 900, at),
        sample("battery_soc", 85, at),
        sample("load_voltage", 1320, at),
        sample("load_current", 150, at),
        sample("load_power", 1980, at),
        sample("generated_energy_total", 123456, at),
        sample("consumed_energy_total", 5000, at),
        sample("generated_energy_today", 250, at),
        sample("consumed_energy_today", 40, at),
    };
    if (with_power) fields.push_back(sample("pv_power", 12000, at));
    return std::make_shared<model::DeviceSnapshot>(snapshot(std::move(name), 1, std::move(fields)));
  }

  std::optional<Line> legacy(const std::vector<model::SnapshotPtr>& members) const {
    auto text = legacy_line(map(), members, now, max_age, "solar", InfluxPrecision::Nanoseconds);
    if (text.empty()) return std::nullopt;
    auto lines = parse_lines(text);
    EXPECT_EQ(lines.size(), 1U);
    if (lines.empty()) return std::nullopt;
    return lines[0];
  }
};

TEST_F(InfluxLegacyLine, FirstDeviceValuesAndSumsWithSocAsFraction) {
  auto line = legacy({member("a", now - 2s), member("b", now - 1s)});
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->measurement, "solar");
  EXPECT_TRUE(line->tags.empty());
  EXPECT_THAT(line->fields,
              ::testing::UnorderedElementsAre(
                  Pair("PVvolt", "35.2"), Pair("PVamps", "3.4"), Pair("BAvolt", "13.3"),
                  Pair("BAamps", "9"), Pair("BAperc", "0.85"), Pair("DCvolt", "13.2"),
                  Pair("DCamps", "1.5"), Pair("PVwatt", "240"), Pair("DCwatt", "39.6"),
                  Pair("PVkwh", "2469.12"), Pair("DCkwh", "100"), Pair("PVkwh2d", "5"),
                  Pair("DCkwh2d", "0.8")));
  // The newest sample used: b's, read 1 s before now (the builder maps steady onto wall time).
  auto newest = std::chrono::duration_cast<std::chrono::nanoseconds>((now - 1s).time_since_epoch());
  EXPECT_EQ(line->time, std::to_string(newest.count()));
}

TEST_F(InfluxLegacyLine, SumsAreExactHundredthsWithoutBinaryNoise) {
  // 0.10 W + 0.20 W as doubles is 0.30000000000000004; the old point gets 0.3.
  auto a = std::make_shared<model::DeviceSnapshot>(
      snapshot("a", 1, {sample("load_power", 10, now), sample("pv_voltage", 3520, now)}));
  auto b =
      std::make_shared<model::DeviceSnapshot>(snapshot("b", 2, {sample("load_power", 20, now)}));
  auto line = legacy({a, b});
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->fields.at("DCwatt"), "0.3");
}

TEST_F(InfluxLegacyLine, StaleMemberLeavesItsSumsOut) {
  auto line = legacy({member("a", now - 2s), member("b", now - 120s)});
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(line->fields, ::testing::UnorderedElementsAre(
                                Pair("PVvolt", "35.2"), Pair("PVamps", "3.4"),
                                Pair("BAvolt", "13.3"), Pair("BAamps", "9"), Pair("BAperc", "0.85"),
                                Pair("DCvolt", "13.2"), Pair("DCamps", "1.5")));
  auto newest = std::chrono::duration_cast<std::chrono::nanoseconds>((now - 2s).time_since_epoch());
  EXPECT_EQ(line->time, std::to_string(newest.count()));
}

TEST_F(InfluxLegacyLine, ASumNeedsTheValueFromEveryMember) {
  auto line = legacy({member("a", now - 2s), member("b", now - 1s, false), nullptr});
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->fields.count("PVwatt"), 0U);
  EXPECT_EQ(line->fields.count("DCwatt"), 0U);  // the null member has nothing
  EXPECT_EQ(line->fields.at("PVvolt"), "35.2");

  auto two = legacy({member("a", now - 2s), member("b", now - 1s, false)});
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->fields.count("PVwatt"), 0U);
  EXPECT_EQ(two->fields.at("DCwatt"), "39.6");
}

TEST_F(InfluxLegacyLine, NoFreshFieldMeansNoPoint) {
  EXPECT_FALSE(legacy({member("a", now - 120s)}).has_value());
  EXPECT_FALSE(legacy({}).has_value());
  EXPECT_FALSE(legacy({nullptr}).has_value());
  // The first member stale, the second fresh: sums need both, first-device values need the first.
  EXPECT_FALSE(legacy({member("a", now - 120s), member("b", now - 1s)}).has_value());
}

}  // namespace
}  // namespace tracermon::format
