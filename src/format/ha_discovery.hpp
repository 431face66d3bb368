#pragma once
// Home Assistant MQTT discovery: the retained config messages that make every controller and
// every site appear in Home Assistant as a device with its sensors. Pure: no MQTT, no clock.
// The publisher sends each message retained to `topic`; an empty payload removes the entity.
//
// Contract with the state publisher (which must use the topic functions below):
//   <root>/status                  "online"/"offline" (the daemon; its MQTT last will)
//   <root>/<device>/availability   "online"/"offline" (the controller answers or not)
//   <root>/<device>/state          one JSON object per device per cycle: every numeric field by
//                                  its register name, each status state by status_state_key()
//                                  (the enums.csv meaning), each status flag by
//                                  status_flag_key() as a boolean, and the discrete inputs as
//                                  booleans; null for a value that is stale or was never read
//                                  (Home Assistant then shows "unknown", not an old value);
//                                  see mqtt_messages.hpp
//   <root>/site/<site>/state       one JSON object per site: site_fields() names, null when
//                                  left out
// With control on ([control] enabled), also:
//   <root>/<device>/settings       retained JSON object: each control_settings() field by its
//                                  register name (numbers scaled; enums as setting_option())
//   <root>/<device>/set/<name>     commands to the daemon: "load" (on/off/auto), "clock_sync"
//                                  (any payload), or a setting (the value as text)
//   <root>/<device>/result         the daemon's answer to each command (not retained)

#include <string>
#include <string_view>
#include <vector>

#include "model/device_status.hpp"
#include "protocol/decode.hpp"
#include "protocol/register_map.hpp"
#include "protocol/settings.hpp"

namespace tracermon::format {

struct DiscoveryMessage {
  std::string topic;
  std::string payload;  // JSON; empty = remove the entity
};

struct DiscoveryOptions {
  std::string discovery_prefix = "homeassistant";
  std::string topic_root = "tracermon";
  int expire_after_s = 0;  // > 0: Home Assistant shows "unavailable" after this long silent
};

// Names as used in topics and ids: characters other than A-Z a-z 0-9 _ - become '_' (config
// names are already restricted to those; this keeps a topic valid whatever comes in).
std::string topic_safe(std::string_view name);

std::string daemon_status_topic(const DiscoveryOptions& options);
std::string device_availability_topic(const DiscoveryOptions& options, std::string_view device);
std::string device_state_topic(const DiscoveryOptions& options, std::string_view device);
std::string site_state_topic(const DiscoveryOptions& options, std::string_view site);
// Control (commands): see the contract above.
std::string device_settings_topic(const DiscoveryOptions& options, std::string_view device);
std::string device_command_topic(const DiscoveryOptions& options, std::string_view device,
                                 std::string_view command);
std::string device_result_topic(const DiscoveryOptions& options, std::string_view device);
// The one subscription that receives every device's commands: <root>/+/set/+.
std::string command_subscription(const DiscoveryOptions& options);

// Status keys are named in the protocol layer (decode.hpp), the same in every output.
using protocol::status_flag_key;
using protocol::status_state_key;

// Whether a field becomes Home Assistant entities: the live (fast) and statistics (slow)
// fields; rated data, settings and the clock do not.
bool has_entity(const protocol::Field& field);

// One config message per entity of a controller: a sensor per numeric fast/slow field, a text
// sensor per multi-bit state of the status words (charging phase, battery voltage state, ...),
// a problem binary_sensor per fault flag of the status words
// and a binary_sensor per discrete input. Rated data, settings and the clock are not entities.
// Only `fields_present` (the fields the device answers) get entities; the device block comes
// from `device` (name, model, identity).
std::vector<DiscoveryMessage> device_discovery(const protocol::RegisterMap& map,
                                               const model::DeviceStatus& device,
                                               const std::vector<protocol::FieldId>& fields_present,
                                               const DiscoveryOptions& options);

// One sensor per site_fields() entry on one Home Assistant device per site.
std::vector<DiscoveryMessage> site_discovery(std::string_view site,
                                             const std::vector<std::string>& members,
                                             const DiscoveryOptions& options);

// Removal of a device that is no longer configured: every topic device_discovery can produce
// for that name (whatever fields it had), each with an empty payload. Needs only the name, so
// it works after a restart that forgot what was published.
std::vector<DiscoveryMessage> device_removal(const protocol::RegisterMap& map,
                                             std::string_view device,
                                             const DiscoveryOptions& options);
std::vector<DiscoveryMessage> site_removal(std::string_view site, const DiscoveryOptions& options);

// --- control entities ([control] enabled) ---------------------------------------------------

// The settings that become Home Assistant number and select entities, in register order: the
// battery block (type, capacity, compensation, the twelve voltages), the rated voltage code,
// the durations and percentages, the management mode and the load control mode; settings only
// some models have (quirks.csv "optional") are left out. Timers and thresholds stay with
// `tracermon set`. Enums become selects, the rest numbers.
std::vector<protocol::FieldId> control_settings(const protocol::SettingsCatalog& catalog);

// An enum setting's value as a select option: its meaning without the notes in parentheses,
// with " (<value>)" added when that is shared with another value ("LiFePO4 (5)"), so every
// option is unique; the number itself for a value the table does not know.
std::string setting_option(const protocol::RegisterMap& map, const protocol::Field& field,
                           std::uint16_t value);

// The control entities of a controller: a switch for the load (state: the load output's
// running flag in the state message; commands "on"/"off" to <root>/<device>/set/load), a
// "Sync clock" button (<root>/<device>/set/clock_sync), a number per numeric control setting
// (range and step from the catalogue) and a select per enum setting (options from
// setting_option(); the command template sends the value's number), their state from
// <root>/<device>/settings. Same device block and availability as the sensors.
std::vector<DiscoveryMessage> device_control_discovery(const protocol::SettingsCatalog& catalog,
                                                       const model::DeviceStatus& device,
                                                       const DiscoveryOptions& options);
// Every topic device_control_discovery produces for `device`, with an empty payload.
std::vector<DiscoveryMessage> device_control_removal(const protocol::SettingsCatalog& catalog,
                                                     std::string_view device,
                                                     const DiscoveryOptions& options);

}  // namespace tracermon::format
