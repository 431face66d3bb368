#pragma once
// What the web layer may see of the running daemon: read-only views, no handle on a bus.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/device_status.hpp"
#include "model/live_state.hpp"
#include "model/output_status.hpp"
#include "model/poll_intervals.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::store {
class SnapshotStore;
}
namespace tracermon::control {
class ControlService;
}

namespace tracermon::web {

struct DaemonView {
  const protocol::RegisterMap* map = nullptr;
  const model::LiveState* live = nullptr;
  std::function<std::vector<model::BusStatus>()> buses;
  const store::SnapshotStore* store = nullptr;  // null when the store is off
  model::PollIntervals intervals;
  // Daemon-wide facts for /api/v1/status: version, uptime, store state, clock jumps.
  std::function<nlohmann::ordered_json()> daemon_status;
  // The network outputs (MQTT, InfluxDB); empty when none is configured.
  std::function<std::vector<model::OutputStatus>()> outputs;
  // Writes (/api/v1/control/): null unless [control] enabled = true; every request must carry
  // `Authorization: Bearer <control_token>`.
  control::ControlService* control = nullptr;
  std::string control_token;
};

}  // namespace tracermon::web
