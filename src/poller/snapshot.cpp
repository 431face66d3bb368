#include "poller/snapshot.hpp"

#include <algorithm>

#include "protocol/decode.hpp"

namespace tracermon::poller {

const char* to_string(Health health) {
  switch (health) {
    case Health::Unknown:
      return "unknown";
    case Health::Online:
      return "online";
    case Health::Degraded:
      return "degraded";
    case Health::Offline:
      return "offline";
  }
  return "unknown";
}

const char* to_string(Missing why) {
  switch (why) {
    case Missing::ReadFailed:
      return "read_failed";
    case Missing::Rejected:
      return "rejected";
    case Missing::Unsupported:
      return "unsupported";
  }
  return "read_failed";
}

FieldSample make_sample(const protocol::Field& field, const device::FieldValue& value,
                        WallTime wall) {
  FieldSample sample;
  sample.id = value.id;
  sample.word_count = static_cast<std::uint8_t>(std::min<std::size_t>(value.words.size(), 2));
  std::copy_n(value.words.begin(), sample.word_count, sample.words.begin());
  sample.raw = value.raw;
  sample.value = protocol::scaled_value(field, value.raw);
  sample.read_at = value.read_at;
  sample.wall_time = wall;
  return sample;
}

void sort_by_field(std::vector<FieldSample>& fields) {
  std::sort(fields.begin(), fields.end(),
            [](const FieldSample& a, const FieldSample& b) { return a.id < b.id; });
}

const FieldSample* DeviceSnapshot::find(protocol::FieldId id) const {
  auto it = std::lower_bound(fields.begin(), fields.end(), id,
                             [](const FieldSample& s, protocol::FieldId v) { return s.id < v; });
  return it != fields.end() && it->id == id ? &*it : nullptr;
}

std::optional<double> DeviceSnapshot::value(const protocol::RegisterMap& map,
                                            std::string_view name) const {
  const auto* field = map.find(name);
  if (field == nullptr) return std::nullopt;
  const auto* sample = find(field->id);
  if (sample == nullptr) return std::nullopt;
  return sample->value;
}

}  // namespace tracermon::poller
