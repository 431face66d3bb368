#include "model/live_state.hpp"

#include <algorithm>

namespace tracermon::model {

SnapshotPtr LiveState::merge(const DeviceSnapshot& cycle) {
  std::lock_guard lock(m_mutex);
  auto [it, fresh] = m_devices.try_emplace(cycle.device);
  if (fresh) m_order.push_back(cycle.device);
  auto merged = std::make_shared<DeviceSnapshot>(cycle);
  merged->fields.clear();
  const auto* previous = it->second.get();
  // Both lists are sorted by field id: a merge keeps the newer sample of each field.
  auto a = previous != nullptr ? previous->fields.begin() : cycle.fields.end();
  auto a_end = previous != nullptr ? previous->fields.end() : cycle.fields.end();
  auto b = cycle.fields.begin();
  while (a != a_end || b != cycle.fields.end()) {
    if (b == cycle.fields.end() || (a != a_end && a->id < b->id)) {
      merged->fields.push_back(*a++);
    } else {
      if (a != a_end && a->id == b->id) ++a;
      merged->fields.push_back(*b++);
    }
  }
  it->second = merged;
  return merged;
}

void LiveState::set_site(const std::string& site, nlohmann::ordered_json totals) {
  std::lock_guard lock(m_mutex);
  m_sites[site] = std::move(totals);
}

std::vector<SnapshotPtr> LiveState::devices() const {
  std::lock_guard lock(m_mutex);
  std::vector<SnapshotPtr> out;
  out.reserve(m_order.size());
  for (const auto& name : m_order)
    out.push_back(m_devices.at(name));
  return out;
}

SnapshotPtr LiveState::device(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  auto it = m_devices.find(name);
  return it == m_devices.end() ? nullptr : it->second;
}

std::map<std::string, nlohmann::ordered_json> LiveState::sites() const {
  std::lock_guard lock(m_mutex);
  return m_sites;
}

}  // namespace tracermon::model
