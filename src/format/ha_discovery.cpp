#include "format/ha_discovery.hpp"

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

}  // namespace tracermon::format
