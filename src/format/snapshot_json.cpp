#include "format/snapshot_json.hpp"

#include <fmt/format.h>

#include "core/wall_time.hpp"
#include "protocol/decode.hpp"

namespace tracermon::format {

nlohmann::ordered_json snapshot_json(const protocol::RegisterMap& map,
                                     const model::DeviceSnapshot& snapshot,
                                     const model::PollIntervals& intervals) {
  nlohmann::ordered_json out;
  out["device"] = snapshot.device;
  out["bus"] = snapshot.bus;
  out["site"] = snapshot.site;
  out["id"] = snapshot.unit;
  out["health"] = model::to_string(snapshot.health);
  out["time"] = core::rfc3339(snapshot.time);
  out["time_ms"] = core::epoch_ms(snapshot.time);
  out["clock_trusted"] = snapshot.clock_trusted;
  auto fields = nlohmann::ordered_json::object();
  auto status = nlohmann::ordered_json::object();
  std::vector<std::string> problems;
  for (const auto& sample : snapshot.fields) {
    const auto& field = map.field(sample.id);
    nlohmann::ordered_json entry;
    if (field.scale == 1) {
      entry["value"] = sample.raw;
    } else {
      entry["value"] = sample.value;
    }
    entry["unit"] = field.unit;
    entry["time"] = core::rfc3339(sample.wall_time);
    entry["time_ms"] = core::epoch_ms(sample.wall_time);
    entry["max_age_s"] = std::chrono::duration<double>(model::max_age(field, intervals)).count();
    if (field.type == protocol::ValueType::Enum || field.type == protocol::ValueType::Bitfield) {
      entry["text"] = protocol::describe_value(map, field, sample.raw);
    }
    fields[field.name] = std::move(entry);
    if (auto decoded =
            protocol::decode_status(map, field, static_cast<std::uint16_t>(sample.words[0]))) {
      // Named as in MQTT and InfluxDB: the charging and discharging words both have
      // "input_voltage" and "fault".
      for (const auto& state : decoded->states)
        status[protocol::status_state_key(field.name, state.key)] = state.meaning;
      for (const auto& flag : decoded->flags) {
        if (flag.problem) status[protocol::status_flag_key(field.name, flag.key)] = flag.set;
      }
      for (auto& p : decoded->problems())
        problems.push_back(std::move(p));
    }
  }
  out["fields"] = std::move(fields);
  status["problems"] = problems;
  out["status"] = std::move(status);
  auto missing = nlohmann::ordered_json::object();
  for (const auto& m : snapshot.missing) {
    missing[map.field(m.id).name] = fmt::format("{}: {}", model::to_string(m.why), m.detail);
  }
  out["missing"] = std::move(missing);
  return out;
}

nlohmann::ordered_json site_totals_json(const model::SiteTotals& totals) {
  nlohmann::ordered_json out{{"site", totals.site},
                             {"complete", totals.complete},
                             {"members", totals.members},
                             {"missing_members", totals.missing_members},
                             {"left_out", totals.left_out},
                             {"time", core::rfc3339(totals.time)},
                             {"time_ms", core::epoch_ms(totals.time)}};
  auto values = nlohmann::ordered_json::object();
  for (const auto& [name, value] : totals.values) {
    values[name] = {{"value", value}, {"unit", model::site_field_unit(name).value_or("")}};
  }
  out["values"] = std::move(values);
  return out;
}

}  // namespace tracermon::format
