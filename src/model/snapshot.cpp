#include "model/snapshot.hpp"

#include <algorithm>

namespace tracermon::model {

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

}  // namespace tracermon::model
