#include "format/ha_discovery.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "model/site_totals.hpp"
#include "protocol/decode.hpp"

#ifndef TRACERMON_VERSION_STRING
#define TRACERMON_VERSION_STRING "unknown"
#endif

namespace tracermon::format {
namespace {

using nlohmann::json;
using protocol::Field;
using protocol::PollClass;
using protocol::ValueType;

// One Home Assistant entity before it becomes a config message.
struct Entity {
  std::string_view component;  // "sensor" or "binary_sensor"
  std::string key;             // state-message key, also the object id in the topic
  std::string name;
  std::string_view unit;          // Home Assistant spelling; empty = none
  std::string_view device_class;  // empty = none
  std::string_view state_class;   // empty = none (text sensors, binary sensors)
  int precision = -1;             // suggested_display_precision; < 0 = none
};

constexpr std::string_view k_sensor = "sensor";
constexpr std::string_view k_binary_sensor = "binary_sensor";

struct SensorKind {
  std::string_view unit;
  std::string_view device_class;
  std::string_view state_class;
};

// Register units onto Home Assistant: only unit/device-class pairs it accepts.
SensorKind sensor_kind(std::string_view unit, std::string_view name) {
  if (unit == "V") return {"V", "voltage", "measurement"};
  if (unit == "A") return {"A", "current", "measurement"};
  if (unit == "W") return {"W", "power", "measurement"};
  // Every energy counter only grows until it is cleared (midnight, month, year, statistics
  // reset); total_increasing takes a drop for a new cycle, which is exactly that.
  if (unit == "kWh") return {"kWh", "energy", "total_increasing"};
  if (unit == "degC") return {"°C", "temperature", "measurement"};
  if (unit == "%") return {"%", name == "battery_soc" ? "battery" : "", "measurement"};
  // CO2 saved counts up with the energy it is derived from; Home Assistant has no class for it.
  if (unit == "t") return {"t", "", "total_increasing"};
  return {unit, "", "measurement"};
}

// The decimals the scale gives: 100 -> 2.
int decimals(std::uint32_t scale) {
  int digits = 0;
  for (auto s = scale; s >= 10; s /= 10)
    ++digits;
  return digits;
}

// "pv_input_short" -> "PV input short".
std::string humanize(std::string_view key) {
  static const std::set<std::string_view> k_acronyms = {"pv", "soc", "co2", "mosfet", "dc"};
  std::string out;
  std::size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find('_', start);
    if (end == std::string_view::npos) end = key.size();
    auto word = std::string(key.substr(start, end - start));
    if (k_acronyms.contains(word)) {
      for (auto& c : word)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (!word.empty()) {
      if (!out.empty()) out += ' ';
      out += word;
    }
    start = end + 1;
  }
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

Entity numeric_entity(const Field& field) {
  auto kind = sensor_kind(field.unit, field.name);
  return {k_sensor,          field.name,       humanize(field.name), kind.unit,
          kind.device_class, kind.state_class, decimals(field.scale)};
}

Entity text_entity(std::string key) {
  auto name = humanize(key);
  return {k_sensor, std::move(key), std::move(name), "", "", "", -1};
}

Entity problem_entity(std::string key) {
  auto name = humanize(key);
  return {k_binary_sensor, std::move(key), std::move(name), "", "problem", "", -1};
}

// The status words give their multi-bit states as text and their fault flags as problems; the
// running/standby bits are left to the state message.
void add_status_entities(const protocol::RegisterMap& map, const Field& field,
                         std::vector<Entity>& out) {
  auto layout = protocol::decode_status(map, field, 0);  // word 0: only the layout is wanted
  if (!layout) return;                                   // the clock words: no entity
  for (const auto& state : layout->states)
    out.push_back(text_entity(status_state_key(field.name, state.key)));
  for (const auto& flag : layout->flags) {
    if (flag.problem) out.push_back(problem_entity(status_flag_key(field.name, flag.key)));
  }
}

// Discrete inputs are booleans: day_night says night, every other one is a protection trip.
Entity discrete_entity(const Field& field) {
  if (field.name == "day_night") return {k_binary_sensor, field.name, "Night", "", "", "", -1};
  return problem_entity(field.name);
}

std::vector<Entity> device_entities(const protocol::RegisterMap& map,
                                    const std::vector<protocol::FieldId>& fields) {
  std::vector<Entity> out;
  std::set<protocol::FieldId> seen;
  for (auto id : fields) {
    if (id >= map.fields().size() || !seen.insert(id).second) continue;
    const auto& field = map.field(id);
    if (!has_entity(field)) continue;
    if (field.type == ValueType::Bitfield) {
      add_status_entities(map, field, out);
    } else if (field.type == ValueType::Enum) {
      out.push_back(field.is_bit() ? discrete_entity(field) : text_entity(field.name));
    } else {
      out.push_back(numeric_entity(field));
    }
  }
  return out;
}

std::vector<Entity> site_entities() {
  std::vector<Entity> out;
  for (const auto& field : model::site_fields()) {
    auto kind = sensor_kind(field.unit, field.name);
    out.push_back({k_sensor, std::string(field.name), humanize(field.name), kind.unit,
                   kind.device_class, kind.state_class, -1});
  }
  return out;
}

// An entity id's object part allows only a-z, 0-9 and _: "East-1" becomes "east_1".
std::string entity_slug(std::string_view id) {
  std::string out(id);
  for (auto& c : out) {
    auto u = static_cast<unsigned char>(c);
    c = std::isalnum(u) != 0 ? static_cast<char>(std::tolower(u)) : '_';
  }
  return out;
}

std::string device_node(std::string_view device) {
  return "tracermon_" + topic_safe(device);
}

std::string site_node(std::string_view site) {
  return "tracermon_site_" + topic_safe(site);
}

std::string config_topic(const DiscoveryOptions& options, const Entity& entity,
                         std::string_view node) {
  return fmt::format("{}/{}/{}/{}/config", options.discovery_prefix, entity.component, node,
                     entity.key);
}

json availability_entry(const std::string& topic) {
  return {{"topic", topic}, {"payload_available", "online"}, {"payload_not_available", "offline"}};
}

// Shared by every entity of one Home Assistant device.
struct EntityContext {
  std::string node;  // node id, also the prefix of the unique ids
  std::string state_topic;
  json device;
  json availability;
  bool all_available = false;  // availability_mode "all": every topic must say online
};

DiscoveryMessage config_message(const DiscoveryOptions& options, const EntityContext& context,
                                const Entity& entity) {
  auto unique_id = context.node + "_" + entity.key;
  json payload = {
      {"name", entity.name},
      {"unique_id", unique_id},
      // Home Assistant 2025.10 replaced object_id by default_entity_id (object_id stops
      // working in 2026.4); the entity id then does not depend on the device's display name.
      {"default_entity_id", fmt::format("{}.{}", entity.component, entity_slug(unique_id))},
      {"state_topic", context.state_topic},
      {"availability", context.availability},
      {"device", context.device},
      {"origin", {{"name", "tracermon"}, {"sw_version", TRACERMON_VERSION_STRING}}},
  };
  if (context.all_available) payload["availability_mode"] = "all";
  if (entity.component == k_binary_sensor) {
    // null (not read this cycle) renders "None": unknown in Home Assistant, not "no problem".
    payload["value_template"] = fmt::format(
        "{{{{ 'None' if value_json.{0} is none else ('ON' if value_json.{0} else "
        "'OFF') }}}}",
        entity.key);
    payload["payload_on"] = "ON";
    payload["payload_off"] = "OFF";
  } else {
    payload["value_template"] = fmt::format("{{{{ value_json.{} }}}}", entity.key);
  }
  if (!entity.unit.empty()) payload["unit_of_measurement"] = entity.unit;
  if (!entity.device_class.empty()) payload["device_class"] = entity.device_class;
  if (!entity.state_class.empty()) payload["state_class"] = entity.state_class;
  if (entity.precision >= 0) payload["suggested_display_precision"] = entity.precision;
  if (options.expire_after_s > 0) payload["expire_after"] = options.expire_after_s;
  return {config_topic(options, entity, context.node), payload.dump()};
}

json device_block(const model::DeviceStatus& device) {
  const auto& identity = device.identity;
  json block = {
      {"identifiers", json::array({device_node(device.name)})},
      {"name", device.name},
      {"manufacturer", identity.vendor.empty() ? "EPEVER" : identity.vendor},
  };
  auto model = device.model.empty() ? identity.product_code : device.model;
  if (!model.empty()) block["model"] = model;
  if (!identity.revision.empty()) block["sw_version"] = identity.revision;
  if (!identity.serial.empty()) block["serial_number"] = identity.serial;
  return block;
}

// --- control entities ---

constexpr std::string_view k_switch = "switch";
constexpr std::string_view k_button = "button";
constexpr std::string_view k_number = "number";
constexpr std::string_view k_select = "select";
constexpr std::string_view k_load = "load";
constexpr std::string_view k_clock_sync = "clock_sync";
// The load output's running flag (discharging equipment status D0) in the state message.
constexpr std::string_view k_load_running = "discharging_equipment_running";

// The settings Home Assistant gets as entities (see control_settings()).
constexpr std::string_view k_control_settings[] = {
    "battery_type",
    "battery_capacity",
    "temperature_compensation_coefficient",
    "over_voltage_disconnect_voltage",
    "charging_limit_voltage",
    "over_voltage_reconnect_voltage",
    "equalize_charging_voltage",
    "boost_charging_voltage",
    "float_charging_voltage",
    "boost_reconnect_charging_voltage",
    "low_voltage_reconnect_voltage",
    "under_voltage_warning_recover_voltage",
    "under_voltage_warning_voltage",
    "low_voltage_disconnect_voltage",
    "discharging_limit_voltage",
    "load_control_mode",
    "battery_rated_voltage_code",
    "equalize_duration",
    "boost_duration",
    "discharging_percentage",
    "charging_percentage",
    "battery_management_mode",
};

// Register units onto what a Home Assistant number shows, with its device class.
std::pair<std::string, std::string_view> number_unit(std::string_view unit) {
  if (unit == "V") return {"V", "voltage"};
  if (unit == "min") return {"min", "duration"};
  if (unit == "day") return {"d", "duration"};
  std::string out(unit);
  if (auto at = out.find("degC"); at != std::string::npos) out.replace(at, 4, "°C");
  return {out, ""};
}

// A number's step and bounds as JSON numbers: whole numbers stay integers.
json scaled(std::int64_t raw, std::uint32_t scale) {
  if (scale == 1) return raw;
  return static_cast<double>(raw) / static_cast<double>(scale);
}

json control_base(const EntityContext& context, std::string_view component, std::string_view key,
                  std::string name) {
  auto unique_id = context.node + "_" + std::string(key);
  json payload = {
      {"name", std::move(name)},
      {"unique_id", unique_id},
      {"default_entity_id", fmt::format("{}.{}", component, entity_slug(unique_id))},
      {"availability", context.availability},
      {"availability_mode", "all"},
      {"device", context.device},
      {"origin", {{"name", "tracermon"}, {"sw_version", TRACERMON_VERSION_STRING}}},
  };
  return payload;
}

std::string control_config_topic(const DiscoveryOptions& options, std::string_view component,
                                 std::string_view node, std::string_view key) {
  return fmt::format("{}/{}/{}/{}/config", options.discovery_prefix, component, node, key);
}

// (component, key) of every control entity, in the order they are published.
std::vector<std::pair<std::string_view, std::string>> control_entities(
    const protocol::SettingsCatalog& catalog) {
  std::vector<std::pair<std::string_view, std::string>> out;
  out.emplace_back(k_switch, std::string(k_load));
  out.emplace_back(k_button, std::string(k_clock_sync));
  for (auto id : control_settings(catalog)) {
    const auto& field = catalog.map().field(id);
    out.emplace_back(field.type == ValueType::Enum ? k_select : k_number, field.name);
  }
  return out;
}

std::vector<DiscoveryMessage> removal_of(const DiscoveryOptions& options,
                                         const std::vector<Entity>& entities,
                                         std::string_view node) {
  std::vector<DiscoveryMessage> out;
  out.reserve(entities.size());
  for (const auto& entity : entities)
    out.push_back({config_topic(options, entity, node), ""});
  return out;
}

}  // namespace

bool has_entity(const protocol::Field& field) {
  return field.readable() && (field.poll == PollClass::Fast || field.poll == PollClass::Slow);
}

std::string topic_safe(std::string_view name) {
  std::string out(name);
  for (auto& c : out) {
    bool allowed = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    if (!allowed) c = '_';
  }
  return out;
}

std::string daemon_status_topic(const DiscoveryOptions& options) {
  return options.topic_root + "/status";
}

std::string device_availability_topic(const DiscoveryOptions& options, std::string_view device) {
  return fmt::format("{}/{}/availability", options.topic_root, topic_safe(device));
}

std::string device_state_topic(const DiscoveryOptions& options, std::string_view device) {
  return fmt::format("{}/{}/state", options.topic_root, topic_safe(device));
}

std::string site_state_topic(const DiscoveryOptions& options, std::string_view site) {
  return fmt::format("{}/site/{}/state", options.topic_root, topic_safe(site));
}

std::vector<DiscoveryMessage> device_discovery(const protocol::RegisterMap& map,
                                               const model::DeviceStatus& device,
                                               const std::vector<protocol::FieldId>& fields_present,
                                               const DiscoveryOptions& options) {
  EntityContext context{
      device_node(device.name),
      device_state_topic(options, device.name),
      device_block(device),
      json::array({availability_entry(daemon_status_topic(options)),
                   availability_entry(device_availability_topic(options, device.name))}),
      true,
  };
  std::vector<DiscoveryMessage> out;
  for (const auto& entity : device_entities(map, fields_present))
    out.push_back(config_message(options, context, entity));
  return out;
}

std::vector<DiscoveryMessage> site_discovery(std::string_view site,
                                             const std::vector<std::string>& members,
                                             const DiscoveryOptions& options) {
  json block = {
      {"identifiers", json::array({site_node(site)})},
      {"name", fmt::format("Site {}", site)},
      {"manufacturer", "tracermon"},
      {"model", fmt::format("Shared battery: {}", fmt::join(members, ", "))},
  };
  EntityContext context{
      site_node(site),
      site_state_topic(options, site),
      std::move(block),
      json::array({availability_entry(daemon_status_topic(options))}),
      false,
  };
  std::vector<DiscoveryMessage> out;
  for (const auto& entity : site_entities())
    out.push_back(config_message(options, context, entity));
  return out;
}

std::vector<DiscoveryMessage> device_removal(const protocol::RegisterMap& map,
                                             std::string_view device,
                                             const DiscoveryOptions& options) {
  std::vector<protocol::FieldId> every_field;
  for (const auto& field : map.fields())
    every_field.push_back(field.id);
  return removal_of(options, device_entities(map, every_field), device_node(device));
}

std::vector<DiscoveryMessage> site_removal(std::string_view site, const DiscoveryOptions& options) {
  return removal_of(options, site_entities(), site_node(site));
}

std::string device_settings_topic(const DiscoveryOptions& options, std::string_view device) {
  return fmt::format("{}/{}/settings", options.topic_root, topic_safe(device));
}

std::string device_command_topic(const DiscoveryOptions& options, std::string_view device,
                                 std::string_view command) {
  return fmt::format("{}/{}/set/{}", options.topic_root, topic_safe(device), command);
}

std::string device_result_topic(const DiscoveryOptions& options, std::string_view device) {
  return fmt::format("{}/{}/result", options.topic_root, topic_safe(device));
}

std::string command_subscription(const DiscoveryOptions& options) {
  return options.topic_root + "/+/set/+";
}

std::vector<protocol::FieldId> control_settings(const protocol::SettingsCatalog& catalog) {
  std::vector<protocol::FieldId> out;
  for (auto name : k_control_settings) {
    auto field = catalog.find(name);
    if (!field || field.value()->optional || catalog.spec(field.value()->id) == nullptr) continue;
    out.push_back(field.value()->id);
  }
  std::sort(out.begin(), out.end(), [&](auto a, auto b) {
    return catalog.map().field(a).address < catalog.map().field(b).address;
  });
  return out;
}

std::string setting_option(const protocol::RegisterMap& map, const protocol::Field& field,
                           std::uint16_t value) {
  // The meaning without the notes in parentheses: "Manual control (load follows coil ...)"
  // shows as "Manual control".
  auto label = [](const std::string& meaning) {
    auto notes = meaning.find(" (");
    return notes == std::string::npos ? meaning : meaning.substr(0, notes);
  };
  auto values = protocol::word_enums(map, field);
  auto it = std::find_if(values.begin(), values.end(), [&](auto* e) { return e->value == value; });
  if (it == values.end()) return std::to_string(value);
  auto text = label((*it)->meaning);
  auto shared = std::count_if(values.begin(), values.end(),
                              [&](auto* e) { return label(e->meaning) == text; });
  if (shared > 1) return fmt::format("{} ({})", text, value);
  return text;
}

std::vector<DiscoveryMessage> device_control_discovery(const protocol::SettingsCatalog& catalog,
                                                       const model::DeviceStatus& device,
                                                       const DiscoveryOptions& options) {
  const auto& map = catalog.map();
  EntityContext context{
      device_node(device.name),
      device_state_topic(options, device.name),
      device_block(device),
      json::array({availability_entry(daemon_status_topic(options)),
                   availability_entry(device_availability_topic(options, device.name))}),
      true,
  };
  auto settings_topic = device_settings_topic(options, device.name);
  std::vector<DiscoveryMessage> out;
  auto add = [&](std::string_view component, std::string_view key, const json& payload) {
    out.push_back({control_config_topic(options, component, context.node, key), payload.dump()});
  };

  // The load: its state is what the output does (the running flag), whatever the mode.
  auto load = control_base(context, k_switch, k_load, "Load");
  load["state_topic"] = context.state_topic;
  load["value_template"] = fmt::format(
      "{{% set v = value_json.get('{0}') %}}{{{{ 'None' if v is none else ('on' if v else "
      "'off') }}}}",
      k_load_running);
  load["command_topic"] = device_command_topic(options, device.name, k_load);
  load["payload_on"] = "on";
  load["payload_off"] = "off";
  load["state_on"] = "on";
  load["state_off"] = "off";
  load["device_class"] = "switch";
  add(k_switch, k_load, load);

  auto sync = control_base(context, k_button, k_clock_sync, "Sync clock");
  sync["command_topic"] = device_command_topic(options, device.name, k_clock_sync);
  sync["payload_press"] = "PRESS";
  sync["entity_category"] = "config";
  add(k_button, k_clock_sync, sync);

  for (auto id : control_settings(catalog)) {
    const auto& field = map.field(id);
    const auto* spec = catalog.spec(id);
    bool is_select = field.type == ValueType::Enum;
    auto component = is_select ? k_select : k_number;
    auto name = humanize(field.name);
    // Battery voltages are per 12 V block: the controller doubles them on a 24 V bank.
    if (protocol::is_battery_voltage(field)) name += " (per 12 V)";
    auto payload = control_base(context, component, field.name, std::move(name));
    payload["state_topic"] = settings_topic;
    payload["value_template"] = fmt::format("{{{{ value_json.{} }}}}", field.name);
    payload["command_topic"] = device_command_topic(options, device.name, field.name);
    payload["entity_category"] = "config";
    if (is_select) {
      // The options are the meanings; the template sends the value's number, which the
      // daemon reads without any doubt about names shared between values.
      json options_list = json::array();
      json numbers = json::object();
      for (const auto* e : protocol::word_enums(map, field)) {
        if (e->value < spec->min_raw || e->value > spec->max_raw) continue;
        auto option = setting_option(map, field, e->value);
        options_list.push_back(option);
        numbers[option] = e->value;
      }
      payload["options"] = options_list;
      payload["command_template"] = fmt::format("{{{{ {}[value] }}}}", numbers.dump());
    } else {
      auto [unit, device_class] = number_unit(field.unit);
      payload["min"] = scaled(spec->min_raw, field.scale);
      payload["max"] = scaled(spec->max_raw, field.scale);
      payload["step"] = scaled(1, field.scale);
      payload["mode"] = "box";
      if (!unit.empty()) payload["unit_of_measurement"] = unit;
      if (!device_class.empty()) payload["device_class"] = device_class;
    }
    add(component, field.name, payload);
  }
  return out;
}

std::vector<DiscoveryMessage> device_control_removal(const protocol::SettingsCatalog& catalog,
                                                     std::string_view device,
                                                     const DiscoveryOptions& options) {
  std::vector<DiscoveryMessage> out;
  auto node = device_node(device);
  for (const auto& [component, key] : control_entities(catalog))
    out.push_back({control_config_topic(options, component, node, key), ""});
  return out;
}

}  // namespace tracermon::format
