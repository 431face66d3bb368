#pragma once
// Snapshots for the app/web/sink tests: fields named as in registers.csv, values given as the
// raw integer a device would send (13.80 V is 1380), scaled here by the CSV's scale.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::test {

inline const protocol::RegisterMap& map() {
  return protocol::RegisterMap::builtin();
}

inline const protocol::Field& field(std::string_view name) {
  const auto* found = map().find(name);
  if (found == nullptr) throw std::invalid_argument("no field " + std::string(name));
  return *found;
}

inline protocol::FieldId id_of(std::string_view name) {
  return field(name).id;
}

inline model::FieldSample sample(std::string_view name, std::int64_t raw,
                                 core::SteadyTime read_at = {}) {
  const auto& f = field(name);
  model::FieldSample s;
  s.id = f.id;
  s.raw = raw;
  s.words[0] = static_cast<std::uint16_t>(raw & 0xFFFF);
  s.words[1] = static_cast<std::uint16_t>((raw >> 16) & 0xFFFF);
  s.word_count = static_cast<std::uint8_t>(f.width());
  s.value = static_cast<double>(raw) / static_cast<double>(f.scale);
  s.read_at = read_at;
  s.wall_time = core::WallTime{} + (read_at - core::SteadyTime{});
  return s;
}

// A snapshot of `device`, its fields in map order as the bus worker hands them over.
inline model::DeviceSnapshot snapshot(std::string device, std::uint8_t unit,
                                      std::vector<model::FieldSample> fields) {
  model::DeviceSnapshot s;
  s.device = std::move(device);
  s.bus = "bus1";
  s.unit = unit;
  s.health = model::Health::Online;
  std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  // The cycle ends with its last read: the snapshot's times are its newest field's.
  for (const auto& f : fields) {
    s.time = std::max(s.time, f.wall_time);
    s.steady = std::max(s.steady, f.read_at);
  }
  s.fields = std::move(fields);
  return s;
}

}  // namespace tracermon::test
