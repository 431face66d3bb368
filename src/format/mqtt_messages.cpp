#include "format/mqtt_messages.hpp"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/wall_time.hpp"
#include "format/ha_discovery.hpp"
#include "protocol/decode.hpp"

namespace tracermon::format {
namespace {

using nlohmann::ordered_json;
using protocol::ValueType;

using core::epoch_ms;

std::string iso8601_utc(core::WallTime time) {
  auto ms = epoch_ms(time);
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

void add_time(ordered_json& out, core::WallTime time) {
  if (time == core::WallTime{}) {
    out["time"] = nullptr;
    out["time_ms"] = nullptr;
    return;
  }
  out["time"] = iso8601_utc(time);
  out["time_ms"] = epoch_ms(time);
}

// A status word: its states as text and its flags as booleans, or all null when stale.
void add_status(const protocol::RegisterMap& map, const protocol::Field& field,
                const model::FieldSample* sample, ordered_json& out) {
  auto decoded =
      protocol::decode_status(map, field, sample ? static_cast<std::uint16_t>(sample->raw) : 0);
  if (!decoded) return;
  for (const auto& state : decoded->states) {
    out[status_state_key(field.name, state.key)] =
        sample ? ordered_json(state.meaning) : ordered_json(nullptr);
  }
  for (const auto& flag : decoded->flags) {
    out[status_flag_key(field.name, flag.key)] =
        sample ? ordered_json(flag.set) : ordered_json(nullptr);
  }
}

}  // namespace

std::vector<protocol::FieldId> entity_fields(const protocol::RegisterMap& map,
                                             const model::DeviceSnapshot& latest) {
  std::vector<protocol::FieldId> out;
  for (const auto& sample : latest.fields) {
    if (has_entity(map.field(sample.id))) out.push_back(sample.id);
  }
  return out;
}

std::string device_state_message(const protocol::RegisterMap& map,
                                 const model::DeviceSnapshot& latest,
                                 const model::PollIntervals& intervals, core::SteadyTime now) {
  ordered_json out;
  bool any_fresh = false;
  ordered_json values = ordered_json::object();
  for (const auto& sample : latest.fields) {
    const auto& field = map.field(sample.id);
    if (!has_entity(field)) continue;
    auto limit = model::max_age(field, intervals);
    bool fresh = limit.count() == 0 || now - sample.read_at <= limit;
    const auto* used = fresh ? &sample : nullptr;
    any_fresh = any_fresh || fresh;
    if (field.type == ValueType::Bitfield) {
      add_status(map, field, used, values);
    } else if (field.type == ValueType::Enum) {
      if (!used) {
        values[field.name] = nullptr;
      } else if (field.is_bit()) {
        values[field.name] = sample.raw != 0;
      } else {
        auto text = protocol::enum_text(map, field, static_cast<std::uint16_t>(sample.raw));
        values[field.name] = text ? std::string(*text) : std::to_string(sample.raw);
      }
    } else {
      values[field.name] = used ? ordered_json(sample.value) : ordered_json(nullptr);
    }
  }
  out["device"] = latest.device;
  out["health"] = model::to_string(latest.health);
  add_time(out, any_fresh ? latest.time : core::WallTime{});  // the cycle's, as the store files it
  out.update(values);
  return out.dump();
}

std::string device_settings_message(const protocol::SettingsCatalog& catalog,
                                    const model::DeviceSnapshot& latest) {
  const auto& map = catalog.map();
  ordered_json out;
  out["device"] = latest.device;
  for (auto id : control_settings(catalog)) {
    const auto& field = map.field(id);
    const auto* sample = latest.find(id);
    if (sample == nullptr) {
      out[field.name] = nullptr;
    } else if (field.type == ValueType::Enum) {
      out[field.name] = setting_option(map, field, static_cast<std::uint16_t>(sample->raw));
    } else if (field.scale == 1) {
      out[field.name] = sample->raw;
    } else {
      out[field.name] = sample->value;
    }
  }
  return out.dump();
}

std::string site_state_message(const model::SiteTotals& totals) {
  ordered_json out;
  out["site"] = totals.site;
  out["complete"] = totals.complete;
  out["missing_members"] = totals.missing_members;
  add_time(out, totals.time);
  for (const auto& field : model::site_fields())
    out[std::string(field.name)] = nullptr;
  for (const auto& [name, value] : totals.values)
    out[name] = value;
  return out.dump();
}

}  // namespace tracermon::format
