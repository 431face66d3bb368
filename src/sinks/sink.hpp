#pragma once
// What consumes the daemon's cycles: the store, energy accounting, files, MQTT, InfluxDB, the
// dashboard's live events (and later alerts). Every consumer is one Sink; the daemon builds
// them from the configuration (app/daemon_sinks.cpp) and a SinkFanout hands each of them every
// cycle and site total, in order, on a thread of its own.

#include <optional>
#include <string_view>

#include "model/device_status.hpp"
#include "model/live_state.hpp"
#include "model/site_totals.hpp"
#include "model/snapshot.hpp"
#include "sinks/output_queue.hpp"

namespace tracermon::sinks {

// One device's poll cycle as the sinks see it.
struct CycleEvent {
  model::SnapshotPtr cycle;   // what this cycle read (only fresh values; failures listed)
  model::SnapshotPtr latest;  // merged with earlier cycles: the device's live view
  std::optional<model::DeviceStatus> status;  // health and counters after the cycle
  const model::LiveState* live = nullptr;     // every device's live view (thread-safe)
};

class Sink {
 public:
  Sink() = default;
  virtual ~Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // A short name for logs and status: "store", "mqtt".
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Before the first cycle (connections, threads).
  virtual void start() {}
  // After every device cycle. May block or throw: the fan-out isolates it from the bus and the
  // other sinks.
  virtual void on_cycle(const CycleEvent& event) = 0;
  // After the last member of a site had its cycle; `totals.time` is the wall time filed.
  virtual void on_site(const model::SiteTotals& /*totals*/) {}
  // Outputs with a far end (MQTT, InfluxDB) tell how delivery goes; the rest have nothing to say.
  [[nodiscard]] virtual std::optional<OutputStatus> status() const { return std::nullopt; }
  // After the last event: flush, save, disconnect. Bounded in time.
  virtual void stop() {}
};

}  // namespace tracermon::sinks
