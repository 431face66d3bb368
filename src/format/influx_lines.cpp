#include "format/influx_lines.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "format/counters.hpp"
#include "format/ha_discovery.hpp"
#include "protocol/decode.hpp"

namespace tracermon::format {
namespace {

using protocol::Field;
using protocol::ValueType;

constexpr std::string_view k_measurement_special = ", ";
constexpr std::string_view k_key_special = ",= ";  // tag keys, tag values, field keys
constexpr std::string_view k_string_special = "\"\\";

// The clock words are not values, and coils are switches the daemon does not poll.
bool written_group(std::string_view group) {
  return group != "rtc" && group != "coils";
}

void append_escaped(std::string& out, std::string_view text, std::string_view special) {
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      out += ' ';  // no escape exists for a line break: it would end the line
      continue;
    }
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
}

std::int64_t timestamp(core::WallTime time, InfluxPrecision precision) {
  using namespace std::chrono;
  auto since = time.time_since_epoch();
  switch (precision) {
    case InfluxPrecision::Seconds:
      return floor<seconds>(since).count();
    case InfluxPrecision::Milliseconds:
      return floor<milliseconds>(since).count();
    case InfluxPrecision::Microseconds:
      return floor<microseconds>(since).count();
    case InfluxPrecision::Nanoseconds:
      break;
  }
  return floor<nanoseconds>(since).count();
}

// Counters are unsigned; InfluxDB 1.x has no unsigned type, and no counter gets near 2^63.
std::int64_t clamp_to_int(std::uint64_t value) {
  constexpr auto k_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(value, k_max));
}

// One line being built: measurement and tags first, then fields; finished only with a field.
class LineBuilder {
 public:
  explicit LineBuilder(std::string_view measurement) {
    append_escaped(m_head, measurement, k_measurement_special);
  }

  // An empty value cannot be written (line protocol has no empty tag): the tag is left out.
  void tag(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    m_head += ',';
    append_escaped(m_head, key, k_key_special);
    m_head += '=';
    append_escaped(m_head, value, k_key_special);
  }

  void float_field(std::string_view key, double value) {
    if (!std::isfinite(value)) return;
    start_field(key);
    fmt::format_to(std::back_inserter(m_fields), "{}", value);
  }
  void int_field(std::string_view key, std::int64_t value) {
    start_field(key);
    fmt::format_to(std::back_inserter(m_fields), "{}i", value);
  }
  void bool_field(std::string_view key, bool value) {
    start_field(key);
    m_fields += value ? "true" : "false";
  }
  void string_field(std::string_view key, std::string_view value) {
    start_field(key);
    m_fields += '"';
    append_escaped(m_fields, value, k_string_special);
    m_fields += '"';
  }

  void finish(std::string& out, std::int64_t time) const {
    if (m_fields.empty()) return;
    out += m_head;
    out += ' ';
    out += m_fields;
    fmt::format_to(std::back_inserter(out), " {}\n", time);
  }

 private:
  void start_field(std::string_view key) {
    if (!m_fields.empty()) m_fields += ',';
    append_escaped(m_fields, key, k_key_special);
    m_fields += '=';
  }

  std::string m_head;
  std::string m_fields;
};

std::string measurement_name(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return fmt::format("{}_{}", prefix, name);
}

void add_device_tags(LineBuilder& line, const model::DeviceSnapshot& snapshot) {
  line.tag("bus", snapshot.bus);
  line.tag("device", snapshot.device);
  line.tag("device_id", std::to_string(snapshot.unit));
  line.tag("site", snapshot.site);
}

// Flags and states named as in the MQTT state message (status_flag_key, status_state_key):
// one name per value across every output.
void add_status_fields(const protocol::RegisterMap& map, const Field& field, std::uint16_t word,
                       LineBuilder& line) {
  auto decoded = protocol::decode_status(map, field, word);
  if (!decoded) return;
  for (const auto& flag : decoded->flags)
    line.bool_field(status_flag_key(field.name, flag.key), flag.set);
  for (const auto& state : decoded->states)
    line.string_field(status_state_key(field.name, state.key), state.meaning);
}

void add_field(const protocol::RegisterMap& map, const Field& field,
               const model::FieldSample& sample, LineBuilder& line) {
  switch (field.type) {
    case ValueType::Bitfield:
      // Status words, and packed words such as the load timers' hour/minute.
      line.int_field(field.name, sample.raw);
      add_status_fields(map, field, static_cast<std::uint16_t>(sample.raw), line);
      return;
    case ValueType::Enum:
      if (field.is_bit()) {
        line.bool_field(field.name, sample.raw != 0);
      } else {
        line.int_field(field.name, sample.raw);
      }
      return;
    case ValueType::U16:
    case ValueType::S16:
    case ValueType::U32LoHi:
    case ValueType::S32LoHi:
      break;
  }
  line.float_field(field.name, sample.value);  // always a float, so a whole value keeps its type
}

struct LegacyField {
  std::string_view name;
  std::string_view source;  // registers.csv name
  bool summed;              // over every member; else the first member's
  double divisor;
};

constexpr std::array<LegacyField, 13> k_legacy_fields = {{
    {"PVvolt", "pv_voltage", false, 1},
    {"PVamps", "pv_current", false, 1},
    {"BAvolt", "battery_voltage", false, 1},
    {"BAamps", "battery_charging_current", false, 1},
    {"BAperc", "battery_soc", false, 100},  // the old tool wrote a fraction
    {"DCvolt", "load_voltage", false, 1},
    {"DCamps", "load_current", false, 1},
    {"PVwatt", "pv_power", true, 1},
    {"DCwatt", "load_power", true, 1},
    {"PVkwh", "generated_energy_total", true, 1},
    {"DCkwh", "consumed_energy_total", true, 1},
    {"PVkwh2d", "generated_energy_today", true, 1},
    {"DCkwh2d", "consumed_energy_today", true, 1},
}};

}  // namespace

std::optional<InfluxPrecision> parse_influx_precision(std::string_view text) {
  for (auto precision : {InfluxPrecision::Seconds, InfluxPrecision::Milliseconds,
                         InfluxPrecision::Microseconds, InfluxPrecision::Nanoseconds}) {
    if (text == to_string(precision)) return precision;
  }
  return std::nullopt;
}

std::string_view to_string(InfluxPrecision precision) {
  switch (precision) {
    case InfluxPrecision::Seconds:
      return "s";
    case InfluxPrecision::Milliseconds:
      return "ms";
    case InfluxPrecision::Microseconds:
      return "us";
    case InfluxPrecision::Nanoseconds:
      break;
  }
  return "ns";
}

std::string device_lines(const protocol::RegisterMap& map, const model::DeviceSnapshot& snapshot,
                         std::string_view prefix, InfluxPrecision precision) {
  struct GroupLine {
    std::string_view group;
    LineBuilder line;
  };
  std::vector<GroupLine> groups;  // in the order the groups first appear (map order)
  for (const auto& sample : snapshot.fields) {
    if (sample.id >= map.fields().size()) continue;
    const auto& field = map.field(sample.id);
    if (!written_group(field.group)) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const GroupLine& g) { return g.group == field.group; });
    if (it == groups.end()) {
      groups.push_back({field.group, LineBuilder(measurement_name(prefix, field.group))});
      it = std::prev(groups.end());
      add_device_tags(it->line, snapshot);
    }
    add_field(map, field, sample, it->line);
  }
  std::string out;
  auto time = timestamp(snapshot.time, precision);
  for (const auto& group : groups)
    group.line.finish(out, time);
  return out;
}

std::string site_lines(const model::SiteTotals& totals, std::string_view prefix,
                       InfluxPrecision precision) {
  LineBuilder line(measurement_name(prefix, "site"));
  line.tag("site", totals.site);
  for (const auto& [name, value] : totals.values)
    line.float_field(name, value);
  std::string out;
  line.finish(out, timestamp(totals.time, precision));
  return out;
}

std::string comm_lines(const model::DeviceStatus& status, const model::DeviceSnapshot& cycle,
                       std::string_view prefix, InfluxPrecision precision) {
  LineBuilder line(measurement_name(prefix, "comm"));
  add_device_tags(line, cycle);
  const auto& c = status.counters;
  for (const auto& counter : device_counters()) {
    if (counter.in_comm_line) line.int_field(counter.key, clamp_to_int(c.*counter.member));
  }
  for (const auto& latency : device_latencies()) {
    if (latency.in_comm_line) {
      line.float_field(fmt::format("latency_ms_{}", latency.key), c.*latency.member);
    }
  }
  line.string_field("health", model::to_string(status.health));
  std::string out;
  line.finish(out, timestamp(cycle.time, precision));
  return out;
}

std::string legacy_line(const protocol::RegisterMap& map,
                        std::span<const model::SnapshotPtr> members, core::SteadyTime now,
                        std::chrono::milliseconds max_age, std::string_view measurement,
                        InfluxPrecision precision) {
  auto fresh = [&](const model::SnapshotPtr& member,
                   protocol::FieldId id) -> const model::FieldSample* {
    if (!member) return nullptr;
    const auto* sample = member->find(id);
    if (sample == nullptr || now - sample->read_at > max_age) return nullptr;
    return sample;
  };

  LineBuilder line(measurement);
  core::WallTime newest{};
  bool any = false;
  for (const auto& spec : k_legacy_fields) {
    const auto* field = map.find(spec.source);
    if (field == nullptr || members.empty()) continue;
    auto used = spec.summed ? members : members.first(1);
    // Summed as the devices' integers, scaled once: 3048.47, not 3048.4700000000003.
    std::int64_t raw = 0;
    core::WallTime time{};
    bool complete = true;
    for (const auto& member : used) {
      const auto* sample = fresh(member, field->id);
      if (sample == nullptr) {
        complete = false;
        break;
      }
      raw += sample->raw;
      time = std::max(time, member->time);  // the cycle's time, as the store files it
    }
    double value = static_cast<double>(raw) / static_cast<double>(field->scale) / spec.divisor;
    if (!complete || !std::isfinite(value)) continue;
    line.float_field(spec.name, value);
    newest = any ? std::max(newest, time) : time;
    any = true;
  }
  std::string out;
  if (any) line.finish(out, timestamp(newest, precision));
  return out;
}

}  // namespace tracermon::format
