#include "format/ha_discovery.hpp"

#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/site_totals.hpp"
#include "protocol/decode.hpp"

namespace tracermon::format {
namespace {

using nlohmann::json;
using protocol::PollClass;
using protocol::RegisterMap;

const RegisterMap& map() {
  return RegisterMap::builtin();
}

std::vector<protocol::FieldId> every_field() {
  std::vector<protocol::FieldId> ids;
  for (const auto& field : map().fields())
    ids.push_back(field.id);
  return ids;
}

protocol::FieldId id_of(std::string_view name) {
  const auto* field = map().find(name);
  if (field == nullptr) throw std::invalid_argument("no field " + std::string(name));
  return field->id;
}

model::DeviceStatus device(std::string name) {
  model::DeviceStatus status;
  status.name = std::move(name);
  status.model = "Tracer4215BN";
  status.identity = {"EPsolar Tech co., Ltd", "Tracer4215BN", "V02.13+V07.24", "1234567"};
  return status;
}

// A discovery message with its payload parsed.
struct Parsed {
  std::string topic;
  std::vector<std::string> levels;
  json payload;

  [[nodiscard]] std::string component() const { return levels.at(1); }
  [[nodiscard]] std::string object_id() const { return levels.at(3); }
};

std::vector<std::string> split_topic(const std::string& topic) {
  std::vector<std::string> levels;
  std::size_t start = 0;
  while (true) {
    auto end = topic.find('/', start);
    levels.push_back(topic.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return levels;
}

std::vector<Parsed> parse(const std::vector<DiscoveryMessage>& messages) {
  std::vector<Parsed> out;
  for (const auto& m : messages)
    out.push_back({m.topic, split_topic(m.topic), json::parse(m.payload)});
  return out;
}

std::vector<Parsed> full_device(const DiscoveryOptions& options = {}) {
  return parse(device_discovery(map(), device("east"), every_field(), options));
}

const Parsed* find_entity(const std::vector<Parsed>& entities, std::string_view object_id) {
  for (const auto& e : entities) {
    if (e.object_id() == object_id) return &e;
  }
  return nullptr;
}

// Home Assistant's sensor device classes this project may use, with the units it accepts for
// each (developers.home-assistant.io, "Sensor entity": device classes and their units).
const std::map<std::string, std::set<std::string>>& sensor_classes() {
  static const std::map<std::string, std::set<std::string>> k_classes = {
      {"voltage", {"V", "mV", "µV", "kV", "MV"}},
      {"current", {"A", "mA"}},
      {"power", {"mW", "W", "kW", "MW", "GW", "TW"}},
      {"energy",
       {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal",
        "Gcal"}},
      {"temperature", {"°C", "°F", "K"}},
      {"battery", {"%"}},
  };
  return k_classes;
}

TEST(HaDiscovery, EveryPayloadHasTheKeysHomeAssistantNeeds) {
  auto all = full_device();
  auto site = parse(site_discovery("garage", {"east", "west"}, {}));
  all.insert(all.end(), site.begin(), site.end());
  ASSERT_FALSE(all.empty());
  for (const auto& e : all) {
    SCOPED_TRACE(e.topic);
    const auto& p = e.payload;
    for (const char* key : {"name", "unique_id", "default_entity_id", "state_topic",
                            "value_template", "availability", "device"}) {
      EXPECT_TRUE(p.contains(key)) << key;
    }
    EXPECT_EQ(p.at("default_entity_id"),
              e.component() + "." + p.at("unique_id").get<std::string>());  // already a slug
    ASSERT_TRUE(p.at("device").at("identifiers").is_array());
    EXPECT_FALSE(p.at("device").at("identifiers").empty());
    EXPECT_TRUE(p.at("device").contains("name"));
    EXPECT_FALSE(p.contains("expire_after"));  // off by default
  }
}

TEST(HaDiscovery, UniqueIdsAndTopicsAreUniqueAcrossDevicesAndSites) {
  std::vector<DiscoveryMessage> messages;
  for (const auto* name : {"east", "west"}) {
    auto m = device_discovery(map(), device(name), every_field(), {});
    messages.insert(messages.end(), m.begin(), m.end());
  }
  auto site = site_discovery("garage", {"east", "west"}, {});
  messages.insert(messages.end(), site.begin(), site.end());

  std::set<std::string> ids;
  std::set<std::string> topics;
  for (const auto& e : parse(messages)) {
    EXPECT_TRUE(ids.insert(e.payload.at("unique_id").get<std::string>()).second)
        << "duplicate unique_id " << e.payload.at("unique_id");
    EXPECT_TRUE(topics.insert(e.topic).second) << "duplicate topic " << e.topic;
  }
}

TEST(HaDiscovery, UniqueIdsStayTheSameWhateverTheDisplayDataSays) {
  auto plain = device("east");
  auto other = device("east");
  other.model = "Tracer2210AN";
  other.identity = {};
  auto a = parse(device_discovery(map(), plain, every_field(), {}));
  auto b = parse(device_discovery(map(), other, every_field(), {}));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].payload.at("unique_id"), b[i].payload.at("unique_id"));
    EXPECT_EQ(a[i].topic, b[i].topic);
  }
}

TEST(HaDiscovery, DeviceClassesAndUnitsAreOnesHomeAssistantAccepts) {
  auto all = full_device();
  auto site = parse(site_discovery("garage", {"east"}, {}));
  all.insert(all.end(), site.begin(), site.end());
  const std::set<std::string> state_classes = {"measurement", "total", "total_increasing"};
  for (const auto& e : all) {
    if (e.component() != "sensor") continue;
    SCOPED_TRACE(e.topic);
    const auto& p = e.payload;
    if (p.contains("state_class")) {
      EXPECT_TRUE(state_classes.contains(p.at("state_class").get<std::string>()));
    }
    if (!p.contains("device_class")) continue;
    auto cls = p.at("device_class").get<std::string>();
    auto known = sensor_classes().find(cls);
    ASSERT_NE(known, sensor_classes().end()) << "device_class " << cls;
    ASSERT_TRUE(p.contains("unit_of_measurement"));
    EXPECT_TRUE(known->second.contains(p.at("unit_of_measurement").get<std::string>()))
        << p.at("unit_of_measurement") << " for " << cls;
    // Home Assistant refuses an energy sensor measured like a power.
    if (cls == "energy") {
      EXPECT_NE(p.at("state_class"), "measurement");
    }
  }
}

TEST(HaDiscovery, PhysicalUnitsGetTheirDeviceClass) {
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"V", {"voltage", "V"}},    {"A", {"current", "A"}},         {"W", {"power", "W"}},
      {"kWh", {"energy", "kWh"}}, {"degC", {"temperature", "°C"}},
  };
  auto entities = full_device();
  int checked = 0;
  for (const auto& field : map().fields()) {
    if (field.poll != PollClass::Fast && field.poll != PollClass::Slow) continue;
    auto want = expected.find(field.unit);
    if (want == expected.end()) continue;
    SCOPED_TRACE(field.name);
    const auto* e = find_entity(entities, field.name);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->payload.at("device_class"), want->second.first);
    EXPECT_EQ(e->payload.at("unit_of_measurement"), want->second.second);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(HaDiscovery, StateOfChargeIsABatterySensor) {
  auto entities = parse(device_discovery(map(), device("east"), {id_of("battery_soc")}, {}));
  ASSERT_EQ(entities.size(), 1U);
  EXPECT_EQ(entities[0].payload.at("device_class"), "battery");
  EXPECT_EQ(entities[0].payload.at("unit_of_measurement"), "%");
  EXPECT_EQ(entities[0].payload.at("state_class"), "measurement");
}

TEST(HaDiscovery, EveryEnergyCounterIsTotalIncreasing) {
  auto entities = full_device();
  auto site = parse(site_discovery("garage", {"east"}, {}));
  entities.insert(entities.end(), site.begin(), site.end());
  int energy = 0;
  for (const auto& e : entities) {
    if (e.payload.value("unit_of_measurement", "") != "kWh") continue;
    SCOPED_TRACE(e.topic);
    EXPECT_EQ(e.payload.at("device_class"), "energy");
    EXPECT_EQ(e.payload.at("state_class"), "total_increasing");
    ++energy;
  }
  int expected = 0;
  for (const auto& field : map().fields()) {
    bool polled = field.poll == PollClass::Fast || field.poll == PollClass::Slow;
    if (polled && field.unit == "kWh") ++expected;
  }
  for (const auto& field : model::site_fields()) {
    if (field.unit == "kWh") ++expected;
  }
  EXPECT_EQ(energy, expected);
  EXPECT_GT(energy, 0);
}

TEST(HaDiscovery, FaultFlagsAreProblemBinarySensors) {
  auto entities = full_device();
  int problems = 0;
  for (const auto* status_field :
       {"battery_status", "charging_equipment_status", "discharging_equipment_status"}) {
    const auto& field = *map().find(status_field);
    auto layout = protocol::decode_status(map(), field, 0);
    ASSERT_TRUE(layout);
    for (const auto& flag : layout->flags) {
      auto key = status_flag_key(status_field, flag.key);
      SCOPED_TRACE(key);
      const auto* e = find_entity(entities, key);
      if (!flag.problem) {
        EXPECT_EQ(e, nullptr) << "a running/standby bit is not a problem";
        continue;
      }
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->component(), "binary_sensor");
      EXPECT_EQ(e->payload.at("device_class"), "problem");
      EXPECT_THAT(e->payload.at("value_template").get<std::string>(),
                  testing::HasSubstr("value_json." + key));
      ++problems;
    }
  }
  EXPECT_GT(problems, 0);
  // The charging and the discharging word both have a "fault" bit: two entities.
  EXPECT_NE(status_flag_key("charging_equipment_status", "fault"),
            status_flag_key("discharging_equipment_status", "fault"));
}

TEST(HaDiscovery, EveryBinarySensorHasATemplateMatchingItsPayloads) {
  int binary = 0;
  for (const auto& e : full_device()) {
    if (e.component() != "binary_sensor") continue;
    SCOPED_TRACE(e.topic);
    auto tmpl = e.payload.at("value_template").get<std::string>();
    EXPECT_THAT(tmpl, testing::HasSubstr("value_json." + e.object_id()));
    EXPECT_THAT(tmpl,
                testing::HasSubstr("'" + e.payload.at("payload_on").get<std::string>() + "'"));
    EXPECT_THAT(tmpl,
                testing::HasSubstr("'" + e.payload.at("payload_off").get<std::string>() + "'"));
    EXPECT_FALSE(e.payload.contains("unit_of_measurement"));
    EXPECT_FALSE(e.payload.contains("state_class"));
    ++binary;
  }
  EXPECT_GT(binary, 0);
}

TEST(HaDiscovery, DiscreteInputsAreBinarySensors) {
  auto entities = parse(device_discovery(
      map(), device("east"), {id_of("over_temperature_inside_device"), id_of("day_night")}, {}));
  ASSERT_EQ(entities.size(), 2U);
  const auto* over = find_entity(entities, "over_temperature_inside_device");
  const auto* night = find_entity(entities, "day_night");
  ASSERT_NE(over, nullptr);
  ASSERT_NE(night, nullptr);
  EXPECT_EQ(over->component(), "binary_sensor");
  EXPECT_EQ(over->payload.at("device_class"), "problem");
  EXPECT_EQ(night->component(), "binary_sensor");
  EXPECT_FALSE(night->payload.contains("device_class")) << "night is not a problem";
}

TEST(HaDiscovery, ChargingPhaseIsATextSensor) {
  auto entities =
      parse(device_discovery(map(), device("east"), {id_of("charging_equipment_status")}, {}));
  const auto* phase = find_entity(entities, "charging_phase");
  ASSERT_NE(phase, nullptr);
  EXPECT_EQ(phase->component(), "sensor");
  EXPECT_EQ(phase->payload.at("value_template"), "{{ value_json.charging_phase }}");
  EXPECT_FALSE(phase->payload.contains("unit_of_measurement"));
  EXPECT_FALSE(phase->payload.contains("state_class"));
  EXPECT_FALSE(phase->payload.contains("device_class"));
}

TEST(HaDiscovery, EveryStatusStateIsATextSensorWithoutAClash) {
  auto entities = full_device();
  for (const auto* key :
       {"battery_voltage_state", "battery_temperature_state",
        "charging_equipment_input_voltage_state", "discharging_equipment_output_power_state"}) {
    const auto* e = find_entity(entities, key);
    ASSERT_NE(e, nullptr) << key;
    EXPECT_EQ(e->component(), "sensor");
    EXPECT_FALSE(e->payload.contains("unit_of_measurement")) << key;
    EXPECT_FALSE(e->payload.contains("state_class")) << key;
  }
  // The register battery_voltage keeps its own numeric sensor.
  EXPECT_EQ(find_entity(entities, "battery_voltage")->payload.at("device_class"), "voltage");
}

TEST(HaDiscovery, RatedDataSettingsAndTheClockAreNotEntities) {
  auto entities = full_device();
  for (const auto& field : map().fields()) {
    bool polled = field.poll == PollClass::Fast || field.poll == PollClass::Slow;
    if (polled && field.group != "rtc") continue;
    EXPECT_EQ(find_entity(entities, field.name), nullptr) << field.name;
  }
  std::vector<protocol::FieldId> not_monitored;
  for (const auto& field : map().fields()) {
    if (field.poll == PollClass::Once || field.poll == PollClass::Settings) {
      not_monitored.push_back(field.id);
    }
  }
  ASSERT_FALSE(not_monitored.empty());
  EXPECT_TRUE(device_discovery(map(), device("east"), not_monitored, {}).empty());
}

TEST(HaDiscovery, OnlyFieldsTheDeviceHasGetEntities) {
  auto entities = parse(device_discovery(
      map(), device("east"), {id_of("pv_voltage"), id_of("load_power"), id_of("pv_voltage")}, {}));
  std::set<std::string> ids;
  for (const auto& e : entities)
    ids.insert(e.object_id());
  EXPECT_EQ(ids, (std::set<std::string>{"pv_voltage", "load_power"}));
  EXPECT_EQ(entities.size(), 2U);  // a repeated id gives one entity
}

TEST(HaDiscovery, TopicsHaveTheFiveLevelDiscoveryShape) {
  DiscoveryOptions options;
  options.discovery_prefix = "ha";
  const std::regex level("[A-Za-z0-9_-]+");
  auto check = [&](const std::vector<Parsed>& entities, const std::string& node) {
    for (const auto& e : entities) {
      SCOPED_TRACE(e.topic);
      ASSERT_EQ(e.levels.size(), 5U);
      EXPECT_EQ(e.levels[0], "ha");
      EXPECT_TRUE(e.component() == "sensor" || e.component() == "binary_sensor");
      EXPECT_EQ(e.levels[2], node);
      EXPECT_TRUE(std::regex_match(e.levels[3], level));
      EXPECT_EQ(e.levels[4], "config");
      EXPECT_EQ(e.payload.at("unique_id"), node + "_" + e.object_id());
    }
  };
  check(full_device(options), "tracermon_east");
  check(parse(site_discovery("garage", {"east"}, options)), "tracermon_site_garage");
}

TEST(HaDiscovery, EntityIdsAreSlugsWhateverTheDeviceName) {
  // Config names may hold capitals and '-'; Home Assistant entity ids may not.
  auto entities = parse(device_discovery(map(), device("East-Roof"), every_field(), {}));
  ASSERT_FALSE(entities.empty());
  const std::regex entity_id("(sensor|binary_sensor)\\.[a-z0-9_]+");
  for (const auto& e : entities) {
    auto id = e.payload.at("default_entity_id").get<std::string>();
    EXPECT_TRUE(std::regex_match(id, entity_id)) << id;
  }
  EXPECT_EQ(find_entity(entities, "pv_power")->payload.at("default_entity_id"),
            "sensor.tracermon_east_roof_pv_power");
  // The unique id keeps the name as configured: it is never shown and must stay stable.
  EXPECT_EQ(find_entity(entities, "pv_power")->payload.at("unique_id"),
            "tracermon_East-Roof_pv_power");
}

TEST(HaDiscovery, NamesCannotBreakTheTopics) {
  DiscoveryOptions options;
  auto entities =
      parse(device_discovery(map(), device("a+b/#c d"), {id_of("pv_voltage")}, options));
  ASSERT_EQ(entities.size(), 1U);
  const auto& e = entities[0];
  EXPECT_EQ(e.levels.size(), 5U) << e.topic;
  for (const auto& topic : {e.topic, e.payload.at("state_topic").get<std::string>(),
                            e.payload.at("availability").at(1).at("topic").get<std::string>(),
                            site_state_topic(options, "x+#/y")}) {
    EXPECT_EQ(topic.find_first_of("+# "), std::string::npos) << topic;
  }
  EXPECT_EQ(split_topic(e.payload.at("state_topic").get<std::string>()).size(), 3U);
  EXPECT_EQ(split_topic(site_state_topic(options, "x/y")).size(), 4U);
}

TEST(HaDiscovery, DeviceEntitiesNeedTheDaemonAndTheController) {
  DiscoveryOptions options;
  options.topic_root = "solar";
  for (const auto& e : full_device(options)) {
    SCOPED_TRACE(e.topic);
    EXPECT_EQ(e.payload.at("state_topic"), "solar/east/state");
    EXPECT_EQ(e.payload.at("availability_mode"), "all");
    const auto& availability = e.payload.at("availability");
    ASSERT_EQ(availability.size(), 2U);
    EXPECT_EQ(availability.at(0).at("topic"), "solar/status");
    EXPECT_EQ(availability.at(1).at("topic"), "solar/east/availability");
    for (const auto& a : availability) {
      EXPECT_EQ(a.at("payload_available"), "online");
      EXPECT_EQ(a.at("payload_not_available"), "offline");
    }
  }
  EXPECT_EQ(device_state_topic(options, "east"), "solar/east/state");
  EXPECT_EQ(device_availability_topic(options, "east"), "solar/east/availability");
  EXPECT_EQ(daemon_status_topic(options), "solar/status");
}

TEST(HaDiscovery, DeviceBlockCarriesTheIdentity) {
  auto entities = full_device();
  const auto& block = entities.at(0).payload.at("device");
  EXPECT_EQ(block.at("identifiers"), json::array({"tracermon_east"}));
  EXPECT_EQ(block.at("name"), "east");
  EXPECT_EQ(block.at("manufacturer"), "EPsolar Tech co., Ltd");
  EXPECT_EQ(block.at("model"), "Tracer4215BN");
  EXPECT_EQ(block.at("sw_version"), "V02.13+V07.24");
  EXPECT_EQ(block.at("serial_number"), "1234567");
  for (const auto& e : entities)
    EXPECT_EQ(e.payload.at("device"), block) << "one device for all entities";

  model::DeviceStatus unknown;  // no identification answer, no configured model
  unknown.name = "west";
  auto bare = parse(device_discovery(map(), unknown, {id_of("pv_voltage")}, {}));
  const auto& bare_block = bare.at(0).payload.at("device");
  EXPECT_EQ(bare_block.at("manufacturer"), "EPEVER");
  EXPECT_FALSE(bare_block.contains("model"));
  EXPECT_FALSE(bare_block.contains("sw_version"));
  EXPECT_FALSE(bare_block.contains("serial_number"));
}

TEST(HaDiscovery, ExpireAfterOnlyWhenAsked) {
  DiscoveryOptions options;
  options.expire_after_s = 90;
  auto entities = full_device(options);
  auto site = parse(site_discovery("garage", {"east"}, options));
  entities.insert(entities.end(), site.begin(), site.end());
  for (const auto& e : entities)
    EXPECT_EQ(e.payload.at("expire_after"), 90) << e.topic;
}

TEST(HaDiscovery, SiteHasOneSensorPerSiteField) {
  DiscoveryOptions options;
  auto entities = parse(site_discovery("garage", {"east", "west"}, options));
  ASSERT_EQ(entities.size(), model::site_fields().size());
  for (const auto& field : model::site_fields()) {
    SCOPED_TRACE(std::string(field.name));
    const auto* e = find_entity(entities, field.name);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->payload.at("state_topic"), "tracermon/site/garage/state");
    EXPECT_EQ(e->payload.at("unit_of_measurement"), std::string(field.unit));
    EXPECT_EQ(e->payload.at("availability").size(), 1U);
    EXPECT_EQ(e->payload.at("availability").at(0).at("topic"), "tracermon/status");
    EXPECT_EQ(e->payload.at("device").at("identifiers"), json::array({"tracermon_site_garage"}));
  }
}

TEST(HaDiscovery, RemovalClearsEveryTopicDiscoveryCanPublish) {
  auto removed = device_removal(map(), "east", {});
  std::set<std::string> removed_topics;
  for (const auto& m : removed) {
    EXPECT_TRUE(m.payload.empty()) << m.topic;
    removed_topics.insert(m.topic);
  }
  std::set<std::string> published;
  for (const auto& m : device_discovery(map(), device("east"), every_field(), {}))
    published.insert(m.topic);
  EXPECT_EQ(removed_topics, published);
  // Another device's entities are left alone.
  for (const auto& m : device_discovery(map(), device("west"), every_field(), {}))
    EXPECT_FALSE(removed_topics.contains(m.topic)) << m.topic;

  std::set<std::string> site_published;
  for (const auto& m : site_discovery("garage", {"east"}, {}))
    site_published.insert(m.topic);
  std::set<std::string> site_removed;
  for (const auto& m : site_removal("garage", {})) {
    EXPECT_TRUE(m.payload.empty()) << m.topic;
    site_removed.insert(m.topic);
  }
  EXPECT_EQ(site_removed, site_published);
}

// --- control entities ---

const protocol::SettingsCatalog& catalog() {
  return protocol::SettingsCatalog::builtin();
}

TEST(HaControl, EntitiesOfEveryKindWithCommandTopicsAndConfigCategory) {
  DiscoveryOptions options;
  auto entities = parse(device_control_discovery(catalog(), device("east-1"), options));
  // The load switch, the clock button, the battery block, durations, percentages and modes:
  // 22 settings (the optional equalization cycle left out), not every timer second.
  ASSERT_EQ(entities.size(), 2U + control_settings(catalog()).size());
  EXPECT_EQ(control_settings(catalog()).size(), 22U);
  std::map<std::string, int> components;
  std::set<std::string> unique_ids;
  for (const auto& e : entities) {
    SCOPED_TRACE(e.topic);
    ++components[e.component()];
    const auto& c = e.payload;
    EXPECT_EQ(c.at("command_topic"), "tracermon/east-1/set/" + e.object_id());
    EXPECT_TRUE(unique_ids.insert(c.at("unique_id").get<std::string>()).second);
    EXPECT_EQ(c.at("availability").size(), 2U);
    EXPECT_EQ(c.at("availability_mode"), "all");
    EXPECT_EQ(c.at("device").at("identifiers"), json::array({"tracermon_east-1"}));
    EXPECT_FALSE(c.contains("expire_after"));  // sensors only
    if (e.component() == "switch") {
      EXPECT_FALSE(c.contains("entity_category"));  // the load is a primary control
    } else {
      EXPECT_EQ(c.at("entity_category"), "config");
    }
  }
  EXPECT_EQ(components["switch"], 1);
  EXPECT_EQ(components["button"], 1);
  EXPECT_EQ(components["select"], 4);  // type, rated voltage, load mode, management mode
  EXPECT_EQ(components["number"], 18);

  const auto* load = find_entity(entities, "load");
  ASSERT_NE(load, nullptr);
  EXPECT_EQ(load->payload.at("state_topic"), "tracermon/east-1/state");
  EXPECT_EQ(load->payload.at("payload_on"), "on");
  EXPECT_EQ(load->payload.at("payload_off"), "off");
  EXPECT_THAT(load->payload.at("value_template").get<std::string>(),
              ::testing::HasSubstr("discharging_equipment_running"));
}

TEST(HaControl, NumbersTakeTheirRangeFromTheCatalogue) {
  auto entities = parse(device_control_discovery(catalog(), device("east"), {}));
  for (const auto& e : entities) {
    if (e.component() != "number") continue;
    SCOPED_TRACE(e.topic);
    const auto& field = *catalog().find(e.object_id()).value();
    const auto* spec = catalog().spec(field.id);
    ASSERT_NE(spec, nullptr);
    const auto& c = e.payload;
    auto scale = static_cast<double>(field.scale);
    EXPECT_DOUBLE_EQ(c.at("min").get<double>(), static_cast<double>(spec->min_raw) / scale);
    EXPECT_DOUBLE_EQ(c.at("max").get<double>(), static_cast<double>(spec->max_raw) / scale);
    EXPECT_DOUBLE_EQ(c.at("step").get<double>(), 1.0 / scale);
    EXPECT_EQ(c.at("mode"), "box");
    EXPECT_EQ(c.at("state_topic"), "tracermon/east/settings");
    EXPECT_EQ(c.at("value_template"), "{{ value_json." + field.name + " }}");
    // What Home Assistant sends (the number as text) is what the daemon reads.
    auto max_text = c.at("max").dump();
    EXPECT_EQ(catalog().parse_value(field, max_text).value(), spec->max_raw);
  }
  const auto* boost = find_entity(entities, "boost_charging_voltage");
  ASSERT_NE(boost, nullptr);
  EXPECT_EQ(boost->payload.at("unit_of_measurement"), "V");
  EXPECT_EQ(boost->payload.at("device_class"), "voltage");
  EXPECT_THAT(boost->payload.at("name").get<std::string>(), ::testing::HasSubstr("per 12 V"));
}

TEST(HaControl, SelectOptionsAreUniqueAndTheTemplateSendsTheirValue) {
  auto entities = parse(device_control_discovery(catalog(), device("east"), {}));
  std::regex entry(R"re("([^"]+)":(\d+))re");
  for (const auto& e : entities) {
    if (e.component() != "select") continue;
    SCOPED_TRACE(e.topic);
    const auto& field = *catalog().find(e.object_id()).value();
    auto options = e.payload.at("options").get<std::vector<std::string>>();
    ASSERT_FALSE(options.empty());
    EXPECT_EQ(std::set<std::string>(options.begin(), options.end()).size(), options.size());
    // The template is a map option -> number: each number is the value of that option, which
    // the daemon takes as it is.
    auto tmpl = e.payload.at("command_template").get<std::string>();
    std::map<std::string, std::int64_t> mapped;
    for (auto it = std::sregex_iterator(tmpl.begin(), tmpl.end(), entry);
         it != std::sregex_iterator(); ++it)
      mapped[(*it)[1]] = std::stoll((*it)[2]);
    ASSERT_EQ(mapped.size(), options.size()) << tmpl;
    for (const auto& option : options) {
      ASSERT_TRUE(mapped.contains(option)) << option;
      auto value = mapped[option];
      EXPECT_EQ(setting_option(map(), field, static_cast<std::uint16_t>(value)), option);
      EXPECT_EQ(catalog().parse_value(field, std::to_string(value)).value(), value);
    }
  }
  const auto& type = *catalog().find("battery_type").value();
  EXPECT_EQ(setting_option(map(), type, 1), "Sealed");
  EXPECT_EQ(setting_option(map(), type, 5), "LiFePO4 (5)");
  const auto& mode = *catalog().find("load_control_mode").value();
  EXPECT_EQ(setting_option(map(), mode, 0), "Manual control");
  EXPECT_EQ(setting_option(map(), mode, 99), "99");
}

TEST(HaControl, RemovalClearsEveryControlTopic) {
  std::set<std::string> published;
  for (const auto& m : device_control_discovery(catalog(), device("east"), {}))
    published.insert(m.topic);
  std::set<std::string> removed;
  for (const auto& m : device_control_removal(catalog(), "east", {})) {
    EXPECT_TRUE(m.payload.empty()) << m.topic;
    removed.insert(m.topic);
  }
  EXPECT_EQ(removed, published);
  // The sensors' removal is unchanged: control has its own.
  for (const auto& m : device_removal(map(), "east", {}))
    EXPECT_FALSE(published.contains(m.topic)) << m.topic;
}

TEST(HaControl, CommandTopics) {
  DiscoveryOptions options;
  options.topic_root = "solar";
  EXPECT_EQ(command_subscription(options), "solar/+/set/+");
  EXPECT_EQ(device_command_topic(options, "east 1", "load"), "solar/east_1/set/load");
  EXPECT_EQ(device_result_topic(options, "east 1"), "solar/east_1/result");
  EXPECT_EQ(device_settings_topic(options, "east 1"), "solar/east_1/settings");
}

}  // namespace
}  // namespace tracermon::format
