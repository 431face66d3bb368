#pragma once
// The live view: the latest known value of every field of every device, each with its own read
// time, and the latest site totals (as the API shows them). The daemon merges every cycle into
// it before its sinks see the cycle; the API, /metrics and the sinks read it. Thread-safe; every
// view handed out is immutable.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/snapshot.hpp"

namespace tracermon::model {

class LiveState {
 public:
  // Merges a cycle's snapshot into the device's latest view and returns that view: fields not
  // read this cycle keep their older value and older read time; a failed read never erases
  // nor refreshes a value.
  model::SnapshotPtr merge(const model::DeviceSnapshot& cycle);

  void set_site(const std::string& site, nlohmann::ordered_json totals);

  [[nodiscard]] std::vector<model::SnapshotPtr> devices() const;  // in first-seen order
  [[nodiscard]] model::SnapshotPtr device(const std::string& name) const;
  [[nodiscard]] std::map<std::string, nlohmann::ordered_json> sites() const;

 private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_order;
  std::map<std::string, model::SnapshotPtr> m_devices;
  std::map<std::string, nlohmann::ordered_json> m_sites;
};

}  // namespace tracermon::model
