#pragma once
// The MQTT state messages (pure: no MQTT, no clock). Their keys are the ones the Home Assistant
// discovery messages (ha_discovery.hpp) read with value_json.<key>.

#include <string>
#include <vector>

#include "model/poll_intervals.hpp"
#include "model/site_totals.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"
#include "protocol/settings.hpp"

namespace tracermon::format {

// One JSON object for a device from its latest merged view: every fast/slow field it ever
// answered by its register name (scaled number), each status word's multi-bit states as text
// by status_state_key ("charging_phase": "float") and its flags as booleans (status_flag_key),
// discrete inputs as booleans, plus "time" (ISO 8601 UTC of the cycle that read it), "time_ms" and
// "health". A value older than model::max_age (or never read) is null, so Home Assistant shows
// "unknown" rather than a stale number.
std::string device_state_message(const protocol::RegisterMap& map,
                                 const model::DeviceSnapshot& latest,
                                 const model::PollIntervals& intervals, core::SteadyTime now);

// One JSON object per site: every site_fields() key, null when left out; "complete",
// "missing_members", "time", "time_ms".
std::string site_state_message(const model::SiteTotals& totals);

// Control on: the retained <root>/<device>/settings message, the state of the number and
// select entities: {"device", then every control_settings() field by its name: the scaled
// number, an enum as setting_option(), null when not read yet}. Settings never go stale
// (they are read rarely and change only when written); the same view gives the same text, so
// the publisher sends it only when it changed.
std::string device_settings_message(const protocol::SettingsCatalog& catalog,
                                    const model::DeviceSnapshot& latest);

// The fields of `latest` that have Home Assistant entities: what device_discovery is given.
std::vector<protocol::FieldId> entity_fields(const protocol::RegisterMap& map,
                                             const model::DeviceSnapshot& latest);

}  // namespace tracermon::format
