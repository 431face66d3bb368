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

#include <string>
#include <string_view>
#include <vector>

#include "model/device_status.hpp"
#include "protocol/decode.hpp"
#include "protocol/register_map.hpp"

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

}  // namespace tracermon::format
